"""Publishing policies: wait, wait with a deadline, or not at all; all or nothing; no deadlock."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest

from salesbus.bus import (
    BusNotRunningError,
    ErrorPolicy,
    Event,
    EventBus,
    HandlerFailure,
    InboxFullError,
    Interceptor,
    MemoryTransport,
    PublishCycleError,
    PublishNext,
    PublishTimeoutError,
)

from .events import Animal, Cat, Dog, Tick

pytestmark = pytest.mark.anyio


async def _taken(bus: EventBus, name: str) -> None:
    """Wait until the subscription's worker has taken its first delivery."""
    with anyio.fail_after(5):
        while not bus.statistics()[name].in_flight:
            await anyio.sleep(0.001)


async def test_publish_nowait_delivers_at_once_when_there_is_room() -> None:
    seen: list[int] = []
    async with EventBus() as bus:
        bus.subscribe(Tick, lambda e: seen.append(e.n))
        bus.publish_nowait(Tick(n=1))
        await bus.join()
    assert seen == [1]


async def test_publish_nowait_raises_when_an_inbox_is_full_and_delivers_to_no_one() -> None:
    gate = anyio.Event()
    roomy: list[int] = []
    cramped: list[int] = []

    async def stuck(event: Tick) -> None:
        await gate.wait()
        cramped.append(event.n)

    async with EventBus() as bus:
        bus.subscribe(Tick, lambda e: roomy.append(e.n), name="roomy")
        bus.subscribe(Tick, stuck, name="cramped", max_pending=1)
        bus.publish_nowait(Tick(n=1))
        await _taken(bus, "cramped")  # the cramped worker takes n=1 and waits
        bus.publish_nowait(Tick(n=2))  # fills the cramped inbox
        with pytest.raises(InboxFullError, match="cramped"):
            bus.publish_nowait(Tick(n=3))
        gate.set()
        await bus.join()
    assert roomy == [1, 2]
    assert cramped == [1, 2]


async def test_publish_nowait_before_the_bus_runs_raises() -> None:
    with pytest.raises(BusNotRunningError):
        EventBus().publish_nowait(Tick(n=1))


async def test_publish_nowait_runs_publish_interceptors() -> None:
    class Stamp(Interceptor):
        async def publish_scope(self, call_next: PublishNext, event: Event) -> None:
            await call_next(event.model_copy(update={"correlation_id": "stamped"}))

    seen: list[str | None] = []
    async with EventBus(interceptors=[Stamp()]) as bus:
        bus.subscribe(Tick, lambda e: seen.append(e.correlation_id))
        bus.publish_nowait(Tick(n=1))
        await bus.join()
    assert seen == ["stamped"]


async def test_publish_with_a_timeout_gives_up_and_delivers_to_no_one() -> None:
    gate = anyio.Event()
    roomy: list[int] = []
    cramped: list[int] = []

    async def stuck(event: Tick) -> None:
        await gate.wait()
        cramped.append(event.n)

    async with EventBus() as bus:
        bus.subscribe(Tick, lambda e: roomy.append(e.n), name="roomy")
        bus.subscribe(Tick, stuck, name="cramped", max_pending=1)
        await bus.publish(Tick(n=1))
        await _taken(bus, "cramped")
        await bus.publish(Tick(n=2))
        with pytest.raises(PublishTimeoutError):
            await bus.publish(Tick(n=3), timeout=0.05)
        gate.set()
        await bus.join()
    assert roomy == [1, 2]
    assert cramped == [1, 2]


async def test_a_fan_out_cancelled_while_waiting_reaches_no_subscriber() -> None:
    gate = anyio.Event()
    dogs: list[str] = []
    cats: list[str] = []

    async def stuck(event: Dog) -> None:
        await gate.wait()
        dogs.append(event.name)

    async with EventBus() as bus:
        bus.subscribe(Cat, lambda e: cats.append(e.name))
        bus.subscribe(Dog, stuck, name="dogs", max_pending=1)
        bus.subscribe(Animal, lambda e: cats.append("animal:" + e.name))
        await bus.publish(Dog(name="a"))
        await _taken(bus, "dogs")
        await bus.publish(Dog(name="b"))
        with anyio.move_on_after(0.05) as scope:
            await bus.publish(Dog(name="c"))  # the Dog inbox is full
        assert scope.cancelled_caught
        gate.set()
        await bus.join()
    assert dogs == ["a", "b"]
    assert cats == ["animal:a", "animal:b"]


