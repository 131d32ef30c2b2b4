"""Hostile pages cost a run a warning, never its event loop, its memory or its deadline.

Every fetch here runs while a ticker measures how late the event loop wakes it
(the loop's lag) and tracemalloc measures the peak of what this process
allocated. The bounds are the ones the issue set: lag under 100 ms, under
100 MB extra memory; the bombs inflate to twice that.
"""

from __future__ import annotations

import gc
import os
import signal
import time
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio
import pytest

from salesbus.agents.campaign import Campaign, Seller
from salesbus.agents.errors import WebsiteError
from salesbus.agents.events import CompanyResearched, CompanySubmitted
from salesbus.agents.models import Company
from salesbus.agents.providers.offline import OfflineProvider
from salesbus.agents.research import ResearchAgent
from salesbus.agents.website import FetchSettings, WebPage, WebsiteFetcher
from tests.fakes.hostile_web import HostileWebsite

pytestmark = pytest.mark.anyio

SETTINGS = FetchSettings(allow_private=True, deadline=6.0, read_timeout=3.0)
MAX_LAG = 0.100
MAX_EXTRA_BYTES = 100 * 1024 * 1024
TICK = 0.005


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileWebsite]:
    with HostileWebsite() as site:
        yield site


@dataclass
class Watch:
    lag: float = 0.0
    """The longest the loop was late waking the ticker, in seconds."""
    extra_bytes: int = 0
    """Peak memory allocated by this process meanwhile, above where it started."""
    seconds: float = 0.0


@asynccontextmanager
async def watched() -> AsyncIterator[Watch]:
    """Measure the event loop's lag and this process's peak allocations over the block.

    What the test suite left on the heap is collected and frozen first: a full
    garbage collection of a thousand tests' objects is a pause of its own, not
    one the fetch caused.
    """
    watch = Watch()
    gc.collect()
    gc.freeze()
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    started = time.perf_counter()
    try:
        async with anyio.create_task_group() as tg:

            async def tick() -> None:
                while True:
                    before = time.perf_counter()
                    await anyio.sleep(TICK)
                    watch.lag = max(watch.lag, time.perf_counter() - before - TICK)

            tg.start_soon(tick)
            await anyio.sleep(TICK * 2)
            try:
                yield watch
            finally:
                tg.cancel_scope.cancel()
    finally:
        watch.seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        gc.unfreeze()
        watch.extra_bytes = peak - base


async def fetch_watched(
    url: str, settings: FetchSettings = SETTINGS
) -> tuple[WebPage | WebsiteError, Watch]:
    async with WebsiteFetcher(settings) as fetcher:
        # A warm worker process, as in a run: its start-up is not what is measured.
        await fetcher.fetch(url.rsplit("/", 1)[0] + "/latin1-meta")
        async with watched() as watch:
            try:
                result: WebPage | WebsiteError = await fetcher.fetch(url)
            except WebsiteError as exc:
                result = exc
    return result, watch


def assert_harmless(watch: Watch, deadline: float = SETTINGS.deadline) -> None:
    assert watch.lag < MAX_LAG, f"the event loop stalled for {watch.lag * 1000:.0f} ms"
    assert watch.extra_bytes < MAX_EXTRA_BYTES, f"{watch.extra_bytes / 2**20:.0f} MB allocated"
    assert watch.seconds < deadline + 1.0


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/nested", "page too complex (nested more than 500 deep), skipped"),
        ("/nested-utf16", "page too complex (nested more than 500 deep), skipped"),
        ("/wide", "page too complex (more than 60000 tags), skipped"),
        ("/gzip-bomb", "compressed page inflates past 2,000,000 bytes, skipped"),
        ("/deflate-bomb", "compressed page inflates past 2,000,000 bytes, skipped"),
        ("/brotli-bomb", "compressed page inflates past 2,000,000 bytes, skipped"),
        ("/unknown-encoding", "unsupported content encoding: zstd-ish"),
        ("/huge-headers", "response headers too large"),
    ],
)
async def test_a_hostile_page_is_a_warning_without_stalling_the_loop_or_using_memory(
    hostile: HostileWebsite, path: str, reason: str
) -> None:
    result, watch = await fetch_watched(hostile.url(path))
    assert isinstance(result, WebsiteError)
    assert reason in result.reason
    assert_harmless(watch)


async def test_tag_soup_is_read_as_what_it_is_within_the_deadline(
    hostile: HostileWebsite,
) -> None:
    result, watch = await fetch_watched(hostile.url("/tag-soup"))
    assert isinstance(result, WebPage)
    assert result.text.startswith("soup")
    assert_harmless(watch)


async def test_a_slow_drip_ends_at_the_deadline(hostile: HostileWebsite) -> None:
    settings = SETTINGS.model_copy(update={"deadline": 1.5})
    result, watch = await fetch_watched(hostile.url("/drip"), settings)
    assert isinstance(result, WebsiteError)
    assert result.reason == "timed out after 1.5s"
    assert_harmless(watch, deadline=1.5)


