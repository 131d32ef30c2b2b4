"""Fair admission: one in-flight limit shared round-robin by every batch with work waiting.

Each batch's orchestrator asks for a slot before admitting a workflow and
gives it back when the workflow settles. Free slots go to waiting batches in
turn, so a 50,000-company batch submitted first does not starve a 20-company
batch submitted after it: once both wait, they alternate.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field

import anyio

__all__ = ["FairAdmission"]


@dataclass(eq=False, slots=True)
class _Waiter:
    granted: bool | None = None
    """``True`` given a slot, ``False`` turned away (batch withdrawn), ``None`` still waiting."""
    event: anyio.Event = field(default_factory=anyio.Event)


class FairAdmission:
    """At most ``limit`` workflows in flight across batches; waiting batches served in turn.

    Implements :class:`salesbus.orchestrator.engine.Admission`.
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.in_flight = 0
        self.held: dict[str, int] = {}
        """Slots each batch holds now."""
        self._waiting: OrderedDict[str, deque[_Waiter]] = OrderedDict()
        self._withdrawn: set[str] = set()

    @property
    def queued(self) -> int:
        """Admissions waiting for a slot (one per batch with work, for the service)."""
        return sum(len(q) for q in self._waiting.values())

    async def acquire(self, batch_id: str) -> bool:
        """Wait for a slot for a workflow of ``batch_id``; ``False``: the batch was withdrawn."""
        if batch_id in self._withdrawn:
            return False
        if self.in_flight < self.limit and not self._waiting:
            self._take(batch_id)
            return True
        waiter = _Waiter()
        self._waiting.setdefault(batch_id, deque()).append(waiter)
        try:
            await waiter.event.wait()
        except BaseException:
            if waiter.granted:
                self.release(batch_id)
            else:
                self._forget(batch_id, waiter)
            raise
        return bool(waiter.granted)

    def release(self, batch_id: str) -> None:
        """Give back a slot of ``batch_id`` and hand it to the next batch in turn."""
        self.in_flight -= 1
        left = self.held.get(batch_id, 0) - 1
        if left > 0:
            self.held[batch_id] = left
        else:
            self.held.pop(batch_id, None)
        self._grant()

    def withdraw(self, batch_id: str) -> None:
        """Turn away the batch's waiting and future admissions (cancel, shutdown)."""
        self._withdrawn.add(batch_id)
        for waiter in self._waiting.pop(batch_id, deque()):
            waiter.granted = False
            waiter.event.set()
        self._grant()

    def readmit(self, batch_id: str) -> None:
        """Undo :meth:`withdraw`: the batch may ask for slots again (a retry after cancel)."""
        self._withdrawn.discard(batch_id)

    def _take(self, batch_id: str) -> None:
        self.in_flight += 1
        self.held[batch_id] = self.held.get(batch_id, 0) + 1

    def _grant(self) -> None:
        while self.in_flight < self.limit and self._waiting:
            batch_id, queue = next(iter(self._waiting.items()))
            waiter = queue.popleft()
            if queue:
                self._waiting.move_to_end(batch_id)
            else:
                del self._waiting[batch_id]
            self._take(batch_id)
            waiter.granted = True
            waiter.event.set()

    def _forget(self, batch_id: str, waiter: _Waiter) -> None:
        queue = self._waiting.get(batch_id)
        if queue is not None and waiter in queue:
            queue.remove(waiter)
            if not queue:
                del self._waiting[batch_id]
