"""Subscriptions end cleanly: unsubscribe finishes what is queued, then the workers go."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest

from salesbus.bus import EventBus

from .events import Tick

pytestmark = pytest.mark.anyio


def _task_count() -> int:
    return len(anyio.get_running_tasks())


async def test_ten_thousand_subscribe_unsubscribe_cycles_leave_no_task_behind() -> None:
    async with EventBus() as bus:
        await anyio.lowlevel.checkpoint()
        before = _task_count()
        seen: list[int] = []
        for n in range(10_000):
            subscription = bus.subscribe(Tick, lambda e: seen.append(e.n), concurrency=2)
            await bus.publish(Tick(n=n))
            bus.unsubscribe(subscription)
            if n % 1000 == 0:
                await subscription.wait_closed()
        await bus.join()
        with anyio.move_on_after(5):  # the last workers exit after their last delivery
            while _task_count() != before:
                await anyio.sleep(0.001)
        assert _task_count() == before
        assert bus.subscriptions == ()
        assert sorted(seen) == list(range(10_000))  # each by its own subscription


async def test_unsubscribe_handles_what_was_queued_then_forgets_the_subscription() -> None:
    handled: list[int] = []

    async def slow(event: Tick) -> None:
        await anyio.sleep(0.001)
        handled.append(event.n)

    async with EventBus() as bus:
        subscription = bus.subscribe(Tick, slow)
        for n in range(5):
            await bus.publish(Tick(n=n))
        bus.unsubscribe(subscription)
        await bus.publish(Tick(n=99))  # after unsubscribe: not routed
        with anyio.fail_after(5):
            await subscription.wait_closed()
        assert handled == [0, 1, 2, 3, 4]
        assert subscription.closed
        assert subscription not in bus.subscriptions
        bus.unsubscribe(subscription)  # twice is harmless


async def test_leaving_a_subscription_block_waits_for_its_deliveries_and_ends_it() -> None:
    handled: list[int] = []

    async def slow(event: Tick) -> None:
        await anyio.sleep(0.001)
        handled.append(event.n)

    async with EventBus() as bus:
        async with bus.subscription(Tick, slow, concurrency=3) as subscription:
            for n in range(6):
                await bus.publish(Tick(n=n))
        assert sorted(handled) == list(range(6))
        assert subscription.closed
        assert bus.subscriptions == ()
        await bus.publish(Tick(n=7))
        await bus.join()
        assert 7 not in handled


async def test_a_subscription_made_and_dropped_before_the_bus_starts_never_runs() -> None:
    bus = EventBus()
    subscription = bus.subscribe(Tick, lambda e: None)
    bus.unsubscribe(subscription)
    assert subscription.closed
    async with bus:
        await bus.publish(Tick(n=1))
    assert bus.subscriptions == ()


async def test_a_once_subscription_handles_one_event_and_drops_the_rest() -> None:
    handled: list[int] = []
    async with EventBus() as bus:
        subscription = bus.subscribe(Tick, lambda e: handled.append(e.n), once=True)
        for n in range(3):
            await bus.publish(Tick(n=n))
        with anyio.fail_after(5):
            await subscription.wait_closed()
        await bus.publish(Tick(n=3))
        await bus.join()
    assert handled == [0]
    assert bus.statistics().outstanding == 0


def test_once_with_more_than_one_worker_is_refused() -> None:
    with pytest.raises(ValueError, match="once"):
        EventBus().subscribe(Tick, lambda e: None, once=True, concurrency=2)


async def test_when_the_bus_closes_every_subscription_counts_as_closed() -> None:
    async with EventBus() as bus:
        subscription = bus.subscribe(Tick, lambda e: None, concurrency=3)
        await bus.publish(Tick(n=1))
    with anyio.fail_after(1):
        await subscription.wait_closed()
    assert subscription.closed