async def test_a_parse_still_running_at_the_deadline_is_killed_with_its_worker(
    hostile: HostileWebsite,
) -> None:
    """Without the nesting cap, 100,000 nested divs take the parser minutes: the
    worker process is killed at the deadline and the loop never notices."""
    settings = SETTINGS.model_copy(update={"deadline": 2.0, "max_depth": 10**9, "max_tags": 10**9})
    result, watch = await fetch_watched(hostile.url("/nested"), settings)
    assert isinstance(result, WebsiteError)
    assert result.reason == "timed out after 2s"
    assert_harmless(watch, deadline=2.0)


async def test_a_page_can_be_fetched_again_after_a_worker_was_killed(
    hostile: HostileWebsite,
) -> None:
    settings = SETTINGS.model_copy(update={"deadline": 1.5, "max_depth": 10**9, "max_tags": 10**9})
    async with WebsiteFetcher(settings) as fetcher:
        with pytest.raises(WebsiteError, match="timed out"):
            await fetcher.fetch(hostile.url("/nested"))
        page = await fetcher.fetch(hostile.url("/latin1-meta"))
    assert page.text == "Café Müller"


@pytest.mark.parametrize(
    ("path", "text"),
    [
        # UTF-7 is refused (it can spell markup); the bytes are read as UTF-8.
        ("/utf7", "Hello +ADw-script+AD4-alert(1)+ADw-/script+AD4-"),
        # A label naming a non-text codec is ignored.
        ("/bogus-charset", "Uryyb Jbeyq plain text"),
        # No charset in the header: the <meta charset> decides.
        ("/latin1-meta", "Café Müller"),
        # A byte-order mark wins over the header.
        ("/utf16-bom", "Grüße aus Köln"),
    ],
)
async def test_charset_tricks_decode_to_the_text_a_browser_would_show(
    hostile: HostileWebsite, path: str, text: str
) -> None:
    result, watch = await fetch_watched(hostile.url(path))
    assert isinstance(result, WebPage)
    assert result.text == text
    assert_harmless(watch)


async def test_research_turns_a_hostile_page_into_a_warning_on_the_profile(
    hostile: HostileWebsite,
) -> None:
    campaign = Campaign(
        seller=Seller(
            company="Tallyline",
            product="RevOps",
            value_propositions=["One pipeline view"],
            sender_name="Morgan Ellis",
            sender_title="Account Executive",
        )
    )
    company = Company(name="Bomb Corp", website=hostile.url("/gzip-bomb"))
    async with WebsiteFetcher(SETTINGS) as fetcher:
        agent = ResearchAgent(OfflineProvider(), campaign, fetcher)
        result = await agent.handle(CompanySubmitted(correlation_id="wf-1", company=company))

    assert isinstance(result, CompanyResearched)
    assert result.profile.warnings == [
        "website not read: compressed page inflates past 2,000,000 bytes, skipped"
    ]


def worker_processes() -> list[int]:
    """This process's children: the page parser workers (nothing else runs meanwhile)."""
    children: list[int] = []
    for task in Path("/proc/self/task").iterdir():
        children += [int(pid) for pid in (task / "children").read_text().split()]
    return children


async def test_a_parser_process_killed_from_outside_is_a_warning(hostile: HostileWebsite) -> None:
    settings = SETTINGS.model_copy(update={"deadline": 30.0, "max_depth": 10**9, "max_tags": 10**9})
    async with WebsiteFetcher(settings) as fetcher:
        await fetcher.fetch(hostile.url("/latin1-meta"))  # a worker is running now
        assert worker_processes()

        async def kill_the_parser() -> None:
            await anyio.sleep(0.5)
            for pid in worker_processes():
                os.kill(pid, signal.SIGKILL)

        async with anyio.create_task_group() as tg:
            tg.start_soon(kill_the_parser)
            with pytest.raises(WebsiteError) as caught:
                await fetcher.fetch(hostile.url("/nested"))
        assert caught.value.reason == "the page parser process died"
        page = await fetcher.fetch(hostile.url("/latin1-meta"))  # a new worker takes over
    assert page.text == "Café Müller"


async def test_parser_workers_run_at_a_lower_priority_than_the_event_loop(
    hostile: HostileWebsite,
) -> None:
    async with WebsiteFetcher(SETTINGS) as fetcher:
        await fetcher.fetch(hostile.url("/latin1-meta"))
        ours = os.getpriority(os.PRIO_PROCESS, 0)
        workers = [os.getpriority(os.PRIO_PROCESS, pid) for pid in worker_processes()]
    assert workers
    assert all(niceness == min(ours + 10, 19) for niceness in workers)
