"""A subscription: which events a handler receives, how many at once, and how."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import anyio
import anyio.to_thread

from .event import Event
from .inbox import Inbox, Tracker
from .interceptors import ConsumeNext, Interceptor, compose_consume, consume_chain, pass_check
from .policy import ErrorPolicy

__all__ = ["Handler", "HandlerFailure", "Subscription", "SubscriptionStats"]

E = TypeVar("E", bound=Event)

Handler = Callable[[E], Awaitable[None]] | Callable[[E], None]
"""An async or plain function of one event; its return value is ignored."""


@dataclass(slots=True)
class SubscriptionStats:
    """Counters since the subscription was made."""

    delivered: int = 0
    """Deliveries whose handler returned (on the first attempt or a retry)."""
    failed: int = 0
    """Deliveries given up on after the last attempt."""
    retried: int = 0
    """Retry attempts made."""
    dead_lettered: int = 0
    """``DeadLetter`` events published."""


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
    Made by :meth:`EventBus.subscribe`, which documents the options.
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
        once: bool = False,
        isolate_context: bool = True,
        run_in_thread: bool = False,
        on_error: ErrorPolicy | None = None,
        durable: bool = True,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        if once and concurrency != 1:
            raise ValueError("a once=True subscription handles one event: concurrency must be 1")
        if run_in_thread and _is_async(handler):
            raise ValueError("run_in_thread=True takes a plain (blocking) function, not async")
        self.event_type = event_type
        self.handler = handler
        self.name = name
        self.concurrency = concurrency
        self.once = once
        self.isolate_context = isolate_context
        self.run_in_thread = run_in_thread
        self.error_policy = on_error if on_error is not None else ErrorPolicy()
        self.durable = durable
        self.inbox = Inbox(max_pending, tracker, name)
        self.stats = SubscriptionStats()
        self.in_flight: list[Event | None] = [None] * concurrency
        self.direct_is_async = _is_async(handler) or run_in_thread
        """Whether :attr:`direct` (the handler as the bus calls it) is a coroutine function."""
        self.is_async = self.direct_is_async
        self.active = True
        """Routed to: true from ``subscribe`` until ``unsubscribe``."""
        self.attached = False
        """Attached to the bus's transport (the bus is running and started its workers)."""
        self._closed: anyio.Event | None = None
        self._done = False
        self.call: Callable[[Any], Any] = self._innermost()
        self.direct: Callable[[Any], Any] = self.call
        """The handler without interceptors: called instead of ``call`` when ``passes``."""
        self.passes: Callable[[Event], bool] | None = None
        """Whether the consume chain would only call on for an event (``None``: no check)."""

    @property
    def max_pending(self) -> int:
        return self.inbox.capacity

    @property
    def closed(self) -> bool:
        """Unsubscribed, and every worker has finished and exited."""
        return self._done

    async def wait_closed(self) -> None:
        """Wait until the subscription is unsubscribed and its workers have exited."""
        if self._done:
            return
        if self._closed is None:
            self._closed = anyio.Event()
        await self._closed.wait()

    def mark_closed(self) -> None:
        """Called by the bus when the last worker exits (or none ever started)."""
        self._done = True
        if self._closed is not None:
            self._closed.set()

    def _innermost(self) -> Callable[[Any], Any]:
        if not self.run_in_thread:
            return self.handler
        handler: Callable[[Any], Any] = self.handler

        async def in_thread(event: Event) -> None:
            # anyio copies the current context (the publisher's) into the thread.
            await anyio.to_thread.run_sync(handler, event)

        return in_thread

    def wrap(self, interceptors: Sequence[Interceptor]) -> None:
        """Compose the interceptors around the handler; called when either changes."""
        innermost = self._innermost()
        self.direct = innermost
        chain = consume_chain(interceptors, self)  # type: ignore[arg-type]
        if not chain:
            self.call = innermost
            self.is_async = self.direct_is_async
            self.passes = None
            return
        self.is_async = True
        self.call = compose_consume(chain, self, _as_async(innermost))  # type: ignore[arg-type]
        self.passes = pass_check(chain)

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


def _as_async(handler: Callable[[Any], Any]) -> ConsumeNext:
    if _is_async(handler):
        return handler

    async def call(event: Event) -> None:
        handler(event)

    return call
