"""Whole batches on Claude against a loopback API that enforces a sliding-window rate limit.

The window is scaled down (100 requests per 5 s, reported as the API does: 1,200 a
minute) so that a test sees several windows of traffic in seconds; a short window
is the stricter test, since any burst shows in it.
"""

from __future__ import annotations

import gc
import itertools
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from salesbus.agents.models import Company
from salesbus.agents.providers.anthropic import AnthropicProvider
from salesbus.orchestrator.embed import Pipeline
from salesbus.orchestrator.runner import RunSettings
from tests.fakes.anthropic_server import (
    FakeAnthropicServer,
    RateLimits,
    RecordedRequest,
    Reply,
    Responder,
    pipeline_responder,
)

from .helpers import example_campaign

pytestmark = pytest.mark.anyio

API_KEY = "sk-ant-test-ratelimit-0123456789"
WINDOW_S = 5.0
LATENCY_S = 0.05


def companies(count: int) -> list[Company]:
    return [
        Company(
            name=f"Freight {index}",
            domain=f"freight{index}.example",
            industry="Logistics",
            employees=300,
            country="Germany",
        )
        for index in range(count)
    ]


def slow_responder() -> Responder:
    answer = pipeline_responder()

    def respond(request: RecordedRequest) -> Reply:
        return answer(request).after(LATENCY_S)

    return respond


@pytest.fixture(autouse=True)
def _no_collection_of_the_test_harness() -> Iterator[None]:
    """Keep what pytest and earlier tests left in memory out of the cyclic collector.

    A full collection of that heap stops the event loop for about half a second
    here, which is a pause of this harness, not of the limiter under test.
    """
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


@pytest.fixture
def limits() -> RateLimits:
    return RateLimits(100, window=WINDOW_S)


@pytest.fixture
def server(limits: RateLimits) -> Iterator[FakeAnthropicServer]:
    responder = slow_responder()
    with FakeAnthropicServer(api_key=API_KEY, responder=responder, rate_limits=limits) as fake:
        yield fake


async def run(server: FakeAnthropicServer, tmp_path: Path, count: int) -> set[str]:
    provider = AnthropicProvider(api_key=API_KEY, base_url=server.base_url, timeout=10)
    settings = RunSettings(llm="anthropic", fetch_websites=False, retry_base_delay=0.2)
    async with Pipeline(
        example_campaign(), db=tmp_path / "s.db", settings=settings, provider=provider
    ) as pipeline:
        results = await pipeline.run(companies(count))
    return {result.state for result in results}


async def test_default_flags_use_nearly_all_of_the_limit_with_few_429s_and_no_failure(
    server: FakeAnthropicServer, limits: RateLimits, tmp_path: Path
) -> None:
    limits.set_requests(50)  # 600 a minute: a pace this shared test machine keeps under load
    states = await run(server, tmp_path, 60)

    accepted, refused = limits.accepted, limits.refused
    # While work was waiting: after the cautious start's first window, until the last
    # tenth of the calls, when too few companies are left to keep up the pace.
    busy = accepted[: len(accepted) * 9 // 10]
    busy = [at for at in busy if at >= accepted[0] + WINDOW_S]
    used = (len(busy) - 1) / ((busy[-1] - busy[0]) * 50 / WINDOW_S)
    assert "failed" not in states
    assert len(accepted) >= 60 * 3
    gaps = [
        (round(a - busy[0], 2), round(b - a, 2))
        for a, b in itertools.pairwise(busy)
        if b - a > 0.25
    ]
    assert used >= 0.95, f"{used:.1%} of the limit used; refused {len(refused)}; gaps {gaps}"
    assert len(refused) <= 0.03 * (len(accepted) + len(refused))


async def test_a_server_that_lowers_its_limit_mid_run_is_followed(
    server: FakeAnthropicServer, limits: RateLimits, tmp_path: Path
) -> None:
    lowered_at: list[float] = []

    def lower() -> None:
        limits.set_requests(40)
        lowered_at.append(limits.accepted[-1])

    timer = threading.Timer(3.0, lower)
    timer.start()
    try:
        states = await run(server, tmp_path, 36)
    finally:
        timer.cancel()

    assert "failed" not in states
    settled = [at for at in limits.accepted if at >= lowered_at[0] + WINDOW_S]
    assert len(settled) > 20
    rate = (len(settled) - 1) / (settled[-1] - settled[0])
    assert 0.9 * 40 / WINDOW_S <= rate <= 40 / WINDOW_S * 1.02
    refused = len(limits.refused)
    assert refused <= 0.05 * (len(limits.accepted) + refused)
