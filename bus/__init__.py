"""A small, typed, asynchronous event bus for anyio and asyncio applications.

Nothing here knows about sales: any asyncio (or trio) program can embed it::

    from salesbus.bus import Event, EventBus

    class Greeted(Event):
        name: str

    async with EventBus() as bus:
        bus.subscribe(Greeted, lambda e: print("hello", e.name))
        await bus.publish(Greeted(name="world"))
"""

from .bus import DrainReport, EventBus, FailureHook
from .codec import AnyEvent, decode_event, encode_event
from .context import run_in_context
from .errors import (
    BusClosedError,
    BusError,
    BusNotRunningError,
    DecodeError,
    DuplicateEventTypeError,
    EventTimeoutError,
    InboxFullError,
    PublishCycleError,
    PublishTimeoutError,
    UnknownEventTypeError,
)
from .event import Event, EventRegistry, default_registry
from .ids import new_event_id
from .inbox import Receipt
from .interceptors import ConsumeNext, Interceptor, PublishNext
from .policy import DeadLetter, ErrorPolicy
from .stats import BusStatistics, SubscriptionStatistics
from .subscription import Handler, HandlerFailure, Subscription, SubscriptionStats
from .transport import MemoryTransport, Transport

__all__ = [
    "AnyEvent",
    "BusClosedError",
    "BusError",
    "BusNotRunningError",
    "BusStatistics",
    "ConsumeNext",
    "DeadLetter",
    "DecodeError",
    "DrainReport",
    "DuplicateEventTypeError",
    "ErrorPolicy",
    "Event",
    "EventBus",
    "EventRegistry",
    "EventTimeoutError",
    "FailureHook",
    "Handler",
    "HandlerFailure",
    "InboxFullError",
    "Interceptor",
    "MemoryTransport",
    "PublishCycleError",
    "PublishNext",
    "PublishTimeoutError",
    "Receipt",
    "Subscription",
    "SubscriptionStatistics",
    "SubscriptionStats",
    "Transport",
    "UnknownEventTypeError",
    "decode_event",
    "default_registry",
    "encode_event",
    "new_event_id",
    "run_in_context",
]
