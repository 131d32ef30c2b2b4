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
