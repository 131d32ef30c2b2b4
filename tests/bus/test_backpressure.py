"""Backpressure: an inbox never holds more than max_pending; a full one makes publish wait."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest

from salesbus.bus import EventBus

from .differences import NATS_PUBLISH
from .events import Tick

pytestmark = pytest.mark.anyio


@pytest.mark.memory_only(NATS_PUBLISH)
async def test_the_pending_bound_is_never_exceeded_and_the_publisher_waits() -> None:
    gate = anyio.Event()
    handled: list[int] = []

    async def handle(event: Tick) -> None:
        await gate.wait()
        handled.append(event.n)

    published = 0

    async def publish_many(bus: EventBus) -> None:
        nonlocal published
        for n in range(50):
            await bus.publish(Tick(n=n))
            published += 1

    async with EventBus() as bus:
        subscription = bus.subscribe(Tick, handle, concurrency=2, max_pending=4)
        async with anyio.create_task_group() as tg:
            tg.start_soon(publish_many, bus)
            await anyio.wait_all_tasks_blocked()
            # Two handlers hold one event each and the inbox is full: the
            # publisher is parked on the fifth queued event.
            assert published == 2 + 4
            assert len(subscription.inbox) == 4
            gate.set()
        await bus.join()

    assert subscription.inbox.high_water == 4
    assert sorted(handled) == list(range(50))


async def test_a_full_inbox_delays_only_publishers_of_its_own_events() -> None:
    from .events import Cat, Dog

    gate = anyio.Event()
    cats: list[str] = []

    async def stuck(event: Dog) -> None:
        await gate.wait()

    async with EventBus() as bus:
        bus.subscribe(Dog, stuck, max_pending=1)
        bus.subscribe(Cat, lambda e: cats.append(e.event_id))
        await bus.publish(Dog())  # taken by the worker
        await bus.publish(Dog())  # fills the inbox
        with anyio.fail_after(2):
            await bus.publish(Cat())
            while not cats:
                await anyio.lowlevel.checkpoint()
        gate.set()
    assert len(cats) == 1


@pytest.mark.memory_only(NATS_PUBLISH)
async def test_a_cancelled_waiting_publisher_does_not_strand_the_others() -> None:
    gate = anyio.Event()
    handled: list[int] = []

    async def handle(event: Tick) -> None:
        await gate.wait()
        handled.append(event.n)

    async with EventBus() as bus:
        bus.subscribe(Tick, handle, max_pending=1)
        await bus.publish(Tick(n=0))  # in the handler
        await bus.publish(Tick(n=1))  # fills the inbox
        async with anyio.create_task_group() as tg:

            async def impatient_publish() -> None:
                with anyio.move_on_after(0.01):
                    await bus.publish(Tick(n=99))

            tg.start_soon(bus.publish, Tick(n=2))
            tg.start_soon(impatient_publish)
            tg.start_soon(bus.publish, Tick(n=3))
            await anyio.sleep(0.05)  # the impatient one gives up while parked
            gate.set()
        with anyio.fail_after(2):
            await bus.join()

    assert 99 not in handled
    assert {0, 1, 2, 3} <= set(handled)
