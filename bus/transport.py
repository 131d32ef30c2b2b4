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
    """The interface every transport implements."""

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
        Waits while a target inbox is full.
        """

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
        targets = [s for s in self._subscriptions if issubclass(event_type, s.event_type)]
        self._routes[event_type] = targets
        return targets

    async def send(self, event: Event) -> None:
        targets = self._routes.get(type(event))
        if targets is None:
            targets = self._route(type(event))
        context = copy_context()
        for index, subscription in enumerate(targets):
            # Each subscriber gets its own copy so one handler's context changes
            # never leak into another's; the first may use the capture itself.
            delivery = (event, context.copy() if index else context, None)
            inbox = subscription.inbox
            if not inbox.offer(delivery):
                await inbox.put(delivery)
