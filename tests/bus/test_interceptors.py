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
