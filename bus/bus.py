"""The event bus: typed subscriptions, bounded inboxes, workers, interceptors, shutdown."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeVar

import anyio
from anyio.abc import TaskGroup

from . import waiting
from .errors import BusClosedError, BusNotRunningError, InboxFullError, PublishTimeoutError
from .event import Event
from .inbox import Tracker
from .interceptors import Interceptor, PublishNext, compose_publish, overrides, pass_check
from .policy import ErrorPolicy
from .stats import BusStatistics, SubscriptionStatistics
from .subscription import Handler, HandlerFailure, Subscription
from .transport import MemoryTransport, Transport
from .worker import work

__all__ = ["DrainReport", "EventBus", "FailureHook"]

logger = logging.getLogger("salesbus.bus")

E = TypeVar("E", bound=Event)
R = TypeVar("R", bound=Event)

FailureHook = Callable[[HandlerFailure], Awaitable[None] | None]
"""Called with every handler failure, in the context of the failed delivery."""


@dataclass(frozen=True, slots=True)
class DrainReport:
    """What a drain left undone: empty when every delivery finished in time."""

    dropped: tuple[tuple[str, Event], ...] = ()
    """(subscription name, event) queued but never started."""
    cancelled: tuple[tuple[str, Event], ...] = ()
    """(subscription name, event) whose handler was cancelled mid-way."""

    @property
    def complete(self) -> bool:
        return not self.dropped and not self.cancelled


class EventBus:
    """An in-process, typed, asynchronous event bus.

    ::

        async with EventBus() as bus:
            @bus.on(OrderPlaced, concurrency=8)
            async def ship(event: OrderPlaced) -> None: ...

            await bus.publish(OrderPlaced(order_id="42"))

    Leaving the block drains: it waits up to ``shutdown_timeout`` seconds for
    every delivery (including events published by handlers meanwhile), then
    cancels what is left and records it in :attr:`last_drain`.
    """

    def __init__(
        self,
        *,
        transport: Transport | None = None,
        interceptors: Sequence[Interceptor] = (),
        shutdown_timeout: float = 10.0,
        default_max_pending: int = 1024,
    ) -> None:
        self.transport = transport if transport is not None else MemoryTransport()
        self.shutdown_timeout = shutdown_timeout
        self.default_max_pending = default_max_pending
        self.last_drain: DrainReport | None = None
        self.tracker = Tracker()
        self.failure_hooks: list[FailureHook] = []
        self._interceptors: list[Interceptor] = list(interceptors)
        self._subscriptions: dict[Subscription[Any], None] = {}
        self._task_group: TaskGroup | None = None
        self._closed = False
        self._accepting = False
        self._compose()

    # -- lifecycle -----------------------------------------------------------------

    async def __aenter__(self) -> Self:
        if self._task_group is not None or self._closed:
            raise RuntimeError("an EventBus can be entered once")
        self.tracker.bind_backend()
        task_group = anyio.create_task_group()
        await task_group.__aenter__()
        self._task_group = task_group
        self._accepting = True
        try:
            await self.transport.start(task_group)
            for subscription in list(self._subscriptions):
                self._activate(subscription)
        except BaseException as exc:
            task_group.cancel_scope.cancel()
            await task_group.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        task_group = self._task_group
        assert task_group is not None, "EventBus exited without being entered"
        try:
            if not self._closed:
                if exc is None:
                    await self.drain(self.shutdown_timeout)
                else:
                    self.last_drain = self._abandon()
            self._closed, self._accepting = True, False
            task_group.cancel_scope.cancel()
            # The workers only end by cancellation; the caller's own exception
            # (if any) propagates as itself, not wrapped in an exception group.
            await task_group.__aexit__(None, None, None)
            for subscription in self._subscriptions:
                subscription.mark_closed()  # its workers are gone with the bus
            return None
        finally:
            await self.transport.aclose()

    @property
    def running(self) -> bool:
        return self._task_group is not None and not self._closed

    async def join(self) -> None:
        """Wait, without a deadline, until no delivery is queued or in progress."""
        await self._wait_idle()

    async def _wait_idle(self) -> None:
        """Idle inboxes, then an idle transport, and still idle inboxes after that."""
        while True:
            await self.tracker.wait_idle()
            await self.transport.wait_idle()
            if not self.tracker.outstanding:
                return

    async def drain(self, timeout: float | None = None) -> DrainReport:  # noqa: ASYNC109
        """Wait for every delivery to finish; past ``timeout`` seconds, cancel and report.

        Handlers may keep publishing while the bus drains, and those deliveries
        are waited for too. A drain that times out closes the bus: queued
        deliveries are dropped, running handlers cancelled, and later publishes
        raise :class:`BusClosedError`. The report is also kept in :attr:`last_drain`.
        """
        with anyio.move_on_after(timeout):
            await self._wait_idle()
            self.last_drain = DrainReport()
            return self.last_drain
        report = self._abandon()
        self.last_drain = report
        if report.dropped or report.cancelled:
            logger.warning(
                "bus drain timed out after %ss: %d deliveries dropped, %d cancelled",
                timeout,
                len(report.dropped),
                len(report.cancelled),
            )
        return report

    def _abandon(self) -> DrainReport:
        """Close the bus, drop what is queued and cancel what runs; say which."""
        self._closed = True
        self._accepting = False
        dropped: list[tuple[str, Event]] = []
        cancelled: list[tuple[str, Event]] = []
        for subscription in self._subscriptions:
            dropped.extend((subscription.name, d[0]) for d in subscription.inbox.clear())
            cancelled.extend((subscription.name, e) for e in subscription.in_flight if e)
        if self._task_group is not None:
            self._task_group.cancel_scope.cancel()
        return DrainReport(dropped=tuple(dropped), cancelled=tuple(cancelled))

    # -- subscribing ---------------------------------------------------------------

    def subscribe(
        self,
        event_type: type[E],
        handler: Handler[E],
        *,
        name: str | None = None,
        concurrency: int = 1,
        max_pending: int | None = None,
        once: bool = False,
        isolate_context: bool = True,
        run_in_thread: bool = False,
        on_error: ErrorPolicy | None = None,
        durable: bool = True,
    ) -> Subscription[E]:
        """Deliver every published instance of ``event_type`` (subclasses too) to ``handler``.

        Works before the bus is entered and while it runs.

        :param concurrency: workers, so handler calls at once (1: in publish order).
        :param max_pending: deliveries that may wait in the inbox; beyond it
            ``publish`` waits (``default_max_pending`` if not given).
        :param once: handle the first event only, then unsubscribe; deliveries
            queued behind it are dropped.
        :param isolate_context: run the handler in a copy of the publisher's
            ``contextvars`` context (its trace span, for one). ``False`` runs it
            in the worker's own context: cheaper, for handlers that need neither
            the publisher's context nor isolation from other deliveries.
        :param run_in_thread: the handler is a blocking plain function: run it in
            anyio's worker threads (at most 40 at once across the process, and
            ``concurrency`` for this subscription), with the publisher's context.
        :param on_error: retries, backoff and dead letters; by default a failure
            goes to the failure hooks (or the log) once.
        :param durable: on a broker transport, the broker keeps the backlog of
            this subscription's name while no process consumes it, and
            processes subscribing under one name share its events. ``False``
            for a transient subscription that wants only what is published
            while it exists (``wait_for`` and ``request`` make such). The
            memory transport ignores it.
        :raises ValueError: an impossible combination (``once`` with
            ``concurrency`` > 1, ``run_in_thread`` with an async handler).
        """
        subscription = Subscription(
            event_type,
            handler,
            name=name or str(getattr(handler, "__qualname__", handler)),
            concurrency=concurrency,
            max_pending=self.default_max_pending if max_pending is None else max_pending,
            tracker=self.tracker,
            once=once,
            isolate_context=isolate_context,
            run_in_thread=run_in_thread,
            on_error=on_error,
            durable=durable,
        )
        subscription.wrap(self._interceptors)
        self._subscriptions[subscription] = None
        if self._task_group is not None:
            self._activate(subscription)
        return subscription

    def on(
        self,
        event_type: type[E],
        *,
        name: str | None = None,
        concurrency: int = 1,
        max_pending: int | None = None,
        once: bool = False,
        isolate_context: bool = True,
        run_in_thread: bool = False,
        on_error: ErrorPolicy | None = None,
        durable: bool = True,
    ) -> Callable[[Handler[E]], Handler[E]]:
        """Decorator form of :meth:`subscribe`, with the same options::

        @bus.on(OrderPlaced, concurrency=8)
        async def ship(event: OrderPlaced) -> None: ...
        """

        def register(handler: Handler[E]) -> Handler[E]:
            self.subscribe(
                event_type,
                handler,
                name=name,
                concurrency=concurrency,
                max_pending=max_pending,
                once=once,
                isolate_context=isolate_context,
                run_in_thread=run_in_thread,
                on_error=on_error,
                durable=durable,
            )
            return handler

        return register

    @asynccontextmanager
    async def subscription(
        self, event_type: type[E], handler: Handler[E], **options: Any
    ) -> AsyncIterator[Subscription[E]]:
        """A subscription for the length of a block; :meth:`subscribe`'s options apply::

            async with bus.subscription(OrderPlaced, audit) as sub:
                ...

        Leaving the block normally waits until the deliveries queued for it are
        handled; leaving by an exception does not wait (they are still handled).
        Either way the subscription is then forgotten and its workers end.
        """
        subscription = self.subscribe(event_type, handler, **options)
        try:
            yield subscription
        except BaseException:
            self.unsubscribe(subscription)
            raise
        self.unsubscribe(subscription)
        await subscription.wait_closed()

    def unsubscribe(self, subscription: Subscription[Any]) -> None:
        """Route no new event to ``subscription``; its workers finish what it has
        queued, then end, and the bus forgets it (:meth:`Subscription.wait_closed`
        waits for that). Unsubscribing twice does nothing.
        """
        if subscription.active:
            subscription.active = False
            if subscription.attached:
                subscription.attached = False
                self.transport.detach(subscription)
        subscription.inbox.close()
        if not subscription.inbox.workers:
            self._forget(subscription)

    def _retire(self, subscription: Subscription[Any]) -> None:
        """Unsubscribe and drop what is queued (a ``once`` subscription took its event)."""
        self.unsubscribe(subscription)
        subscription.inbox.clear()

    def _forget(self, subscription: Subscription[Any]) -> None:
        """The last worker of a closed subscription has ended (or none had started)."""
        self._subscriptions.pop(subscription, None)
        subscription.mark_closed()

    @property
    def subscriptions(self) -> tuple[Subscription[Any], ...]:
        return tuple(self._subscriptions)

    def _activate(self, subscription: Subscription[Any]) -> None:
        assert self._task_group is not None
        for slot in range(subscription.concurrency):
            self._task_group.start_soon(work, self, subscription, slot, name=subscription.name)
        # Counted now, not when the tasks first run, so an unsubscribe before
        # then still finds workers to finish the inbox.
        subscription.inbox.workers += subscription.concurrency
        self.transport.attach(subscription)
        subscription.attached = True

    # -- extending -----------------------------------------------------------------

    def add_interceptor(self, interceptor: Interceptor) -> None:
        """Append an interceptor (innermost so far) to publish and to every subscription."""
        self._interceptors.append(interceptor)
        self._compose()
        for subscription in self._subscriptions:
            subscription.wrap(self._interceptors)

    def _compose(self) -> None:
        self._publish: PublishNext = compose_publish(self._interceptors, self.transport.send)
        self._publish_nowait: PublishNext = compose_publish(self._interceptors, self._send_nowait)
        # With no publish interceptor, publish skips the chain when nothing waits:
        # try_send first, send only if that found an inbox full. Unless a
        # subclass overrode send alone, which then must see every event. With
        # publish interceptors that can say they would only pass an event on
        # (``Interceptor.passes``), the events they pass take that path too.
        transport = type(self.transport)
        chain = [i for i in self._interceptors if overrides(i, "publish_scope")]
        self._passes: Callable[[Event], bool] | None = pass_check(chain) if chain else None
        self._try_send: Callable[[Event], bool] | None = (
            self.transport.try_send
            if _defined_in(transport, "send") is _defined_in(transport, "try_send")
            and (not chain or self._passes is not None)
            else None
        )

    @property
    def interceptors(self) -> tuple[Interceptor, ...]:
        return tuple(self._interceptors)

    def on_failure(self, hook: FailureHook) -> FailureHook:
        """Register a hook for handler failures (usable as a decorator).

        With no hook registered, failures are logged at ERROR level.
        """
        self.failure_hooks.append(hook)
        return hook

    # -- publishing ----------------------------------------------------------------

    async def publish(self, event: Event, *, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Deliver ``event`` to every matching subscription; waits only while an inbox is full.

        Delivery is all or nothing: cancelled (or timed out) while waiting for
        room, the event has reached no subscriber.

        :param timeout: seconds to wait for room at most.
        :raises PublishTimeoutError: no room within ``timeout``.
        :raises PublishCycleError: called from a handler, and waiting would
            deadlock (every subscription on a cycle of publishes is full).
        :raises BusNotRunningError: the bus has not been entered.
        :raises BusClosedError: the bus has been drained or closed.
        """
        if not self._accepting:
            raise BusClosedError if self._closed else BusNotRunningError
        try_send = self._try_send
        if try_send is not None:
            passes = self._passes
            if (passes is None or passes(event)) and try_send(event):
                return
        if timeout is None:
            await self._publish(event)
            return
        with anyio.move_on_after(timeout):
            await self._publish(event)
            return
        raise PublishTimeoutError(timeout)

    def publish_nowait(self, event: Event) -> None:
        """Deliver ``event`` now, from async or plain code in the bus's thread, or not at all.

        Publish interceptors run as for :meth:`publish`, but must not suspend.

        :raises InboxFullError: some subscriber's inbox is full; no one got the event.
        :raises BusNotRunningError: the bus has not been entered.
        :raises BusClosedError: the bus has been drained or closed.
        :raises RuntimeError: a publish interceptor tried to suspend.
        """
        if not self._accepting:
            raise BusClosedError if self._closed else BusNotRunningError
        try_send = self._try_send
        if try_send is not None:
            passes = self._passes
            if passes is None or passes(event):
                if not try_send(event):
                    raise InboxFullError(self.transport.full_target(event))
                return
        coro = self._publish_nowait(event)
        assert isinstance(coro, Coroutine)
        try:
            coro.send(None)
        except StopIteration:
            return
        coro.close()
        raise RuntimeError("a publish interceptor suspended inside publish_nowait")

    async def _send_nowait(self, event: Event) -> None:
        if not self.transport.try_send(event):
            raise InboxFullError(self.transport.full_target(event))

    async def publish_all(self, events: Iterable[Event]) -> None:
        for event in events:
            await self.publish(event)

    # -- waiting for events ---------------------------------------------------------

    async def wait_for(
        self,
        event_type: type[E],
        predicate: Callable[[E], bool] | None = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> E:
        """The next published ``event_type`` for which ``predicate`` is true.

        Only events published after the call starts count.

        :raises EventTimeoutError: none within ``timeout`` seconds.
        """
        return await waiting.wait_for(self, event_type, predicate, timeout)

    async def request(
        self,
        event: Event,
        reply_type: type[R],
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> R:
        """Publish ``event`` and return the first ``reply_type`` event caused by it.

        A responder replies with ``Reply(**request.caused(), ...)``, which sets
        the reply's ``causation_id`` to the request's ``event_id``.

        :raises EventTimeoutError: no reply within ``timeout`` seconds (counting
            the time the publish waited for room).
        """
        return await waiting.request(self, event, reply_type, timeout)

    # -- observing -----------------------------------------------------------------

    def statistics(self) -> BusStatistics:
        """A snapshot: per subscription its depth, deliveries in flight and counters."""
        return BusStatistics(
            outstanding=self.tracker.outstanding,
            subscriptions=tuple(
                SubscriptionStatistics.of(subscription) for subscription in self._subscriptions
            ),
        )


def _defined_in(cls: type, name: str) -> type:
    return next(klass for klass in cls.__mro__ if name in klass.__dict__)
