"""The bounded queue in front of one subscription's workers.

Putting never awaits while there is room: a publish to subscribers with free
capacity costs a deque append, not a trip through the event loop. Only a full
inbox makes the publisher wait (backpressure), and only an empty one makes a
worker wait.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from contextvars import Context
from typing import TYPE_CHECKING

import anyio

if TYPE_CHECKING:
    from .event import Event

__all__ = ["Delivery", "Inbox", "Receipt", "Tracker"]


class Receipt:
    """Acknowledgement hooks a transport attaches to a delivery (at-least-once transports).

    The in-memory transport attaches none; a broker transport acks after the
    handler returns and naks after it raises, so the broker redelivers.
    """

    async def ack(self) -> None:
        """The handler finished: the broker may forget the message."""

    async def nak(self) -> None:
        """The handler failed: the broker may deliver the message again."""


Delivery = tuple["Event", Context, Receipt | None]
"""One event on its way to one subscription, with the context it was published in."""


class Tracker:
    """Counts deliveries not yet finished across one bus, so ``drain`` knows when it is idle."""

    __slots__ = ("_idle", "outstanding")

    def __init__(self) -> None:
        self.outstanding = 0
        self._idle: anyio.Event | None = None

    def done(self) -> None:
        self.outstanding -= 1
        if self.outstanding == 0 and self._idle is not None:
            self._idle.set()
            self._idle = None

    async def wait_idle(self) -> None:
        while self.outstanding:
            if self._idle is None:
                self._idle = anyio.Event()
            await self._idle.wait()


class Inbox:
    """FIFO of deliveries bounded at ``capacity``, shared by a subscription's workers."""

    __slots__ = ("_idle_workers", "_tracker", "blocked_senders", "capacity", "high_water", "items")

    def __init__(self, capacity: int, tracker: Tracker) -> None:
        if capacity < 1:
            raise ValueError("an inbox needs room for at least one delivery")
        self.capacity = capacity
        self.items: deque[Delivery] = deque()
        self.high_water = 0
        self._tracker = tracker
        self._idle_workers: deque[anyio.Event] = deque()
        self.blocked_senders: deque[anyio.Event] = deque()

    def __len__(self) -> int:
        return len(self.items)

    def offer(self, delivery: Delivery) -> bool:
        """Enqueue if there is room; ``False`` means full and nothing was enqueued."""
        items = self.items
        if len(items) >= self.capacity:
            return False
        items.append(delivery)
        self._tracker.outstanding += 1
        if len(items) > self.high_water:
            self.high_water = len(items)
        if self._idle_workers:
            self._idle_workers.popleft().set()
        return True

    async def put(self, delivery: Delivery) -> None:
        """Enqueue, waiting for room while the inbox is full."""
        while not self.offer(delivery):
            await _wait_turn(self.blocked_senders, pass_on=lambda: len(self.items) < self.capacity)

    async def wait_for_delivery(self) -> None:
        """Park an idle worker until something is offered."""
        if not self.items:
            await _wait_turn(self._idle_workers, pass_on=lambda: bool(self.items))

    def clear(self) -> list[Delivery]:
        """Remove and return everything queued (used when a drain gives up)."""
        dropped = list(self.items)
        self.items.clear()
        for _ in dropped:
            self._tracker.done()
        return dropped


async def _wait_turn(waiters: deque[anyio.Event], pass_on: Callable[[], bool]) -> None:
    """Wait to be woken; if cancelled after being woken, hand the wake-up to the next waiter.

    Without the hand-over a cancelled waiter would swallow the only wake-up and
    leave the others parked while there is work (or room) for them.
    """
    wakeup = anyio.Event()
    waiters.append(wakeup)
    try:
        await wakeup.wait()
    except BaseException:
        if wakeup.is_set():
            if waiters and pass_on():
                waiters.popleft().set()
        else:
            waiters.remove(wakeup)
        raise
