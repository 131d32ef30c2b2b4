"""The adaptive limiter learns the account's limits from the API's headers and paces calls."""

from __future__ import annotations

import time

import anyio
import pytest

from salesbus.agents.campaign import Campaign, Seller
from salesbus.agents.errors import RateLimitedError
from salesbus.agents.models import Company
from salesbus.agents.providers.anthropic import AnthropicProvider
from salesbus.agents.providers.limits import TARGET_SHARE, AdaptiveLimiter
from tests.fakes.anthropic_server import (
    FakeAnthropicServer,
    RateLimits,
    Reply,
    TokenCounts,
    research_answer,
)

pytestmark = pytest.mark.anyio

API_KEY = "sk-ant-test-limits-0123456789"
CAMPAIGN = Campaign(
    seller=Seller(
        company="Routewise",
        product="dispatch automation",
        value_propositions=["Plan a day's routes in minutes"],
        sender_name="Sam Carter",
        sender_title="Account Executive",
    )
)
COMPANY = Company(name="Northwind Freight", domain="northwind.example")


def limit_headers(requests: int, remaining: int = 100, **tokens: int) -> dict[str, str]:
    headers = {
        "anthropic-ratelimit-requests-limit": str(requests),
        "anthropic-ratelimit-requests-remaining": str(remaining),
    }
    for kind, limit in tokens.items():
        headers[f"anthropic-ratelimit-{kind.replace('_', '-')}-limit"] = str(limit)
    return headers


async def starts_of(limiter: AdaptiveLimiter, calls: int, hold: float = 0.0) -> list[float]:
    """When each of ``calls`` concurrent callers got through the limiter."""
    starts: list[float] = []

    async def one() -> None:
        async with await limiter.call():
            starts.append(time.monotonic())
            await anyio.sleep(hold)

    async with anyio.create_task_group() as group:
        for _ in range(calls):
            group.start_soon(one)
    return sorted(starts)


async def test_before_the_first_answer_only_one_call_is_in_flight() -> None:
    limiter = AdaptiveLimiter()
    first = await limiter.call()
    with anyio.move_on_after(0.2) as waited:
        await limiter.call()
    assert waited.cancelled_caught  # the second waits for what the first one learns
    limiter.observe(limit_headers(600), latency=0.5)
    await first.__aexit__(None, None, None)
    with anyio.fail_after(1):
        async with await limiter.call():
            pass
    assert limiter.stats.in_flight_cap > 1


async def test_calls_are_paced_at_the_reported_limit() -> None:
    limiter = AdaptiveLimiter()
    limiter.observe(limit_headers(1200), latency=0.05)  # 20 a second

    starts = await starts_of(limiter, 21)

    rate = (len(starts) - 1) / (starts[-1] - starts[0])
    assert 20 * TARGET_SHARE * 0.9 <= rate <= 20


async def test_the_users_caps_stay_caps() -> None:
    limiter = AdaptiveLimiter(requests_per_minute=600, max_concurrent=2)
    limiter.observe(limit_headers(60_000), latency=1.0)  # the API would allow far more

    starts = await starts_of(limiter, 6, hold=0.1)

    assert limiter.stats.in_flight_cap == 2
    assert (starts[-1] - starts[0]) / 5 >= 0.1 * 0.95  # 10 a second at most


async def test_token_limits_pace_calls_too() -> None:
    limiter = AdaptiveLimiter()
    # 6,000 requests but 60,000 input tokens a minute at 1,000 tokens a call: 1 call a second.
    limiter.observe(limit_headers(6000, input_tokens=60_000), latency=0.1, input_tokens=1000)

    assert limiter.stats.requests_per_minute is None
    await starts_of(limiter, 1)
    assert limiter.stats.requests_per_minute == pytest.approx(60 * TARGET_SHARE)


async def test_a_429_pauses_every_caller_until_the_server_has_room() -> None:
    limiter = AdaptiveLimiter()
    limiter.observe(limit_headers(6000), latency=0.05)
    pause = limiter.throttled(limit_headers(6000, remaining=0), retry_after=0.5)
    refused_at = time.monotonic()

    starts = await starts_of(limiter, 5)

    assert 0.5 <= pause <= 0.6  # retry-after, with a little jitter
    assert min(starts) - refused_at >= 0.45
    assert limiter.stats.throttled == 1


async def test_a_long_retry_after_is_bounded() -> None:
    limiter = AdaptiveLimiter()
    assert limiter.throttled({}, retry_after=3600) <= 61


async def test_the_provider_feeds_the_limiter_every_answers_headers() -> None:
    limits = RateLimits(100, window=10, input_tokens=50_000)
    with FakeAnthropicServer(api_key=API_KEY, rate_limits=limits) as server:
        server.enqueue(Reply.json_answer(research_answer(with_website_facts=False)))
        server.enqueue(Reply.error(429, headers={"retry-after": "0"}))
        claude = AnthropicProvider(api_key=API_KEY, base_url=server.base_url, timeout=10)
        try:
            await claude.research(COMPANY, None, CAMPAIGN)
            with pytest.raises(RateLimitedError):
                await claude.research(COMPANY, None, CAMPAIGN)
        finally:
            await claude.aclose()

    stats = claude.limiter.stats
    assert stats.limits == {"requests": 600.0, "input-tokens": 300_000.0}
    assert stats.throttled == 1
    assert stats.calls == 2


async def test_usage_reported_by_the_server_counts_against_the_token_pace() -> None:
    with FakeAnthropicServer(api_key=API_KEY) as server:
        answer = research_answer(with_website_facts=False)
        usage = TokenCounts(input_tokens=3000, output_tokens=100)
        server.enqueue(
            Reply.json_answer(answer, usage=usage, headers=limit_headers(6000, input_tokens=60_000))
        )
        claude = AnthropicProvider(api_key=API_KEY, base_url=server.base_url, timeout=10)
        try:
            await claude.research(COMPANY, None, CAMPAIGN)
        finally:
            await claude.aclose()

    await starts_of(claude.limiter, 1)
    assert claude.limiter.stats.requests_per_minute == pytest.approx(20 * TARGET_SHARE)
