"""Failures: a raising handler never stops the bus or other subscribers, and is reported."""

from __future__ import annotations

import logging

import anyio
import anyio.lowlevel
import pytest

from salesbus.bus import EventBus, HandlerFailure

from .events import Tick

pytestmark = pytest.mark.anyio


class Boom(Exception):
    pass


async def test_a_failing_handler_does_not_stop_other_subscribers_or_later_events() -> None:
    healthy: list[int] = []
    failures: list[HandlerFailure] = []

    async def flaky(event: Tick) -> None:
        await anyio.lowlevel.checkpoint()
        if event.n % 2:
            raise Boom(event.n)

    async with EventBus() as bus:
        bus.on_failure(failures.append)
        flaky_sub = bus.subscribe(Tick, flaky, name="flaky")
        bus.subscribe(Tick, lambda e: healthy.append(e.n), name="healthy")
        for n in range(10):
            await bus.publish(Tick(n=n))

    assert healthy == list(range(10))
    assert [f.event.n for f in failures] == [1, 3, 5, 7, 9]  # type: ignore[attr-defined]
    assert all(f.subscription is flaky_sub for f in failures)
    assert all(isinstance(f.exception, Boom) for f in failures)
    assert (flaky_sub.stats.delivered, flaky_sub.stats.failed) == (5, 5)


async def test_a_sync_handler_failure_is_reported_like_an_async_one() -> None:
    failures: list[HandlerFailure] = []

    def explode(event: Tick) -> None:
        raise Boom("sync")

    async with EventBus() as bus:
        bus.on_failure(failures.append)
        bus.subscribe(Tick, explode)
        await bus.publish(Tick(n=1))

    assert [str(f.exception) for f in failures] == ["sync"]


async def test_async_failure_hooks_are_awaited_and_a_raising_hook_is_contained() -> None:
    recorded: list[str] = []

    async def record(failure: HandlerFailure) -> None:
        await anyio.lowlevel.checkpoint()
        recorded.append(type(failure.exception).__name__)

    def broken_hook(failure: HandlerFailure) -> None:
        raise RuntimeError("the hook itself fails")

    async with EventBus() as bus:
        bus.on_failure(broken_hook)
        bus.on_failure(record)
        bus.subscribe(Tick, lambda e: 1 / 0)
        await bus.publish(Tick(n=1))
        await bus.publish(Tick(n=2))

    assert recorded == ["ZeroDivisionError", "ZeroDivisionError"]


async def test_without_hooks_failures_are_logged_with_the_event(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with EventBus() as bus:
        bus.subscribe(Tick, lambda e: 1 / 0, name="divider")
        event = Tick(n=1)
        with caplog.at_level(logging.ERROR, logger="salesbus.bus"):
            await bus.publish(event)
            await bus.join()

    assert "divider" in caplog.text
    assert event.event_id in caplog.text
    assert "ZeroDivisionError" in caplog.text
