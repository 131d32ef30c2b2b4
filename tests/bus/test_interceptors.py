"""Interceptors wrap publish and every handler call, from outside the bus."""

from __future__ import annotations

from contextvars import ContextVar

import pytest

from salesbus.bus import ConsumeNext, Event, EventBus, Interceptor, PublishNext, Subscription

from .differences import NATS_CONTEXT
from .events import Tick

pytestmark = pytest.mark.anyio

span: ContextVar[str] = ContextVar("span", default="none")


class Recorder(Interceptor):
    def __init__(self, label: str, log: list[str]) -> None:
        self.label = label
        self.log = log

    async def publish_scope(self, call_next: PublishNext, event: Event) -> None:
        self.log.append(f"{self.label}:publish:before")
        await call_next(event)
        self.log.append(f"{self.label}:publish:after")

    async def consume_scope(
        self, call_next: ConsumeNext, event: Event, subscription: Subscription[Event]
    ) -> None:
        self.log.append(f"{self.label}:consume:{subscription.name}:before")
        try:
            await call_next(event)
        except Exception as exc:
            self.log.append(f"{self.label}:consume:{subscription.name}:raised {exc}")
            raise
        self.log.append(f"{self.label}:consume:{subscription.name}:after")


async def test_interceptors_nest_in_order_around_publish_and_each_handler() -> None:
    log: list[str] = []
    async with EventBus(interceptors=[Recorder("outer", log), Recorder("inner", log)]) as bus:
        bus.subscribe(Tick, lambda e: log.append("handler"), name="h")
        await bus.publish(Tick(n=1))
        await bus.join()

    assert log == [
        "outer:publish:before",
        "inner:publish:before",
        "inner:publish:after",
        "outer:publish:after",
        "outer:consume:h:before",
        "inner:consume:h:before",
        "handler",
        "inner:consume:h:after",
        "outer:consume:h:after",
    ]


async def test_a_consume_interceptor_sees_the_handlers_exception() -> None:
    log: list[str] = []
    async with EventBus() as bus:
        bus.add_interceptor(Recorder("r", log))
        bus.on_failure(lambda f: log.append(f"failure hook: {f.exception}"))
        bus.subscribe(Tick, lambda e: 1 / e.n, name="divide")
        await bus.publish(Tick(n=0))

    assert log[-2:] == [
        "r:consume:divide:raised division by zero",
        "failure hook: division by zero",
    ]


@pytest.mark.memory_only(NATS_CONTEXT)
async def test_context_set_by_a_publish_interceptor_reaches_the_handler() -> None:
    class Tracing(Interceptor):
        async def publish_scope(self, call_next: PublishNext, event: Event) -> None:
            token = span.set(f"send {event.event_id}")
            try:
                await call_next(event.model_copy(update={"trace_context": {"traceparent": "x"}}))
            finally:
                span.reset(token)

    seen: list[tuple[str, dict[str, str]]] = []
    async with EventBus(interceptors=[Tracing()]) as bus:
        bus.subscribe(Tick, lambda e: seen.append((span.get(), e.trace_context)))
        event = Tick(n=1)
        await bus.publish(event)

    assert seen == [(f"send {event.event_id}", {"traceparent": "x"})]


async def test_an_interceptor_added_later_wraps_existing_subscriptions() -> None:
    log: list[str] = []
    async with EventBus() as bus:
        bus.subscribe(Tick, lambda e: log.append("handler"), name="h")
        await bus.publish(Tick(n=1))
        await bus.join()
        bus.add_interceptor(Recorder("late", log))
        await bus.publish(Tick(n=2))

    assert log == [
        "handler",
        "late:publish:before",
        "late:publish:after",
        "late:consume:h:before",
        "handler",
        "late:consume:h:after",
    ]


