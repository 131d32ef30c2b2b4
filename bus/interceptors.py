"""Interceptors: the one extension point around publishing and handling.

Tracing, metrics and status events are added from outside the bus by wrapping
the two calls that matter, in the shape ``scope(call_next, ...)``. An interceptor
may act before and after ``call_next``, replace the event it passes on (events
are immutable: use ``model_copy``), or observe an exception on its way out.

The chains are composed once, when a subscription is added or the interceptor
list changes, so a bus without interceptors pays nothing per event.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from .event import Event

if TYPE_CHECKING:
    from .subscription import Subscription

__all__ = [
    "ConsumeNext",
    "Interceptor",
    "PublishNext",
    "compose_consume",
    "compose_publish",
    "overrides",
]

PublishNext = Callable[[Event], Awaitable[None]]
ConsumeNext = Callable[[Event], Awaitable[None]]


class Interceptor:
    """Pass-through defaults; override the scope you need."""

    async def publish_scope(self, call_next: PublishNext, event: Event) -> None:
        """Around every ``publish``; the innermost step captures the context for handlers."""
        await call_next(event)

    async def consume_scope(
        self, call_next: ConsumeNext, event: Event, subscription: Subscription[Event]
    ) -> None:
        """Around every handler call, inside the publisher's context."""
        await call_next(event)


def overrides(interceptor: Interceptor, method: str) -> bool:
    """Whether ``interceptor`` has its own ``method`` (a pass-through costs nothing)."""
    return getattr(type(interceptor), method) is not getattr(Interceptor, method)


def compose_publish(interceptors: Sequence[Interceptor], innermost: PublishNext) -> PublishNext:
    """The first interceptor is the outermost."""
    call = innermost
    for interceptor in reversed(interceptors):
        if overrides(interceptor, "publish_scope"):
            call = _bind_publish(interceptor, call)
    return call


def _bind_publish(interceptor: Interceptor, call_next: PublishNext) -> PublishNext:
    async def scoped(event: Event) -> None:
        await interceptor.publish_scope(call_next, event)

    return scoped


def compose_consume(
    interceptors: Sequence[Interceptor],
    subscription: Subscription[Event],
    innermost: ConsumeNext,
) -> ConsumeNext:
    call = innermost
    for interceptor in reversed(interceptors):
        if overrides(interceptor, "consume_scope"):
            call = _bind_consume(interceptor, subscription, call)
    return call


def _bind_consume(
    interceptor: Interceptor, subscription: Subscription[Event], call_next: ConsumeNext
) -> ConsumeNext:
    async def scoped(event: Event) -> None:
        await interceptor.consume_scope(call_next, event, subscription)

    return scoped
