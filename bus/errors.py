"""Errors raised by the bus, as types a caller can catch precisely."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .event import Event

__all__ = [
    "BusClosedError",
    "BusError",
    "BusNotRunningError",
    "DecodeError",
    "DuplicateEventTypeError",
    "EventTimeoutError",
    "InboxFullError",
    "PublishCycleError",
    "PublishTimeoutError",
    "UnknownEventTypeError",
]


class BusError(Exception):
    """Base of every error the bus raises."""


class BusNotRunningError(BusError):
    """``publish`` was called before ``async with EventBus()`` started the bus."""

    def __init__(self) -> None:
        super().__init__("the bus is not running: publish inside `async with EventBus() as bus:`")


class BusClosedError(BusError):
    """``publish`` was called after the bus was drained and closed."""

    def __init__(self) -> None:
        super().__init__("the bus is closed and takes no more events")


class DuplicateEventTypeError(BusError):
    """Two different event classes claim the same wire name."""

    def __init__(self, name: str, existing: type[Event], new: type[Event]) -> None:
        super().__init__(
            f"event type name {name!r} is taken by {existing.__module__}.{existing.__qualname__};"
            f" give {new.__module__}.{new.__qualname__} its own `type_name`"
        )
        self.name = name


class UnknownEventTypeError(BusError):
    """A wire name that no registered event class holds."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no event class is registered as {name!r}")
        self.name = name


class DecodeError(BusError):
    """Bytes that are not a valid encoded event."""


class InboxFullError(BusError):
    """``publish_nowait`` found a subscriber's inbox full; the event went to no subscriber."""

    def __init__(self, subscription: str) -> None:
        super().__init__(f"the inbox of {subscription!r} is full; nothing was delivered")
        self.subscription = subscription


class PublishTimeoutError(BusError, TimeoutError):
    """``publish(timeout=...)`` waited that long for room; the event went to no subscriber."""

    def __init__(self, timeout: float) -> None:
        super().__init__(
            f"no room in every subscriber's inbox within {timeout}s; nothing delivered"
        )
        self.timeout = timeout


class PublishCycleError(BusError):
    """A handler's publish would wait on inboxes that can only drain once it returns.

    Raised in the handler that closes the cycle, so it fails (and its error
    policy applies) instead of every subscription on the cycle waiting forever.
    """

    def __init__(self, cycle: list[str]) -> None:
        super().__init__(
            "publish cycle: every worker of "
            + " -> ".join(repr(name) for name in cycle)
            + " waits for room in the next inbox; raise max_pending, add concurrency,"
            " or publish_nowait from one of them"
        )
        self.cycle = cycle


class EventTimeoutError(BusError, TimeoutError):
    """``wait_for`` or ``request`` saw no matching event in time."""

    def __init__(self, what: str, timeout: float | None) -> None:
        super().__init__(f"no {what} within {timeout}s")
        self.timeout = timeout
