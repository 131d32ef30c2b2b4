"""The bounded queue in front of one subscription's workers.

Putting never awaits while there is room: a publish to subscribers with free
capacity costs a deque append, not a trip through the event loop. Only a full
inbox makes the publisher wait (backpressure), and only an empty one makes a
worker wait.

A publisher that must wait *reserves* a place before it enqueues anything, so a
fan-out either reaches every subscriber or, when cancelled or timed out while
waiting, none of them.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from contextvars import Context
from typing import TYPE_CHECKING, Protocol

import anyio

from .errors import PublishCycleError

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


class Flag(Protocol):
    """What the bus needs of an event flag: ``anyio.Event``, ``asyncio.Event`` and
    ``trio.Event`` all fit."""

    async def wait(self) -> object: ...

    def set(self) -> object: ...

    def is_set(self) -> bool: ...


Delivery = tuple["Event", Context | None, Receipt | None]
"""One event on its way to one subscription, with the context it was published in
(``None`` for a subscription made with ``isolate_context=False``)."""


class Tracker:
    """Bus-wide bookkeeping shared by every inbox.

    Counts deliveries not yet finished, so ``join``/``drain`` know when the bus is
    idle; knows which task is a worker of which inbox, so a publish from inside a
    handler can tell whether waiting would close a cycle; and makes the flags that
    parked tasks wait on.
    """

    __slots__ = ("_idle", "event_class", "outstanding", "workers")

    def __init__(self) -> None:
        self.outstanding = 0
        self._idle: Flag | None = None
        self.workers: dict[int, Inbox] = {}
        self.event_class: Callable[[], Flag] = anyio.Event

    def bind_backend(self) -> None:
        """Called inside the running event loop: choose the cheapest flag for it.

        On asyncio that is ``asyncio.Event`` itself: anyio's wrapper adds a
        backend lookup per flag and a frame per wait, which was a tenth of an
        awaited round trip. Other backends get anyio's own class (cached, so the
        lookup happens once).
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self.event_class = type(anyio.Event())
        else:
            self.event_class = asyncio.Event

    def done(self) -> None:
        self.outstanding -= 1
        if self.outstanding == 0 and self._idle is not None:
            self._idle.set()
            self._idle = None

    async def wait_idle(self) -> None:
        while self.outstanding:
            if self._idle is None:
                self._idle = self.event_class()
            await self._idle.wait()


