"""How events travel from ``publish`` to the inboxes of matching subscriptions.

The bus owns subscriptions, workers, interceptors and shutdown; a transport only
moves deliveries. :class:`MemoryTransport` routes within the process and is the
default; a broker transport (NATS) implements the same few methods, so agents
and runtimes never know which one runs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextvars import copy_context
from typing import Any

from anyio.abc import TaskGroup

from .event import Event
from .subscription import Subscription

__all__ = ["MemoryTransport", "Transport"]


class Transport(ABC):
    """The interface every transport implements: four methods and two optional hooks.

    ``attach``/``detach`` say where events go, ``send`` moves one event and may
    wait for room, ``try_send`` moves one event only if it can without waiting.
    Both sends are all or nothing across the event's subscribers. Without
    publish interceptors the bus calls ``try_send`` first and ``send`` only when
    that returned ``False``; so a subclass that overrides ``send`` must override
    ``try_send`` in the same class, or the bus always goes through ``send``.
    """

    async def start(self, task_group: TaskGroup) -> None:  # noqa: B027 - optional hook
        """Connect and start background tasks (owned by the bus's ``task_group``)."""

    @abstractmethod
    def attach(self, subscription: Subscription[Any]) -> None:
        """Route matching events to ``subscription.inbox`` from the next ``send`` on.

        Synchronous so that a subscription made while the bus runs misses nothing
        published after ``subscribe`` returns; a broker transport starts its
        consumer in the task group it was given by :meth:`start`.
        """

    @abstractmethod
    def detach(self, subscription: Subscription[Any]) -> None:
        """Stop routing to ``subscription``; deliveries already queued stay queued."""

    @abstractmethod
    async def send(self, event: Event) -> None:
        """Deliver ``event`` to every attached subscription whose type it is an instance of.

        Runs after the publish interceptors, in the publisher's context: an
        in-process transport captures that context for the handlers, a broker
        transport rebuilds it from ``event.trace_context`` on the other side.
        Waits while a target inbox is full; cancelled while waiting, it has
        delivered to no subscriber.
        """

    @abstractmethod
    def try_send(self, event: Event) -> bool:
        """Deliver ``event`` as :meth:`send` does if that needs no waiting.

        Returns ``False``, having delivered to no subscriber, when one of them
        has no room (:meth:`full_target` names it).
        """

    def full_target(self, event: Event) -> str:
        """The name of a subscription that had no room for ``event`` (for error messages)."""
        return "a subscriber"

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Disconnect; called once the bus has stopped its workers."""


class MemoryTransport(Transport):
    """In-process delivery: a lookup per event type, then a deque append per subscriber."""

    def __init__(self) -> None:
        self._subscriptions: list[Subscription[Any]] = []
        self._routes: dict[type[Event], list[Subscription[Any]]] = {}

    def attach(self, subscription: Subscription[Any]) -> None:
        self._subscriptions.append(subscription)
        self._routes.clear()

    def detach(self, subscription: Subscription[Any]) -> None:
        self._subscriptions.remove(subscription)
        self._routes.clear()

    def _route(self, event_type: type[Event]) -> list[Subscription[Any]]:
        targets = self._routes.get(event_type)
        if targets is None:
            targets = [s for s in self._subscriptions if issubclass(event_type, s.event_type)]
            self._routes[event_type] = targets
        return targets

    def try_send(self, event: Event) -> bool:
        targets = self._route(type(event))
        for subscription in targets:
            if subscription.inbox.full():
                return False
        context = None
        for subscription in targets:
            # Each isolating subscriber gets its own copy of the publisher's
            # context, so one handler's context changes never leak into
            # another's; the first may use the capture itself.
            if not subscription.isolate_context:
                subscription.inbox.push((event, None, None))
            elif context is None:
                context = copy_context()
                subscription.inbox.push((event, context, None))
            else:
                subscription.inbox.push((event, context.copy(), None))
        return True

    def full_target(self, event: Event) -> str:
        for subscription in self._route(type(event)):
            if subscription.inbox.full():
                return subscription.name
        return super().full_target(event)

    async def send(self, event: Event) -> None:
        if self.try_send(event):
            return
        # Some inbox is full: hold a place in every target before enqueueing in
        # any, so that a cancellation (or timeout) while waiting delivers nothing.
        targets = list(self._route(type(event)))
        context = copy_context()
        reserved: list[Subscription[Any]] = []
        try:
            for subscription in targets:
                await subscription.inbox.reserve()
                reserved.append(subscription)
        except BaseException:
            for subscription in reserved:
                subscription.inbox.release()
            raise
        for index, subscription in enumerate(targets):
            if subscription.isolate_context:
                subscription.inbox.commit((event, context.copy() if index else context, None))
            else:
                subscription.inbox.commit((event, None, None))
