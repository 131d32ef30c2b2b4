"""Research: who is this company? The input row, its website, and the provider's reading."""

from __future__ import annotations

import logging
from typing import Protocol

from .campaign import Campaign
from .errors import WebsiteError
from .events import CompanyResearched, CompanySubmitted
from .providers.base import Provider
from .runtime import Agent, Skip
from .website import WebPage, site_url

__all__ = ["PageFetcher", "ResearchAgent"]

logger = logging.getLogger("salesbus.agents.research")


class PageFetcher(Protocol):
    """What research needs of a website fetcher (:class:`WebsiteFetcher`, or a traced one)."""

    async def fetch(self, url_or_domain: str) -> WebPage: ...


class ResearchAgent(Agent[CompanySubmitted, CompanyResearched]):
    """Turns a submitted company into a profile of sourced facts.

    A company on the campaign's do-not-contact list is skipped before any
    fetch or model call. A website that cannot be read is a warning on the
    profile, not a failure: the input row alone is still worth analysing.
    """

    name = "research"
    consumes = CompanySubmitted
    produces = CompanyResearched

    def __init__(
        self, provider: Provider, campaign: Campaign, fetcher: PageFetcher | None = None
    ) -> None:
        self.provider = provider
        self.campaign = campaign
        self.fetcher = fetcher

    async def handle(self, event: CompanySubmitted) -> CompanyResearched | Skip:
        company = event.company
        blocked = self.campaign.do_not_contact.blocks(company)
        if blocked:
            return Skip(outcome="disqualified", reason=f"suppressed: {blocked}")
        page, warning = await self._read_website(company.website or company.domain)
        profile = await self.provider.research(company, page, self.campaign)
        if warning:
            profile = profile.model_copy(update={"warnings": [*profile.warnings, warning]})
        return event.follow(CompanyResearched, profile=profile)

    async def _read_website(self, address: str | None) -> tuple[WebPage | None, str | None]:
        url = site_url(address) if address else None
        if self.fetcher is None or url is None:
            return None, None
        try:
            return await self.fetcher.fetch(url), None
        except WebsiteError as exc:
            logger.info("website not used: %s", exc)
            return None, f"website not read: {exc.reason}"