async def test_a_publish_cycle_between_two_full_subscriptions_is_caught() -> None:
    """Pings and pongs each publish the other; with full inboxes both would wait forever."""

    class Ping(Event):
        n: int

    class Pong(Event):
        n: int

    failures: list[HandlerFailure] = []
    release = anyio.Event()

    async with EventBus(shutdown_timeout=5) as bus:
        bus.on_failure(failures.append)

        async def on_ping(event: Ping) -> None:
            await release.wait()
            for n in range(1, 5) if event.n == 0 else ():
                await bus.publish(Pong(n=n))

        async def on_pong(event: Pong) -> None:
            await release.wait()
            for n in range(1, 5) if event.n == 0 else ():
                await bus.publish(Ping(n=n))

        bus.subscribe(Ping, on_ping, name="pinger", max_pending=2)
        bus.subscribe(Pong, on_pong, name="ponger", max_pending=2, on_error=ErrorPolicy())
        await bus.publish(Ping(n=0))
        await bus.publish(Pong(n=0))
        await _taken(bus, "pinger")
        await _taken(bus, "ponger")
        release.set()
        with anyio.fail_after(5):
            while not failures:
                await anyio.sleep(0.001)
    assert isinstance(failures[0].exception, PublishCycleError)
    assert {"pinger", "ponger"} <= set(failures[0].exception.cycle)
    assert bus.last_drain is not None
    assert bus.last_drain.complete


async def test_an_outside_publisher_waiting_on_a_busy_handler_is_no_cycle() -> None:
    gate = anyio.Event()
    seen: list[int] = []

    async def slow(event: Tick) -> None:
        await gate.wait()
        seen.append(event.n)

    async with EventBus() as bus:
        bus.subscribe(Tick, slow, max_pending=1)
        async with anyio.create_task_group() as tg:
            for n in range(3):
                tg.start_soon(bus.publish, Tick(n=n))
            await anyio.sleep(0.01)
            gate.set()
        await bus.join()
    assert sorted(seen) == [0, 1, 2]


async def test_a_transport_that_overrides_only_send_sees_every_publish() -> None:
    sent: list[int] = []

    class Recording(MemoryTransport):
        async def send(self, event: Event) -> None:
            assert isinstance(event, Tick)
            sent.append(event.n)
            await super().send(event)

    async with EventBus(transport=Recording()) as bus:
        bus.subscribe(Tick, lambda e: None)
        for n in range(3):
            await bus.publish(Tick(n=n))
    assert sent == [0, 1, 2]


async def test_a_handler_publishing_into_its_own_full_inbox_is_a_cycle_too() -> None:
    failures: list[HandlerFailure] = []

    async with EventBus() as bus:
        bus.on_failure(failures.append)

        async def echo(event: Tick) -> None:
            for n in range(event.n + 1, event.n + 4) if event.n == 0 else ():
                await bus.publish(Tick(n=n))

        bus.subscribe(Tick, echo, name="echo", max_pending=1)
        await bus.publish(Tick(n=0))
        await bus.join()
    assert len(failures) == 1
    assert isinstance(failures[0].exception, PublishCycleError)
    assert failures[0].exception.cycle == ["echo"]


async def test_publish_nowait_refuses_an_interceptor_that_would_suspend() -> None:
    class Slow(Interceptor):
        async def publish_scope(self, call_next: PublishNext, event: Event) -> None:
            await anyio.sleep(0.001)
            await call_next(event)

    seen: list[int] = []
    async with EventBus(interceptors=[Slow()]) as bus:
        bus.subscribe(Tick, lambda e: seen.append(e.n))
        with pytest.raises(RuntimeError, match="suspended inside publish_nowait"):
            bus.publish_nowait(Tick(n=1))
        await bus.publish(Tick(n=2))
    assert seen == [2]
