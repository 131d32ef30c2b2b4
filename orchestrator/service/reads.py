"""The service's read-only queries: lists, aggregates and the event log since a point.

They use their own read-only connection to the store's file (SQLite WAL lets
it read while the writer commits), so a busy dashboard never queues behind the
orchestrator's reads, and the store keeps only what runs need.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite
import anyio

from salesbus.orchestrator.states import AWAITING_APPROVAL, TERMINAL_STATES
from salesbus.orchestrator.store import Store

from .batch_rollup import STATES_TABLE, USAGE_TABLE

__all__ = ["STATE_EVENT_TYPES", "BatchSummary", "LoggedEvent", "Reads", "Usage", "open_reads"]

STATE_EVENT_TYPES = (
    "salesbus.StepStarted",
    "salesbus.StepSucceeded",
    "salesbus.StepSkipped",
    "salesbus.StepFailed",
    "salesbus.ApprovalRequested",
    "salesbus.ApprovalDecided",
    "salesbus.WorkflowCompleted",
    "salesbus.WorkflowFailed",
)
"""The event-log entries that change or explain a workflow's state: what ``/events`` streams."""

_EVENT_FIELDS = ("step", "attempt", "outcome", "reason", "decision", "note", "batch_id")


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    seq: int
    type: str
    workflow_id: str | None
    batch_id: str | None
    occurred_at: str
    fields: dict[str, Any]

    def payload(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "type": self.type.removeprefix("salesbus."),
            "workflow_id": self.workflow_id,
            "batch_id": self.batch_id,
            "occurred_at": self.occurred_at,
            **self.fields,
        }


@dataclass(frozen=True, slots=True)
class Usage:
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    retries: int = 0


@dataclass(frozen=True, slots=True)
class BatchSummary:
    id: str
    created_at: str
    provider: str
    model: str
    leads_path: str | None
    states: dict[str, int]
    usage: Usage


