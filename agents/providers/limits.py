"""One limiter shared by every step's model calls: concurrency and requests per minute.

Provider rate limits apply to the account, not to a step, so research,
analysis and personalization draw from the same budget. Waiting here is
cheaper than being refused with a 429 and retrying.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import anyio

from ..campaign import Campaign
from ..models import Analysis, Company, CompanyProfile
from ..website import WebPage
from .base import Draft, Provider, ProviderWrapper

__all__ = ["LimitedProvider", "RateLimiter"]


class RateLimiter:
    """At most ``per_minute`` acquisitions in any 60-second window, spaced evenly.

    A token bucket refilled continuously, holding at most one second's worth, so
    a burst after an idle spell cannot exceed the server's per-second shape.
    """

    def __init__(self, per_minute: float) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate)
        self._tokens = self.capacity
        self._updated = time.monotonic()
        self._lock = anyio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
                self._updated = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await anyio.sleep((1 - self._tokens) / self.rate)


@dataclass
class LimitedProvider(ProviderWrapper):
    inner: Provider
    max_concurrent: int = 16
    requests_per_minute: float | None = None
    _slots: anyio.CapacityLimiter = field(init=False, repr=False)
    _rate: RateLimiter | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._slots = anyio.CapacityLimiter(self.max_concurrent)
        self._rate = RateLimiter(self.requests_per_minute) if self.requests_per_minute else None

    async def research(
        self, company: Company, page: WebPage | None, campaign: Campaign
    ) -> CompanyProfile:
        async with self._slots:
            await self._pace()
            return await self.inner.research(company, page, campaign)

    async def analyze(self, profile: CompanyProfile, campaign: Campaign) -> Analysis:
        async with self._slots:
            await self._pace()
            return await self.inner.analyze(profile, campaign)

    async def personalize(
        self,
        profile: CompanyProfile,
        analysis: Analysis,
        campaign: Campaign,
        revision_notes: list[str] | None = None,
    ) -> Draft:
        async with self._slots:
            await self._pace()
            return await self.inner.personalize(profile, analysis, campaign, revision_notes)

    async def _pace(self) -> None:
        if self._rate is not None:
            await self._rate.acquire()
