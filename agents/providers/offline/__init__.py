"""The offline provider: a deterministic rules engine that needs no model and no network.

It is the default when no API key is set and what the test suite runs, so it
does the real job from what it is given: it reads the lead row and the website
page into sourced facts, scores the profile against the campaign's ICP, draws
pain points and opportunities from :mod:`salesbus.agents.knowledge` (raised or
added by the buying signals the facts reveal), and writes outreach from
templates filled with the company's own facts and the seller's value
propositions. Every claim cites fact ids; the same input always gives the same
output (no randomness, no clock, no set ordering); every output says it was
written by rules, not by a language model.
"""

from __future__ import annotations

from ...campaign import Campaign
from ...models import Analysis, Company, CompanyProfile
from ...usage import Usage, record_usage
from ...website import WebPage
from ..base import Draft
from .common import OPT_OUT_LINE, RULES_LABEL
from .findings import analyze_profile
from .messages import write_draft
from .research import research_company

__all__ = ["OPT_OUT_LINE", "RULES_LABEL", "OfflineProvider"]


class OfflineProvider:
    """Research, analysis and personalization by rules: free, instant and repeatable."""

    name: str = "offline"
    model: str = "rules-v1"

    async def research(
        self, company: Company, page: WebPage | None, campaign: Campaign
    ) -> CompanyProfile:
        record_usage(Usage(calls=1))
        return research_company(company, page, campaign)

    async def analyze(self, profile: CompanyProfile, campaign: Campaign) -> Analysis:
        record_usage(Usage(calls=1))
        return analyze_profile(profile, campaign)

    async def personalize(
        self,
        profile: CompanyProfile,
        analysis: Analysis,
        campaign: Campaign,
        revision_notes: list[str] | None = None,
    ) -> Draft:
        record_usage(Usage(calls=1))
        return write_draft(profile, analysis, campaign, revision_notes)

    async def aclose(self) -> None:
        """Nothing to release: no connections are ever opened."""
