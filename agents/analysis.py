"""Analysis: how well does the company fit, what hurts, and what to say about it."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel

from .campaign import Campaign
from .errors import InvalidOutputError
from .events import AnalysisReady, CompanyResearched
from .models import Analysis
from .providers.base import Provider
from .runtime import Agent

__all__ = ["AnalysisAgent"]


class AnalysisAgent(Agent[CompanyResearched, AnalysisReady]):
    """Scores the profile against the campaign's ICP and finds grounded pain points.

    Every analysis is returned, qualified or not: the decision not to draft is
    personalization's, so the score and its reasons are stored for every lead.
    """

    name = "analysis"
    consumes = CompanyResearched
    produces = AnalysisReady

    def __init__(self, provider: Provider, campaign: Campaign) -> None:
        self.provider = provider
        self.campaign = campaign

    async def handle(self, event: CompanyResearched) -> AnalysisReady:
        analysis = await self.provider.analyze(event.profile, self.campaign)
        _check_citations(analysis, event.profile.fact_ids())
        return event.follow(AnalysisReady, profile=event.profile, analysis=analysis)


def _check_citations(analysis: Analysis, known: set[str]) -> None:
    """Refuse an analysis that cites facts the profile does not have.

    Providers are asked to cite only known ids; this is the guarantee, whatever
    the provider: an ungrounded claim is an invalid output, never a stored one.
    """
    unknown = sorted(set(_cited_ids(analysis)) - known)
    if unknown:
        raise InvalidOutputError(f"analysis cites unknown fact ids: {', '.join(unknown)}")


def _cited_ids(node: object) -> Iterator[str]:
    """Every ``fact_ids`` entry anywhere in a model tree (walked, not dumped to dicts)."""
    if isinstance(node, BaseModel):
        for name, value in node:
            if name == "fact_ids":
                yield from value
            else:
                yield from _cited_ids(value)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _cited_ids(item)
