"""Shutdown: leaving the bus drains in-flight work within a deadline and reports the rest."""

from __future__ import annotations

import anyio
import pytest

from salesbus.bus import BusClosedError, BusNotRunningError, EventBus

from .differences import NATS_TIMING
from .events import Dog, Tick

pytestmark = pytest.mark.anyio


async def test_leaving_the_bus_waits_for_queued_and_running_handlers() -> None:
    handled: list[int] = []

    async def slow(event: Tick) -> None:
        await anyio.sleep(0.005)
        handled.append(event.n)

    async with EventBus() as bus:
        bus.subscribe(Tick, slow, concurrency=2)
        for n in range(6):
            await bus.publish(Tick(n=n))

    assert sorted(handled) == list(range(6))
    assert bus.last_drain is not None
    assert bus.last_drain.complete


async def test_drain_waits_for_events_that_handlers_publish_meanwhile() -> None:
    dogs: list[int] = []

    async def chain(event: Tick) -> None:
        await anyio.sleep(0.001)
        await bus.publish(Dog(name=str(event.n)))

    async with EventBus() as bus:
        bus.subscribe(Tick, chain)
        bus.subscribe(Dog, lambda e: dogs.append(int(e.name)))
        await bus.publish(Tick(n=1))
        report = await bus.drain(timeout=5)
        assert report.complete
        assert dogs == [1]
        await bus.publish(Tick(n=2))  # a drain that finished in time leaves the bus open
    assert dogs == [1, 2]


async def test_a_drain_past_its_deadline_cancels_running_handlers_and_reports_dropped_ones() -> (
    None
):
    cancelled: list[int] = []
    never = anyio.Event()

    async def stuck(event: Tick) -> None:
        try:
            await never.wait()
        except anyio.get_cancelled_exc_class():
            cancelled.append(event.n)
            raise

    async with EventBus() as bus:
        bus.subscribe(Tick, stuck, name="stuck", concurrency=1)
        for n in range(3):
            await bus.publish(Tick(n=n))
        report = await bus.drain(timeout=0.05)

        assert not report.complete
        assert [(name, e.n) for name, e in report.cancelled] == [("stuck", 0)]  # type: ignore[attr-defined]
        assert [(name, e.n) for name, e in report.dropped] == [("stuck", 1), ("stuck", 2)]  # type: ignore[attr-defined]
        with pytest.raises(BusClosedError):
            await bus.publish(Tick(n=9))

    assert cancelled == [0]
    assert bus.last_drain is report


async def test_the_shutdown_deadline_applies_when_leaving_the_block() -> None:
    never = anyio.Event()

    async def stuck(event: Tick) -> None:
        await never.wait()

    with anyio.fail_after(5):
        async with EventBus(shutdown_timeout=0.02) as bus:
            bus.subscribe(Tick, stuck)
            await bus.publish(Tick(n=1))

    assert bus.last_drain is not None
    assert len(bus.last_drain.cancelled) == 1


@pytest.mark.memory_only(NATS_TIMING)
async def test_an_exception_in_the_block_cancels_the_workers_and_propagates() -> None:
    never = anyio.Event()

    async def stuck(event: Tick) -> None:
        await never.wait()

    with pytest.raises(ValueError, match="app failed"), anyio.fail_after(5):
        async with EventBus() as bus:
            bus.subscribe(Tick, stuck)
            await bus.publish(Tick(n=1))
            await bus.publish(Tick(n=2))
            await anyio.wait_all_tasks_blocked()
            raise ValueError("app failed")

    assert bus.last_drain is not None
    assert (len(bus.last_drain.cancelled), len(bus.last_drain.dropped)) == (1, 1)


async def test_publishing_outside_the_block_is_an_error() -> None:
    bus = EventBus()
    with pytest.raises(BusNotRunningError):
        await bus.publish(Tick(n=1))
    async with bus:
        pass
    with pytest.raises(BusClosedError):
        await bus.publish(Tick(n=1))
