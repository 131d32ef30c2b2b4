"""A snapshot of the bus's queues and counters, for dashboards and tests (``bus.statistics()``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .event import Event
from .subscription import Subscription

__all__ = ["BusStatistics", "SubscriptionStatistics"]


@dataclass(frozen=True, slots=True)
class SubscriptionStatistics:
    """One subscription at the moment the snapshot was taken."""

    name: str
    event_type: type[Event]
    depth: int
    """Deliveries queued, not yet taken by a worker."""
    max_pending: int
    high_water: int
    """The deepest the inbox has been."""
    in_flight: int
    """Deliveries a worker is handling now."""
    concurrency: int
    delivered: int
    failed: int
    retried: int
    dead_lettered: int
    active: bool
    """Still routed to (not unsubscribed)."""

    @classmethod
    def of(cls, subscription: Subscription[Any]) -> SubscriptionStatistics:
        inbox, stats = subscription.inbox, subscription.stats
        return cls(
            name=subscription.name,
            event_type=subscription.event_type,
            depth=len(inbox),
            max_pending=inbox.capacity,
            high_water=inbox.high_water,
            in_flight=sum(1 for event in subscription.in_flight if event is not None),
            concurrency=subscription.concurrency,
            delivered=stats.delivered,
            failed=stats.failed,
            retried=stats.retried,
            dead_lettered=stats.dead_lettered,
            active=subscription.active,
        )


@dataclass(frozen=True, slots=True)
class BusStatistics:
    """Every live subscription, and the deliveries not yet finished across the bus."""

    outstanding: int
    subscriptions: tuple[SubscriptionStatistics, ...]

    def __getitem__(self, name: str) -> SubscriptionStatistics:
        """The subscription called ``name``.

        :raises KeyError: none is.
        """
        for subscription in self.subscriptions:
            if subscription.name == name:
                return subscription
        raise KeyError(name)
