"""A subscription: which events a handler receives, and how many at once."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .event import Event
from .inbox import Inbox, Tracker
from .interceptors import ConsumeNext, Interceptor, compose_consume

__all__ = ["Handler", "HandlerFailure", "Subscription", "SubscriptionStats"]

E = TypeVar("E", bound=Event)

Handler = Callable[[E], Awaitable[None]] | Callable[[E], None]
"""An async or plain function of one event; its return value is ignored."""


@dataclass(slots=True)
class SubscriptionStats:
    delivered: int = 0
    failed: int = 0


@dataclass(frozen=True, slots=True)
class HandlerFailure:
    """A handler raised: what was being handled, by whom, and why.

    Passed to the bus's failure hooks so a runtime above can record or retry it;
    the bus itself carries on.
    """

    event: Event
    subscription: Subscription[Any]
    exception: Exception


class Subscription(Generic[E]):
    """One handler bound to one event class (and its subclasses).

    ``concurrency`` workers take deliveries from an inbox bounded at
    ``max_pending``; with one worker, deliveries are handled in publish order.
    """

    def __init__(
        self,
        event_type: type[E],
        handler: Handler[E],
        *,
        name: str,
        concurrency: int,
        max_pending: int,
        tracker: Tracker,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        self.event_type = event_type
        self.handler = handler
        self.name = name
        self.concurrency = concurrency
        self.inbox = Inbox(max_pending, tracker)
        self.stats = SubscriptionStats()
        self.in_flight: list[Event | None] = [None] * concurrency
        self._handler_is_async = _is_async(handler)
        self.is_async = self._handler_is_async
        self.active = True
        self.call: Callable[[Any], Any] = handler

    @property
    def max_pending(self) -> int:
        return self.inbox.capacity

    def wrap(self, interceptors: Sequence[Interceptor]) -> None:
        """Compose the interceptors around the handler; called when either changes."""
        if not interceptors:
            self.call = self.handler
            self.is_async = self._handler_is_async
            return
        self.is_async = True
        self.call = compose_consume(interceptors, self, _as_async(self.handler))  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return (
            f"<Subscription {self.name!r} to {self.event_type.__name__}"
            f" concurrency={self.concurrency} max_pending={self.max_pending}>"
        )


def _is_async(handler: object) -> bool:
    """Coroutine functions and callable objects whose ``__call__`` is one."""
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
        getattr(handler, "__call__", None)  # noqa: B004
    )


def _as_async(handler: Handler[E]) -> ConsumeNext:
    if _is_async(handler):
        return handler  # type: ignore[return-value]

    async def call(event: Event) -> None:
        handler(event)  # type: ignore[arg-type]

    return call
