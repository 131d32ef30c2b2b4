"""The store's record of Message Batches requests: what ``run --batch-api`` sent, and where.

:class:`StoreLedger` is the :class:`~salesbus.agents.providers.anthropic_batch.BatchLedger`
of a run: a batch's requests are committed (waited for) before any step waits
for the batch, so a run killed while its batch is processing leaves rows in
``pending`` that the rerun's steps find by workflow, step and request digest.
Taking a result is recorded too, before the step goes on, so a failed
request's retry never finds it pending; should that write fail, a rerun only
reads the same result again from the API (results are kept 29 days).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from salesbus.agents.providers.batch_ledger import RequestKey, StoredRequest

from .store import Store, now

__all__ = ["StoreLedger"]


class StoreLedger:
    """Batch requests in the ``message_batch_requests`` table of a store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def find_pending(self, workflow_id: str, step: str, digest: str) -> StoredRequest | None:
        rows = await self.store.read(
            "SELECT batch_id, custom_id FROM message_batch_requests"
            " WHERE workflow_id = ? AND step = ? AND request_digest = ? AND state = 'pending'"
            " ORDER BY sent_at DESC LIMIT 1",
            (workflow_id, step, digest),
        )
        return StoredRequest(rows[0]["batch_id"], rows[0]["custom_id"]) if rows else None

    async def record_sent(self, batch_id: str, requests: Sequence[RequestKey]) -> None:
        sent_at = now()
        await self.store.commit(
            [
                (
                    "INSERT OR IGNORE INTO message_batch_requests (batch_id, custom_id,"
                    " workflow_id, step, attempt, call, request_digest, state, sent_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
                    (
                        batch_id,
                        key.custom_id,
                        key.workflow_id,
                        key.step,
                        key.attempt,
                        key.call,
                        key.digest,
                        sent_at,
                    ),
                )
                for key in requests
            ]
        )

    async def record_settled(
        self,
        batch_id: str,
        custom_id: str,
        outcome: Literal["answered", "failed"],
        reason: str | None = None,
    ) -> None:
        await self.store.commit(
            [
                (
                    "UPDATE message_batch_requests SET state = ?, reason = ?, settled_at = ?"
                    " WHERE batch_id = ? AND custom_id = ?",
                    (outcome, reason, now(), batch_id, custom_id),
                )
            ]
        )