class Inbox:
    """FIFO of deliveries bounded at ``capacity``, shared by a subscription's workers."""

    __slots__ = (
        "_idle_workers",
        "_tracker",
        "blocked_senders",
        "capacity",
        "closed",
        "high_water",
        "items",
        "name",
        "reserved",
        "waiting_on",
        "workers",
    )

    def __init__(self, capacity: int, tracker: Tracker, name: str = "") -> None:
        if capacity < 1:
            raise ValueError("an inbox needs room for at least one delivery")
        self.capacity = capacity
        self.name = name
        self.items: deque[Delivery] = deque()
        self.high_water = 0
        self.reserved = 0
        """Places promised to publishers that waited for room and have not enqueued yet."""
        self.closed = False
        self.workers = 0
        """Live worker tasks."""
        self.waiting_on: list[Inbox] = []
        """For each of this inbox's workers blocked in a publish: the inbox it waits on."""
        self._tracker = tracker
        self._idle_workers: deque[Flag] = deque()
        self.blocked_senders: deque[Flag] = deque()

    def __len__(self) -> int:
        return len(self.items)

    def full(self) -> bool:
        """No room for one more delivery (a closed inbox takes, and drops, anything)."""
        return len(self.items) + self.reserved >= self.capacity and not self.closed

    def push(self, delivery: Delivery) -> None:
        """Enqueue without a capacity check: the caller checked :meth:`full` or reserved."""
        if self.closed:
            return
        items = self.items
        items.append(delivery)
        self._tracker.outstanding += 1
        if len(items) > self.high_water:
            self.high_water = len(items)
        if self._idle_workers:
            self._idle_workers.popleft().set()

    async def reserve(self) -> None:
        """Wait for room and hold a place for one delivery; follow with :meth:`commit` or
        :meth:`release`.

        :raises PublishCycleError: the caller is a worker of a subscription, and
            waiting would close a cycle of inboxes whose every worker waits.
        """
        while self.full():
            origin = self._tracker.workers.get(anyio.get_current_task().id)
            if origin is None:
                await self._wait_for_room()
                continue
            origin.waiting_on.append(self)
            try:
                check_for_cycle(origin)
                await self._wait_for_room()
            finally:
                origin.waiting_on.remove(self)
        self.reserved += 1

    async def _wait_for_room(self) -> None:
        await _wait_turn(self.blocked_senders, lambda: not self.full(), self._tracker.event_class)

    def commit(self, delivery: Delivery) -> None:
        """Turn a reservation into a queued delivery."""
        self.reserved -= 1
        self.push(delivery)

    def release(self) -> None:
        """Give a reservation back unused (the publish was cancelled or timed out)."""
        self.reserved -= 1
        if self.blocked_senders and not self.full():
            self.blocked_senders.popleft().set()

    async def wait_for_delivery(self) -> None:
        """Park an idle worker until something is offered or the inbox is closed.

        :func:`_wait_turn` written out: this runs once per delivery when the
        publisher and the worker take turns (an awaited round trip).
        """
        if self.items or self.closed:
            return
        wakeup = self._tracker.event_class()
        waiters = self._idle_workers
        waiters.append(wakeup)
        try:
            await wakeup.wait()
        except BaseException:
            if not wakeup.is_set():
                waiters.remove(wakeup)
            elif waiters and (self.items or self.closed):
                waiters.popleft().set()
            raise

    def close(self) -> None:
        """Take nothing more; wake every parked worker and publisher so they see it.

        What is queued stays: workers finish it, then exit (:meth:`clear` drops it).
        """
        self.closed = True
        while self._idle_workers:
            self._idle_workers.popleft().set()
        while self.blocked_senders:
            self.blocked_senders.popleft().set()

    def clear(self) -> list[Delivery]:
        """Remove and return everything queued (a drain that gives up, a ``once`` subscription)."""
        dropped = list(self.items)
        self.items.clear()
        for _ in dropped:
            self._tracker.done()
        while self.blocked_senders and not self.full():
            self.blocked_senders.popleft().set()
        return dropped


def check_for_cycle(origin: Inbox) -> None:
    """Raise if ``origin`` can only make room once ``origin`` itself has made room.

    An inbox is *stuck* when every one of its workers waits in a publish for a
    full inbox that is itself stuck (a greatest fixed point over the inboxes
    reachable from ``origin``): none of them can ever pop again. Checked only when
    a worker is about to wait, so the hot path never pays for it.

    :raises PublishCycleError: ``origin`` is stuck.
    """
    reachable: list[Inbox] = []
    stack = [origin]
    while stack:
        inbox = stack.pop()
        if inbox in reachable:
            continue
        if len(inbox.waiting_on) < inbox.workers or not inbox.workers:
            continue  # a worker is free: this inbox drains
        reachable.append(inbox)
        stack.extend(inbox.waiting_on)
    stuck = set(reachable)
    changed = True
    while changed:
        changed = False
        for inbox in list(stuck):
            if any(t not in stuck or not t.full() for t in inbox.waiting_on):
                stuck.discard(inbox)
                changed = True
    if origin in stuck:
        raise PublishCycleError([inbox.name for inbox in reachable if inbox in stuck])


async def _wait_turn(
    waiters: deque[Flag], pass_on: Callable[[], bool], make_event: Callable[[], Flag]
) -> None:
    """Wait to be woken; if cancelled after being woken, hand the wake-up to the next waiter.

    Without the hand-over a cancelled waiter would swallow the only wake-up and
    leave the others parked while there is work (or room) for them.
    """
    wakeup = make_event()
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