class Reads:
    def __init__(self, conn: aiosqlite.Connection, store: Store) -> None:
        self._conn = conn
        self.store = store
        """The store's own reads (workflows, attempts, decisions, exports) on this connection."""

    async def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        return list(await self._conn.execute_fetchall(sql, params))

    async def batch_ids(self) -> list[str]:
        rows = await self._rows("SELECT id FROM batches ORDER BY created_at, id")
        return [str(r["id"]) for r in rows]

    async def unfinished_batches(self) -> list[str]:
        """Batches with a workflow neither finished nor waiting for a person."""
        done = (*TERMINAL_STATES, AWAITING_APPROVAL)
        rows = await self._rows(
            "SELECT DISTINCT batch_id FROM workflows"
            f" WHERE state NOT IN ({', '.join('?' * len(done))})",
            done,
        )
        return sorted(str(r["batch_id"]) for r in rows)

    async def usage(self, batch_id: str | None = None) -> Usage:
        """Calls, tokens, cost and retries of a batch's attempts (or of every batch), from
        the rollup the store's triggers keep (:mod:`.batch_rollup`): no scan of the attempts."""
        where, params = ("WHERE batch_id = ?", (batch_id,)) if batch_id else ("", ())
        rows = await self._rows(
            "SELECT COALESCE(SUM(attempts), 0) AS n, COALESCE(SUM(steps), 0) AS steps,"
            " COALESCE(SUM(calls), 0) AS calls, COALESCE(SUM(input_tokens), 0) AS inp,"
            " COALESCE(SUM(output_tokens), 0) AS outp, COALESCE(SUM(cost_usd), 0) AS cost"
            f" FROM {USAGE_TABLE} {where}",
            params,
        )
        return _usage(rows[0])

    async def summary(self, batch_id: str) -> BatchSummary | None:
        """A batch's record, counts by state and usage in one query (one trip to SQLite's
        thread: ``GET /batches/{id}`` is what dashboards poll while batches run).

        Its cost does not grow with the batch: usage and counts by state are the
        batch's rows of the rollups the store's triggers keep (:mod:`.batch_rollup`)."""
        rows = await self._rows(
            "SELECT b.id, b.created_at, b.provider, b.model, b.leads_path,"
            f" (SELECT json_group_object(state, n) FROM {STATES_TABLE}"
            "   WHERE batch_id = b.id AND n > 0) AS states,"
            " COALESCE(u.attempts, 0) AS n, COALESCE(u.steps, 0) AS steps,"
            " COALESCE(u.calls, 0) AS calls, COALESCE(u.input_tokens, 0) AS inp,"
            " COALESCE(u.output_tokens, 0) AS outp, COALESCE(u.cost_usd, 0) AS cost"
            f" FROM batches b LEFT JOIN {USAGE_TABLE} u ON u.batch_id = b.id WHERE b.id = ?",
            (batch_id,),
        )
        if not rows:
            return None
        row = rows[0]
        return BatchSummary(
            id=str(row["id"]),
            created_at=str(row["created_at"]),
            provider=str(row["provider"]),
            model=str(row["model"]),
            leads_path=row["leads_path"],
            states={str(k): int(v) for k, v in json.loads(row["states"] or "{}").items()},
            usage=_usage(row),
        )

    async def states(self) -> dict[str, int]:
        rows = await self._rows(
            f"SELECT state, SUM(n) AS n FROM {STATES_TABLE} GROUP BY state HAVING SUM(n) > 0"
        )
        return {str(r["state"]): int(r["n"]) for r in rows}

    async def step_latency(
        self, bounds: Sequence[float]
    ) -> dict[str, tuple[list[int], int, float]]:
        """Per step: cumulative counts of attempts within each bound (seconds), count, sum."""
        cases = ", ".join(
            f"SUM(CASE WHEN duration_ms <= {float(b) * 1000!r} THEN 1 ELSE 0 END) AS b{i}"
            for i, b in enumerate(bounds)
        )
        rows = await self._rows(
            f"SELECT step, COUNT(*) AS n, SUM(duration_ms) AS total, {cases}"
            " FROM step_attempts WHERE duration_ms IS NOT NULL GROUP BY step ORDER BY step"
        )
        return {
            str(r["step"]): (
                [int(r[f"b{i}"]) for i in range(len(bounds))],
                int(r["n"]),
                float(r["total"] or 0) / 1000,
            )
            for r in rows
        }

    async def attempt_counts(self) -> dict[tuple[str, str], int]:
        rows = await self._rows(
            "SELECT step, status, COUNT(*) AS n FROM step_attempts GROUP BY step, status"
        )
        return {(str(r["step"]), str(r["status"])): int(r["n"]) for r in rows}

    async def awaiting(self, batch_id: str | None = None, limit: int = 500) -> list[str]:
        """Workflows awaiting approval (of one batch or all), oldest first."""
        where, params = "WHERE state = ?", [AWAITING_APPROVAL]
        if batch_id:
            where += " AND batch_id = ?"
            params.append(batch_id)
        rows = await self._rows(
            f"SELECT id FROM workflows {where} ORDER BY updated_at, id LIMIT ?", [*params, limit]
        )
        return [str(r["id"]) for r in rows]

    async def events_since(
        self, after: int, batch_id: str | None = None, limit: int = 500
    ) -> list[LoggedEvent]:
        """State events logged after sequence number ``after``, in order."""
        types = ", ".join("?" * len(STATE_EVENT_TYPES))
        sql = (
            "SELECT e.seq, e.type, e.workflow_id, w.batch_id, e.occurred_at, e.body"
            " FROM events e LEFT JOIN workflows w ON w.id = e.workflow_id"
            f" WHERE e.seq > ? AND e.type IN ({types})"
        )
        params: list[Any] = [after, *STATE_EVENT_TYPES]
        if batch_id:
            sql += " AND w.batch_id = ?"
            params.append(batch_id)
        rows = await self._rows(sql + " ORDER BY e.seq LIMIT ?", [*params, limit])
        return [_logged(r) for r in rows]

    async def last_seq(self) -> int:
        rows = await self._rows("SELECT COALESCE(MAX(seq), 0) AS seq FROM events")
        return int(rows[0]["seq"])


def _usage(row: aiosqlite.Row) -> Usage:
    return Usage(
        calls=int(row["calls"]),
        input_tokens=int(row["inp"]),
        output_tokens=int(row["outp"]),
        cost_usd=float(row["cost"]),
        retries=int(row["n"]) - int(row["steps"]),
    )


def _logged(row: aiosqlite.Row) -> LoggedEvent:
    try:
        logged = json.loads(row["body"])
    except ValueError:
        logged = {}
    body = logged.get("data", {}) if isinstance(logged, dict) else {}
    fields = {k: body[k] for k in _EVENT_FIELDS if k in body and body[k] is not None}
    fields.pop("batch_id", None)
    return LoggedEvent(
        seq=int(row["seq"]),
        type=str(row["type"]),
        workflow_id=row["workflow_id"],
        batch_id=row["batch_id"],
        occurred_at=str(row["occurred_at"]),
        fields=fields,
    )


@asynccontextmanager
async def open_reads(path: str | Path) -> AsyncIterator[Reads]:
    """A read-only connection to an existing store file (open the store first: it migrates).

    :attr:`Reads.store` is a :class:`Store` on the same connection whose writer
    is closed from the start (and given a read-only connection): a write
    through it fails at once with ``StoreError`` instead of racing the store
    that writes, which lives on the runtime's loop (:mod:`.runtime_thread`).
    """
    absolute = await anyio.Path(path).absolute()
    uri = f"{Path(absolute).as_uri()}?mode=ro"
    async with aiosqlite.connect(uri, uri=True, isolation_level=None) as conn:
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA busy_timeout = 30000")
        never_written = sqlite3.connect(uri, uri=True, check_same_thread=False)
        try:
            store = Store(conn, never_written, str(absolute))
            store.writer.close()
            yield Reads(conn, store)
        finally:
            never_written.close()
