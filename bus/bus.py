"""The event bus: typed subscriptions, bounded inboxes, workers, interceptors, shutdown."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeVar

import anyio
from anyio.abc import TaskGroup
from anyio.lowlevel import checkpoint

from .context import run_in_context
from .errors import BusClosedError, BusNotRunningError
from .event import Event
from .inbox import Receipt, Tracker
from .interceptors import Interceptor, PublishNext, compose_publish
from .subscription import Handler, HandlerFailure, Subscription
from .transport import MemoryTransport, Transport

__all__ = ["DrainReport", "EventBus", "FailureHook"]

logger = logging.getLogger("salesbus.bus")

E = TypeVar("E", bound=Event)

FailureHook = Callable[[HandlerFailure], Awaitable[None] | None]
"""Called with every handler failure, in the context of the failed delivery."""

_YIELD_EVERY = 256
"""A worker whose handlers never suspend still lets other tasks run this often."""


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
        self._interceptors: list[Interceptor] = list(interceptors)
        self._subscriptions: list[Subscription[Any]] = []
        self._failure_hooks: list[FailureHook] = []
        self._tracker = Tracker()
        self._task_group: TaskGroup | None = None
        self._closed = False
        self._accepting = False
        self._publish: PublishNext = compose_publish(self._interceptors, self.transport.send)

    # -- lifecycle -----------------------------------------------------------------

    async def __aenter__(self) -> Self:
        if self._task_group is not None or self._closed:
            raise RuntimeError("an EventBus can be entered once")
        task_group = anyio.create_task_group()
        await task_group.__aenter__()
        self._task_group = task_group
        self._accepting = True
        try:
            await self.transport.start(task_group)
            for subscription in self._subscriptions:
                if subscription.active:
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
            return None
        finally:
            await self.transport.aclose()

    @property
    def running(self) -> bool:
        return self._task_group is not None and not self._closed

    async def join(self) -> None:
        """Wait, without a deadline, until no delivery is queued or in progress."""
        await self._tracker.wait_idle()

    async def drain(self, timeout: float | None = None) -> DrainReport:  # noqa: ASYNC109
        """Wait for every delivery to finish; past ``timeout`` seconds, cancel and report.

        Handlers may keep publishing while the bus drains, and those deliveries
        are waited for too. A drain that times out closes the bus: queued
        deliveries are dropped, running handlers cancelled, and later publishes
        raise :class:`BusClosedError`. The report is also kept in :attr:`last_drain`.
        """
        with anyio.move_on_after(timeout):
            await self._tracker.wait_idle()
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
    ) -> Subscription[E]:
        """Deliver every published instance of ``event_type`` (subclasses too) to ``handler``.

        Up to ``concurrency`` calls run at once; up to ``max_pending`` deliveries
        wait in the subscription's inbox, beyond which ``publish`` waits. Works
        before the bus is entered and while it runs.
        """
        subscription = Subscription(
            event_type,
            handler,
            name=name or str(getattr(handler, "__qualname__", handler)),
            concurrency=concurrency,
            max_pending=self.default_max_pending if max_pending is None else max_pending,
            tracker=self._tracker,
        )
        subscription.wrap(self._interceptors)
        self._subscriptions.append(subscription)
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
    ) -> Callable[[Handler[E]], Handler[E]]:
        """Decorator form of :meth:`subscribe`::

        @bus.on(OrderPlaced, concurrency=8)
        async def ship(event: OrderPlaced) -> None: ...
        """

        def register(handler: Handler[E]) -> Handler[E]:
            self.subscribe(
                event_type, handler, name=name, concurrency=concurrency, max_pending=max_pending
            )
            return handler

        return register

    def unsubscribe(self, subscription: Subscription[Any]) -> None:
        """Stop routing new events to ``subscription``; what it has queued still runs."""
        if subscription.active and self._task_group is not None:
            self.transport.detach(subscription)
        subscription.active = False

    @property
    def subscriptions(self) -> tuple[Subscription[Any], ...]:
        return tuple(self._subscriptions)

    def _activate(self, subscription: Subscription[Any]) -> None:
        assert self._task_group is not None
        for slot in range(subscription.concurrency):
            self._task_group.start_soon(self._work, subscription, slot, name=subscription.name)
        self.transport.attach(subscription)

    # -- extending -----------------------------------------------------------------

    def add_interceptor(self, interceptor: Interceptor) -> None:
        """Append an interceptor (innermost so far) to publish and to every subscription."""
        self._interceptors.append(interceptor)
        self._publish = compose_publish(self._interceptors, self.transport.send)
        for subscription in self._subscriptions:
            subscription.wrap(self._interceptors)

    @property
    def interceptors(self) -> tuple[Interceptor, ...]:
        return tuple(self._interceptors)

    def on_failure(self, hook: FailureHook) -> FailureHook:
        """Register a hook for handler failures (usable as a decorator).

        With no hook registered, failures are logged at ERROR level.
        """
        self._failure_hooks.append(hook)
        return hook

    # -- publishing ----------------------------------------------------------------

    async def publish(self, event: Event) -> None:
        """Deliver ``event`` to every matching subscription; waits only while an inbox is full.

        :raises BusNotRunningError: the bus has not been entered.
        :raises BusClosedError: the bus has been drained or closed.
        """
        if not self._accepting:
            raise BusClosedError if self._closed else BusNotRunningError
        await self._publish(event)

    async def publish_all(self, events: Iterable[Event]) -> None:
        for event in events:
            await self.publish(event)

    # -- working -------------------------------------------------------------------

    async def _work(self, subscription: Subscription[Any], slot: int) -> None:
        # The hot loop: locals instead of attribute chains, no await unless the
        # inbox is empty or the handler itself suspends.
        inbox = subscription.inbox
        items = inbox.items
        blocked_senders = inbox.blocked_senders
        in_flight = subscription.in_flight
        stats = subscription.stats
        done = self._tracker.done
        handled = 0
        while True:
            if not items:
                await inbox.wait_for_delivery()
                continue
            event, context, receipt = items.popleft()
            if blocked_senders:
                blocked_senders.popleft().set()
            in_flight[slot] = event
            try:
                if subscription.is_async:
                    await run_in_context(context, subscription.call(event))
                else:
                    context.run(subscription.call, event)
            except Exception as exc:
                stats.failed += 1
                await run_in_context(context, self._failed(subscription, event, exc, receipt))
            else:
                stats.delivered += 1
                if receipt is not None:
                    await receipt.ack()
            finally:
                in_flight[slot] = None
                done()
            handled += 1
            if handled % _YIELD_EVERY == 0:
                await checkpoint()

    async def _failed(
        self,
        subscription: Subscription[Any],
        event: Event,
        exc: Exception,
        receipt: Receipt | None,
    ) -> None:
        failure = HandlerFailure(event, subscription, exc)
        if not self._failure_hooks:
            logger.error(
                "handler %s failed on %s %s",
                subscription.name,
                type(event).type_name,
                event.event_id,
                exc_info=exc,
            )
        for hook in self._failure_hooks:
            try:
                outcome = hook(failure)
                if outcome is not None:
                    await outcome
            except Exception:
                logger.exception("failure hook %r raised", hook)
        if receipt is not None:
            await receipt.nak()
