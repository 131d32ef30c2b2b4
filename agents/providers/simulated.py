"""A provider wrapper that adds latency and failures: for benchmarks and fault-injection tests.

It wraps a real provider (normally ``offline``), so outputs stay real; it only
waits ``latency`` seconds per call and fails a given share of calls. Which call
fails is decided by hashing the company, the operation and how many times this
wrapper was asked for it, so a run is reproducible.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field

import anyio

from ..campaign import Campaign
from ..errors import BadRequestError, ServerError
from ..models import Analysis, Company, CompanyProfile
from ..website import WebPage
from .base import Draft, Provider, ProviderWrapper

__all__ = ["SimulatedProvider"]


@dataclass
class SimulatedProvider(ProviderWrapper):
    inner: Provider
    latency: float = 0.0
    failure_rate: float = 0.0
    """Share of calls that fail with a retryable server error."""
    permanent_failure_rate: float = 0.0
    """Share of companies whose calls always fail with a permanent error."""
    seed: str = "salesbus"
    _calls: Counter[str] = field(default_factory=Counter, repr=False)

    async def research(
        self, company: Company, page: WebPage | None, campaign: Campaign
    ) -> CompanyProfile:
        await self._call("research", company.key)
        return await self.inner.research(company, page, campaign)

    async def analyze(self, profile: CompanyProfile, campaign: Campaign) -> Analysis:
        await self._call("analyze", profile.company.key)
        return await self.inner.analyze(profile, campaign)

    async def personalize(
        self,
        profile: CompanyProfile,
        analysis: Analysis,
        campaign: Campaign,
        revision_notes: list[str] | None = None,
    ) -> Draft:
        await self._call("personalize", profile.company.key)
        return await self.inner.personalize(profile, analysis, campaign, revision_notes)

    async def _call(self, operation: str, key: str) -> None:
        if self.latency:
            await anyio.sleep(self.latency)
        if self._share(f"permanent/{key}") < self.permanent_failure_rate:
            raise BadRequestError(f"simulated permanent failure for {key}")
        self._calls[f"{operation}/{key}"] += 1
        nth = self._calls[f"{operation}/{key}"]
        if self._share(f"{operation}/{key}/{nth}") < self.failure_rate:
            raise ServerError(f"simulated server error on {operation} call {nth}")

    def _share(self, text: str) -> float:
        digest = hashlib.blake2b(f"{self.seed}/{text}".encode(), digest_size=8).digest()
        return int.from_bytes(digest) / 2**64