class OddOnly(Interceptor):
    """Acts on odd ticks only, and says so: even ones take the bus's fast path."""

    def __init__(self, log: list[str], skip_subscription: str = "") -> None:
        self.log = log
        self.skip_subscription = skip_subscription

    def passes(self, event: Event) -> bool:
        return isinstance(event, Tick) and event.n % 2 == 0

    def consumes(self, subscription: Subscription[Event]) -> bool:
        return subscription.name != self.skip_subscription

    async def publish_scope(self, call_next: PublishNext, event: Event) -> None:
        self.log.append(f"publish {getattr(event, 'n', '?')}")
        await call_next(event)

    async def consume_scope(
        self, call_next: ConsumeNext, event: Event, subscription: Subscription[Event]
    ) -> None:
        self.log.append(f"consume {getattr(event, 'n', '?')} {subscription.name}")
        await call_next(event)


async def test_events_an_interceptor_passes_skip_its_scopes_and_still_reach_handlers() -> None:
    log: list[str] = []
    handled: list[int] = []
    async with EventBus(interceptors=[OddOnly(log)]) as bus:
        bus.subscribe(Tick, lambda e: handled.append(e.n), name="h")
        for n in range(6):
            await bus.publish(Tick(n=n))
        await bus.join()

    assert handled == [0, 1, 2, 3, 4, 5]
    assert [line for line in log if line.startswith("consume")] == [
        "consume 1 h",
        "consume 3 h",
        "consume 5 h",
    ]


@pytest.mark.memory_only("a broker publish always goes through the chain: it must be awaited")
async def test_a_passed_event_skips_the_publish_scope_too() -> None:
    log: list[str] = []
    async with EventBus(interceptors=[OddOnly(log)]) as bus:
        bus.subscribe(Tick, lambda e: None, name="h")
        for n in range(4):
            await bus.publish(Tick(n=n))
        bus.publish_nowait(Tick(n=4))
        bus.publish_nowait(Tick(n=5))

    assert [line for line in log if line.startswith("publish")] == [
        "publish 1",
        "publish 3",
        "publish 5",
    ]


@pytest.mark.memory_only(NATS_CONTEXT)
async def test_a_passed_event_is_handled_in_its_publishers_context() -> None:
    seen: list[str] = []

    async def handler(event: Tick) -> None:
        seen.append(span.get())

    async with EventBus(interceptors=[OddOnly([])]) as bus:
        bus.subscribe(Tick, handler)
        token = span.set("publisher's")
        try:
            await bus.publish(Tick(n=2))
            await bus.publish(Tick(n=3))
        finally:
            span.reset(token)

    assert seen == ["publisher's"] * 2


async def test_a_passed_event_still_goes_through_the_scopes_when_it_must_wait_for_room() -> None:
    """A full inbox sends the publish the long way, through the chain; nothing is lost."""
    log: list[str] = []
    handled: list[int] = []
    async with EventBus(interceptors=[OddOnly(log)], default_max_pending=1) as bus:
        bus.subscribe(Tick, lambda e: handled.append(e.n), name="h")
        for n in (0, 2, 4):
            await bus.publish(Tick(n=n))

    assert handled == [0, 2, 4]
    assert "consume 2 h" not in log  # the consume side still skips it


async def test_an_interceptor_that_does_not_consume_for_a_subscription_is_left_out_of_it() -> None:
    log: list[str] = []
    async with EventBus(interceptors=[OddOnly(log, skip_subscription="quiet")]) as bus:
        bus.subscribe(Tick, lambda e: None, name="quiet")
        bus.subscribe(Tick, lambda e: None, name="loud")
        await bus.publish(Tick(n=1))

    assert log == ["publish 1", "consume 1 loud"]


async def test_an_interceptor_without_a_pass_check_sees_every_event() -> None:
    log: list[str] = []
    async with EventBus(interceptors=[Recorder("r", log)]) as bus:
        bus.subscribe(Tick, lambda e: None, name="h")
        await bus.publish(Tick(n=2))

    assert log.count("r:publish:before") == 1
    assert log.count("r:consume:h:before") == 1
