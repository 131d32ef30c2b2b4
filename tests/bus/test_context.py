"""Context: a handler runs in the contextvars of the publish that caused it."""

from __future__ import annotations

from contextvars import ContextVar

import anyio
import pytest

from salesbus.bus import EventBus

from .differences import NATS_CONTEXT
from .events import Tick

pytestmark = pytest.mark.anyio

request_id: ContextVar[str] = ContextVar("request_id", default="unset")


@pytest.mark.memory_only(NATS_CONTEXT)
async def test_the_publishers_context_is_current_in_the_handler_across_suspensions() -> None:
    seen: dict[int, tuple[str, str]] = {}

    async def handle(event: Tick) -> None:
        before = request_id.get()
        await anyio.sleep(0.001 * (3 - event.n))  # interleave the handlers
        seen[event.n] = (before, request_id.get())

    async def publish_as(bus: EventBus, n: int) -> None:
        request_id.set(f"request-{n}")
        await bus.publish(Tick(n=n))

    async with EventBus() as bus:
        bus.subscribe(Tick, handle, concurrency=3)
        async with anyio.create_task_group() as tg:
            for n in range(3):
                tg.start_soon(publish_as, bus, n)

    assert seen == {n: (f"request-{n}", f"request-{n}") for n in range(3)}


@pytest.mark.memory_only(NATS_CONTEXT)
async def test_a_sync_handler_sees_the_publishers_context() -> None:
    seen: list[str] = []
    async with EventBus() as bus:
        bus.subscribe(Tick, lambda e: seen.append(request_id.get()))
        request_id.set("outer")
        await bus.publish(Tick(n=1))
    assert seen == ["outer"]


@pytest.mark.memory_only(NATS_CONTEXT)
async def test_changes_a_handler_makes_stay_in_that_handler() -> None:
    seen_by_second: list[str] = []

    def first(event: Tick) -> None:
        request_id.set("changed by first")

    async def second(event: Tick) -> None:
        await anyio.sleep(0.001)
        seen_by_second.append(request_id.get())

    async with EventBus() as bus:
        bus.subscribe(Tick, first)
        bus.subscribe(Tick, second)
        request_id.set("published")
        await bus.publish(Tick(n=1))
        await bus.join()
        assert request_id.get() == "published"

    assert seen_by_second == ["published"]


@pytest.mark.memory_only(NATS_CONTEXT)
async def test_events_published_by_a_handler_carry_the_handlers_context() -> None:
    from .events import Dog

    seen: list[str] = []

    async def relay(event: Tick) -> None:
        request_id.set(f"relayed-{event.n}")
        await bus.publish(Dog(**event.caused()))

    async with EventBus() as bus:
        bus.subscribe(Tick, relay)
        bus.subscribe(Dog, lambda e: seen.append(request_id.get()))
        await bus.publish(Tick(n=5, correlation_id="run-1"))

    assert seen == ["relayed-5"]
