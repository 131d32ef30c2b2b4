"""The store's batches and workflows: recording them, reading them a page at a time, moving
a workflow from state to state (each move a statement for the caller's group commit)."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Iterable, Sequence
from typing import Any

from salesbus.agents.models import Company

from .states import PENDING, TERMINAL_STATES
from .store_check import like_prefix
from .store_core import StoreCore
from .store_records import (
    MEMBER_COLUMNS,
    OWN_COLUMNS,
    PAGE,
    BatchRecord,
    WorkflowRecord,
    batch_from_row,
    now,
    workflow_from_row,
)
from .writer import Statement, StoreError

__all__ = ["WorkflowStore"]


class WorkflowStore(StoreCore):
    """Batches, their member workflows, and each workflow's state."""

    # -- batches -------------------------------------------------------------------

    async def create_batch(self, batch: BatchRecord) -> bool:
        """Record a batch; ``False`` when it already exists (a rerun resumes it)."""
        (inserted,) = await self.commit(
            [
                (
                    "INSERT OR IGNORE INTO batches (id, created_at, leads_path, leads_digest,"
                    " campaign_json, campaign_digest, provider, model, settings_json)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        batch.id,
                        batch.created_at,
                        batch.leads_path,
                        batch.leads_digest,
                        batch.campaign_json,
                        batch.campaign_digest,
                        batch.provider,
                        batch.model,
                        json.dumps(batch.settings),
                    ),
                )
            ]
        )
        return inserted == 1

    async def batch(self, batch_id: str | None = None) -> BatchRecord:
        """The batch with this id (or id prefix), or the latest one.

        :raises StoreError: no such batch.
        """
        if batch_id is None:
            row = await self._one("SELECT * FROM batches ORDER BY created_at DESC, id LIMIT 1")
        else:
            rows = await self._rows(
                "SELECT * FROM batches WHERE id = ? OR id LIKE ? ESCAPE '\\' ORDER BY id",
                (batch_id, like_prefix(batch_id)),
            )
            exact = [r for r in rows if r["id"] == batch_id]
            if len(rows) > 1 and not exact:
                raise StoreError(f"batch prefix {batch_id!r} is ambiguous")
            row = exact[0] if exact else (rows[0] if rows else None)
        if row is None:
            raise StoreError(f"no batch {batch_id!r}" if batch_id else "the store has no batch yet")
        return batch_from_row(row)

    # -- workflows -----------------------------------------------------------------

    async def known_workflows(self, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` are workflows in the store (ask a page at a time)."""
        if not ids:
            return set()
        rows = await self._rows(
            f"SELECT id FROM workflows WHERE id IN ({', '.join('?' * len(ids))})", ids
        )
        return {row["id"] for row in rows}

    async def add_workflows(
        self, batch_id: str, items: Iterable[tuple[str, str, Company]], *, first_seq: int = 0
    ) -> tuple[int, int]:
        """Make each ``(workflow id, company key, company)`` a member of the batch, in
        lead-list order from ``first_seq``.

        A workflow already in the store (the same company under the same
        campaign and model, from any batch) is joined, not duplicated. Items are
        written a page at a time, so a lead list is never held twice.
        Returns (members new to the batch, workflows new to the store).
        """
        members = created = 0
        page: list[Statement] = []
        for seq, (workflow_id, key, company) in enumerate(items, start=first_seq):
            stamp = now()
            page.append(
                (
                    "INSERT OR IGNORE INTO workflows (id, batch_id, seq, company_key,"
                    " company_name, company_json, line, state, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        workflow_id,
                        batch_id,
                        seq,
                        key,
                        company.name,
                        company.model_dump_json(exclude_none=True),
                        company.line,
                        PENDING,
                        stamp,
                        stamp,
                    ),
                )
            )
            page.append(
                (
                    "INSERT OR IGNORE INTO batch_members (batch_id, workflow_id, seq)"
                    " VALUES (?, ?, ?)",
                    (batch_id, workflow_id, seq),
                )
            )
            if len(page) >= 2 * PAGE:
                counts = await self.commit(page)
                created, members = created + sum(counts[::2]), members + sum(counts[1::2])
                page = []
        if page:
            counts = await self.commit(page)
            created, members = created + sum(counts[::2]), members + sum(counts[1::2])
        return members, created

    async def workflows(
        self, batch_id: str, states: Iterable[str] | None = None
    ) -> list[WorkflowRecord]:
        """The batch's workflows in lead-list order (all in memory: for small selections)."""
        return [w async for w in self.iter_workflows(batch_id, states)]

    async def iter_workflows(
        self, batch_id: str, states: Iterable[str] | None = None
    ) -> AsyncGenerator[WorkflowRecord, None]:
        """The batch's workflows in lead-list order, read a page at a time."""
        where = "m.batch_id = ? AND m.seq > ?"
        wanted = list(states) if states is not None else None
        if wanted is not None:
            where += f" AND w.state IN ({', '.join('?' * len(wanted))})"
        after = -1
        while True:
            rows = await self._rows(
                f"SELECT {MEMBER_COLUMNS} FROM batch_members m JOIN workflows w"
                f" ON w.id = m.workflow_id WHERE {where} ORDER BY m.seq LIMIT {PAGE}",
                [batch_id, after, *(wanted or ())],
            )
            for row in rows:
                yield workflow_from_row(row)
            if len(rows) < PAGE:
                return
            after = rows[-1]["seq"]

    async def workflow(self, id_or_prefix: str) -> WorkflowRecord:
        """:raises StoreError: no workflow, or a prefix that matches several."""
        rows = await self._rows(
            f"SELECT {OWN_COLUMNS} FROM workflows w WHERE w.id = ? OR w.id LIKE ? ESCAPE '\\'"
            " LIMIT 2",
            (id_or_prefix, like_prefix(id_or_prefix)),
        )
        exact = [r for r in rows if r["id"] == id_or_prefix]
        if exact:
            return workflow_from_row(exact[0])
        if not rows:
            raise StoreError(f"no workflow {id_or_prefix!r}")
        if len(rows) > 1:
            raise StoreError(f"workflow prefix {id_or_prefix!r} is ambiguous")
        return workflow_from_row(rows[0])

    async def state_counts(self, batch_id: str) -> dict[str, int]:
        rows = await self._rows(
            "SELECT w.state, COUNT(*) AS n FROM batch_members m JOIN workflows w"
            " ON w.id = m.workflow_id WHERE m.batch_id = ? GROUP BY w.state",
            (batch_id,),
        )
        return {str(r["state"]): int(r["n"]) for r in rows}

    def refresh(self, batch_id: str) -> list[Statement]:
        """Run the batch's workflows again from the start: ``--refresh``.

        Earlier attempts are kept as ``superseded``, renumbered below zero so the
        new attempts number from 1 again; they no longer count as successes,
        failures or crashes.
        """
        members = "SELECT workflow_id FROM batch_members WHERE batch_id = ?"
        return [
            (
                "UPDATE step_attempts SET status = 'superseded', attempt = -id"
                " WHERE status != 'running'"
                f" AND workflow_id IN ({members})",
                (batch_id,),
            ),
            (
                "UPDATE workflows SET state = ?, step = NULL, reason = NULL, retry_base = 0,"
                f" finished_at = NULL, updated_at = ? WHERE id IN ({members})",
                (PENDING, now(), batch_id),
            ),
        ]

    def set_state(
        self,
        workflow_id: str,
        state: str,
        *,
        step: str | None = None,
        reason: str | None = None,
        retry_base: int = 0,
        if_state: str | None = None,
        trace: tuple[str, str] | None = None,
    ) -> Statement:
        """Move a workflow; ``retry_base`` is the attempts ``step`` used before a manual retry.

        With ``if_state`` the move is a compare-and-set: rowcount 0 means the
        workflow was no longer in that state (someone else moved it first).
        ``trace`` (trace id, root span id) is stored in the same write: where
        the workflow's trace is rooted, for a resume to continue it.
        """
        finished = now() if state in TERMINAL_STATES else None
        sql = (
            "UPDATE workflows SET state = ?, step = ?, reason = ?, retry_base = ?,"
            " updated_at = ?, finished_at = ?"
        )
        params: tuple[Any, ...] = (state, step, reason, retry_base, now(), finished)
        if trace is not None:
            sql += ", trace_id = ?, span_id = ?"
            params += trace
        sql += " WHERE id = ?"
        params += (workflow_id,)
        if if_state is not None:
            sql += " AND state = ?"
            params += (if_state,)
        return sql, params
