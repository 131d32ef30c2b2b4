"""What a subscription does when its handler raises: log, retry, dead-letter.

The default is the bus's long-standing behaviour: the failure goes to the
failure hooks (or the log) and the worker carries on. A policy adds retries
with exponential backoff before that, and can publish a :class:`DeadLetter`
event after the last attempt, so that failures become data another
subscriber can store, alert on or replay.
"""

from __future__ import annotations

from dataclasses import dataclass

from .codec import AnyEvent
from .event import Event

__all__ = ["DeadLetter", "ErrorPolicy"]


@dataclass(frozen=True, slots=True)
class ErrorPolicy:
    """Per-subscription error handling::

        bus.subscribe(OrderPlaced, ship, on_error=ErrorPolicy(retries=3, dead_letter=True))

    ``retries`` more attempts after the first, the n-th retry after
    ``backoff * factor ** (n - 1)`` seconds (at most ``max_backoff``); the worker
    holds the delivery meanwhile, so order is kept at concurrency 1. After the
    last attempt the failure hooks run (or the failure is logged), then, with
    ``dead_letter``, a :class:`DeadLetter` is published.
    """

    retries: int = 0
    backoff: float = 0.1
    factor: float = 2.0
    max_backoff: float = 30.0
    dead_letter: bool = False

    def __post_init__(self) -> None:
        if self.retries < 0 or self.backoff < 0 or self.factor < 1 or self.max_backoff < 0:
            raise ValueError(f"invalid error policy: {self}")

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        return min(self.backoff * self.factor ** (retry - 1), self.max_backoff)


class DeadLetter(Event):
    """An event a subscription gave up on, with why.

    Published in the context of the failed delivery, caused by the original
    event (same correlation id and trace). A failing ``DeadLetter`` handler is
    never dead-lettered again, so a broken dead-letter store cannot loop.
    """

    type_name = "salesbus.bus.DeadLetter"

    event: AnyEvent
    subscription: str
    error_type: str
    error: str
    attempts: int
