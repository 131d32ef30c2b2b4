"""One limiter shared by every step's model calls, fed by what the server says.

Provider rate limits apply to the account, not to a step, so research,
analysis and personalization draw from the same budget. Waiting here is
cheaper than being refused with a 429 and retrying.

:class:`AdaptiveLimiter` learns the limits instead of asking the user for them.
The Messages API reports on every response how many requests, input tokens and
output tokens a minute the account may use (``anthropic-ratelimit-*-limit``),
and how many are left. The limiter paces calls
at a share of the tightest of those limits (:data:`TARGET_SHARE`), spaced
evenly (a burst is what a sliding window refuses), and lets as many calls be in
flight as that pace needs given the latency it observes (Little's law, with
headroom). Before the first answer it knows nothing, so it sends one call at a
time. A 429 pauses every caller until the server's ``retry-after`` (bounded,
with jitter so the waiting calls do not return together) and lowers the pace a
little until answers come back clean; a server that lowers its limit mid-run
says so in the next header and is followed at once.

Caps the user gives (``--rpm``, ``--llm-concurrency``) stay caps: the limiter
never goes above them. Providers that report no limits (the offline rules, the
latency simulator) are held only by the caps.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import anyio

from ..campaign import Campaign
from ..models import Analysis, Company, CompanyProfile
from ..website import WebPage
from .base import Draft, Provider, ProviderWrapper

__all__ = ["TARGET_SHARE", "AdaptiveLimiter", "LimitedProvider", "LimiterStats", "RateLimiter"]

TARGET_SHARE = 0.97
"""The share of a reported limit the limiter aims at: close, with room for clock skew."""

_MAX_IN_FLIGHT = 256
"""The most concurrent calls the limiter allows without a user cap."""
_MAX_PAUSE_S = 60.0
"""The longest a 429 pauses everyone, whatever ``retry-after`` says."""
_SPARE_SLOTS = 4
"""Slots beyond what the pace needs: a slot is held while its caller waits for its turn,
and a busy event loop finishes answers late."""
_KINDS = ("requests", "input-tokens", "output-tokens")


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
class LimiterStats:
    """What the limiter has learnt and done, for progress lines and benchmarks."""

    calls: int = 0
    throttled: int = 0
    """429s seen."""
    limits: dict[str, float] = field(default_factory=dict)
    """Per-minute limits by kind as last reported (``requests``, ``input-tokens``…)."""
    in_flight_cap: int = 1
    requests_per_minute: float | None = None
    """The pace in use; ``None`` while unknown (no header seen)."""


class _Call:
    """One acquired slot: released once, whatever happens to the call."""

    __slots__ = ("_limiter", "_released")

    def __init__(self, limiter: AdaptiveLimiter) -> None:
        self._limiter = limiter
        self._released = False

    async def __aenter__(self) -> _Call:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if not self._released:
            self._released = True
            self._limiter._release(self)


class AdaptiveLimiter:
    """Paces model calls from the rate-limit headers the server sends back.

    :param max_concurrent: a cap on calls in flight (``--llm-concurrency``).
    :param requests_per_minute: a cap on the pace (``--rpm``).
    :param fallback_concurrent: calls in flight when the server reports no limits.
    """

    def __init__(
        self,
        *,
        max_concurrent: int | None = None,
        requests_per_minute: float | None = None,
        fallback_concurrent: int = 16,
        rng: random.Random | None = None,
    ) -> None:
        if requests_per_minute is not None and requests_per_minute <= 0:
            raise ValueError("requests_per_minute must be positive")
        if max_concurrent is not None and max_concurrent < 1:
            raise ValueError("max_concurrent must be at least 1")
        self.max_concurrent = max_concurrent
        self.rpm_cap = requests_per_minute
        self.fallback_concurrent = fallback_concurrent
        self.stats = LimiterStats()
        self._rng = rng or random.Random()
        self._slots = anyio.CapacityLimiter(self._cap(1))
        self._pace_lock = anyio.Lock()
        self._last_planned = -math.inf
        self._token_debt = {"input-tokens": 0.0, "output-tokens": 0.0}
        self._paused_until = 0.0
        self._share = 1.0
        """Lowered on each 429, recovered on clean answers: follows limits nobody reports."""
        self._latency: float | None = None
        self._tokens_per_call = {"input-tokens": 0.0, "output-tokens": 0.0}
        self._headers_seen = False
        self._answers = 0

    # -- acquiring ---------------------------------------------------------------------

    async def call(self) -> _Call:
        """Wait for a slot and the pace; ``async with await limiter.call():`` around a call."""
        ticket = _Call(self)
        await self._slots.acquire_on_behalf_of(ticket)
        try:
            await self._pace()
        except BaseException:
            self._slots.release_on_behalf_of(ticket)
            raise
        self.stats.calls += 1
        return ticket

    def _release(self, ticket: _Call) -> None:
        self._slots.release_on_behalf_of(ticket)

    async def _pace(self) -> None:
        """Wait for this call's turn: one interval after the previous call's planned start.

        The interval is read at every turn, so a limit learnt (or lowered) while a
        caller waits applies to that caller. The schedule runs from planned starts,
        not from when callers woke: a busy event loop wakes sleepers late, and up
        to two intervals of lateness is made up. After an idle spell it restarts
        from now: an unused past is no credit for a burst.
        """
        async with self._pace_lock:
            while True:
                interval = self._interval()
                now = time.monotonic()
                start = max(self._last_planned + interval, self._paused_until)
                if start <= now:
                    break
                await anyio.sleep(start - now)
            self._last_planned = start if now - start < 2 * interval else now

    def _interval(self) -> float:
        """Seconds between two starts so that no reported limit (or cap) is passed."""
        per_minute = self._pace_rpm()
        self.stats.requests_per_minute = per_minute
        return 60.0 / per_minute if per_minute else 0.0

    def _pace_rpm(self) -> float | None:
        paces: list[float] = []
        limits = self.stats.limits
        if "requests" in limits:
            paces.append(limits["requests"] * TARGET_SHARE * self._share)
        for kind, per_call in self._tokens_per_call.items():
            if kind in limits and per_call > 0:
                paces.append(limits[kind] * TARGET_SHARE * self._share / per_call)
        if self.rpm_cap is not None:
            paces.append(self.rpm_cap)
        return max(min(paces), 1.0) if paces else None

    # -- learning ----------------------------------------------------------------------

    def observe(
        self,
        headers: Mapping[str, str],
        *,
        latency: float | None = None,
        input_tokens: int = 0,
        output_tokens: int = 0,
    ) -> None:
        """Learn from one answered call: its rate-limit headers, latency and tokens.

        ``input_tokens`` are those that count against the input limit: uncached
        input and cache writes (cache reads do not count on current models).
        """
        self._answers += 1
        self._read_limits(headers)
        if latency is not None:
            last = self._latency
            self._latency = latency if last is None else 0.8 * last + 0.2 * latency
        for kind, tokens in (("input-tokens", input_tokens), ("output-tokens", output_tokens)):
            previous = self._tokens_per_call[kind]
            self._tokens_per_call[kind] = tokens if not previous else 0.9 * previous + 0.1 * tokens
        self._share = min(1.0, self._share + 0.01)
        self._resize()

    def throttled(self, headers: Mapping[str, str], retry_after: float | None) -> float:
        """A 429: every caller waits until the server has room; returns the pause in seconds."""
        self.stats.throttled += 1
        self._read_limits(headers)
        self._share = max(0.5, self._share * 0.9)
        wait = min(retry_after if retry_after is not None else 1.0, _MAX_PAUSE_S)
        wait += self._rng.uniform(0, min(1.0, 0.1 * wait + 0.05))
        self._paused_until = max(self._paused_until, time.monotonic() + wait)
        self._resize()
        return wait

    def _read_limits(self, headers: Mapping[str, str]) -> None:
        now = time.monotonic()
        for kind in _KINDS:
            limit = _number(headers.get(f"anthropic-ratelimit-{kind}-limit"))
            if limit is None or limit <= 0:
                continue
            self._headers_seen = True
            self.stats.limits[kind] = limit
            remaining = _number(headers.get(f"anthropic-ratelimit-{kind}-remaining"))
            if remaining is not None and remaining < 1 and kind == "requests":
                # Nothing left: the next call would be refused before one slot refills
                # (``reset`` is when the whole window is back, far later than that).
                refill = 60.0 / limit
                self._paused_until = max(self._paused_until, now + refill)

    def _resize(self) -> None:
        """Calls in flight: what the pace needs at the observed latency, twice, and spares."""
        per_minute = self._pace_rpm()
        if not self._headers_seen:
            wanted = 1 if self._answers == 0 else self.fallback_concurrent
        elif per_minute is None or self._latency is None:
            wanted = 1
        else:
            wanted = math.ceil(per_minute / 60.0 * self._latency * 2) + _SPARE_SLOTS
        self._slots.total_tokens = self._cap(wanted)
        self.stats.in_flight_cap = int(self._slots.total_tokens)

    def _cap(self, wanted: int) -> int:
        ceiling = self.max_concurrent if self.max_concurrent is not None else _MAX_IN_FLIGHT
        return max(1, min(wanted, ceiling))


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


@dataclass
class LimitedProvider(ProviderWrapper):
    """A provider held by static caps, for providers that report no limits of their own.

    Claude is limited per call inside :class:`~.anthropic.AnthropicProvider` (which
    reads the headers); this wrapper serves the offline rules and the simulator.
    """

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
