"""Waiting for an event: ``wait_for`` and ``request``, as short-lived subscriptions.

Each wait is an ordinary subscription with ``isolate_context=False`` whose
handler keeps the first matching event; it is unsubscribed when the wait ends
(by an event, a timeout or a cancellation), so nothing is left behind.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Generic, TypeVar

import anyio

from .errors import EventTimeoutError
from .event import Event
from .inbox import Flag

if TYPE_CHECKING:
    from .bus import EventBus

__all__ = ["request", "wait_for"]

E = TypeVar("E", bound=Event)


async def wait_for(
    bus: EventBus,
    event_type: type[E],
    predicate: Callable[[E], bool] | None,
    timeout: float | None,  # noqa: ASYNC109
) -> E:
    """See :meth:`EventBus.wait_for`."""
    async with _expect(bus, event_type, predicate) as outcome:
        with anyio.move_on_after(timeout):
            return await outcome.get()
    raise EventTimeoutError(f"{event_type.__name__} event", timeout)


async def request(
    bus: EventBus,
    event: Event,
    reply_type: type[E],
    timeout: float | None,  # noqa: ASYNC109
) -> E:
    """See :meth:`EventBus.request`."""
    request_id = event.event_id
    async with _expect(bus, reply_type, lambda r: r.causation_id == request_id) as outcome:
        with anyio.move_on_after(timeout):
            await bus.publish(event)
            return await outcome.get()
    raise EventTimeoutError(f"{reply_type.__name__} reply to {request_id}", timeout)


@asynccontextmanager
async def _expect(
    bus: EventBus, event_type: type[E], predicate: Callable[[E], bool] | None
) -> AsyncIterator[_Outcome[E]]:
    outcome: _Outcome[E] = _Outcome(bus.tracker.event_class(), predicate)
    subscription = bus.subscribe(
        event_type,
        outcome.offer,
        name=f"wait_for:{event_type.__name__}",
        isolate_context=False,
    )
    try:
        yield outcome
    finally:
        bus.unsubscribe(subscription)


class _Outcome(Generic[E]):
    """The first matching event a ``wait_for``/``request`` subscription sees."""

    def __init__(self, ready: Flag, predicate: Callable[[E], bool] | None) -> None:
        self._ready = ready
        self._predicate = predicate
        self._event: E | None = None
        self._error: Exception | None = None

    def offer(self, event: E) -> None:
        if self._ready.is_set():
            return
        try:
            if self._predicate is not None and not self._predicate(event):
                return
        except Exception as exc:  # a broken predicate fails the waiter, not the bus
            self._error = exc
        else:
            self._event = event
        self._ready.set()

    async def get(self) -> E:
        await self._ready.wait()
        if self._error is not None:
            raise self._error
        assert self._event is not None
        return self._event
