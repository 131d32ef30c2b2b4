"""What a batch of model requests leaves behind: which requests went out in which batch.

Kept apart from ``anthropic_batch`` (and free of the SDK) because the
orchestrator's store implements :class:`BatchLedger`, and importing the store
must not cost the seconds ``import anthropic`` does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal, NamedTuple, Protocol

__all__ = ["BatchLedger", "MemoryLedger", "RequestKey", "StoredRequest", "request_digest"]


class RequestKey(NamedTuple):
    """What one batch request is for: the step attempt's call, and a digest of what it asks."""

    workflow_id: str
    step: str
    attempt: int
    call: int
    digest: str

    @property
    def custom_id(self) -> str:
        """The API's id of the request within its batch (``[A-Za-z0-9_-]``, at most 64)."""
        workflow = _safe(self.workflow_id)
        if len(workflow) > 36 or workflow != self.workflow_id:  # kept unique by a digest
            workflow = (
                workflow[:24] + "_" + hashlib.sha256(self.workflow_id.encode()).hexdigest()[:11]
            )
        return f"{workflow}-{_safe(self.step)[:12]}-{self.attempt}-{self.call}"


def _safe(text: str) -> str:
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_" for c in text)


class StoredRequest(NamedTuple):
    """A request the ledger knows was sent: its batch and its id in it."""

    batch_id: str
    custom_id: str


class BatchLedger(Protocol):
    """Where sent batch requests are recorded, so a rerun can find them (the store)."""

    async def find_pending(self, workflow_id: str, step: str, digest: str) -> StoredRequest | None:
        """The latest request of this step with this digest whose result nobody has taken."""
        ...

    async def record_sent(self, batch_id: str, requests: Sequence[RequestKey]) -> None:
        """Record (durably, before returning) that ``requests`` went out in ``batch_id``."""
        ...

    async def record_settled(
        self,
        batch_id: str,
        custom_id: str,
        outcome: Literal["answered", "failed"],
        reason: str | None = None,
    ) -> None:
        """Record (durably) that a request's result was handed to its step.

        Waited for, so that the retry of a failed request never finds it pending.
        """
        ...


class MemoryLedger:
    """A ledger in memory: durable for the life of the process only (tests, embedding)."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str], tuple[RequestKey, str, str | None]] = {}
        """(batch id, custom id) → (key, state, reason)."""

    async def find_pending(self, workflow_id: str, step: str, digest: str) -> StoredRequest | None:
        for (batch_id, custom_id), (key, state, _) in reversed(self.requests.items()):
            if state == "pending" and (key.workflow_id, key.step, key.digest) == (
                workflow_id,
                step,
                digest,
            ):
                return StoredRequest(batch_id, custom_id)
        return None

    async def record_sent(self, batch_id: str, requests: Sequence[RequestKey]) -> None:
        for key in requests:
            self.requests[(batch_id, key.custom_id)] = (key, "pending", None)

    async def record_settled(
        self,
        batch_id: str,
        custom_id: str,
        outcome: Literal["answered", "failed"],
        reason: str | None = None,
    ) -> None:
        known = self.requests.get((batch_id, custom_id))
        if known is not None:
            self.requests[(batch_id, custom_id)] = (known[0], outcome, reason)


def request_digest(params: Mapping[str, Any]) -> str:
    """The same request always digests the same (key order and spacing do not matter)."""
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]
