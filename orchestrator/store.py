"""The durable store: one SQLite file (WAL); batches, workflows, attempts, decisions, leases.

Writes go through one :class:`~salesbus.orchestrator.writer.Writer` (one queue,
one task, group commits, failed writes tried in place; see ``writer.py``).
Other processes (``salesbus approve`` while a run is going) wait on
``busy_timeout`` instead of failing, so "database is locked" never reaches a
user.

Reads of a whole batch (resume, metrics, export) go a page or an aggregate at a
time, never the batch's payloads at once.

Size policy for payloads: a step's *output* is stored once — without what it
carries over from its input, compressed when large (see ``payloads.py``) — it
is the next step's input after a restart and what ``export`` reads. A step's
*input* is the event log's entry (``input_event_id``); an event-log entry keeps
the event without its payload fields (they name them: the payloads are the
workflow's company or a step's output, stored once); a log body still over
:data:`EVENT_BODY_LIMIT` characters is replaced by a stub naming its type and
size.
``prune`` drops the event-log bodies of a finished batch.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Sequence
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import anyio
from pydantic import BaseModel

from salesbus.agents.models import Company
from salesbus.bus import Event

from .faults import Faults, faults_from_env
from .payloads import PAYLOAD_VERSION, StoredPayload, carried_fields, expand, load_payload
from .states import PENDING, TERMINAL_STATES
from .store_check import checked_open, like_prefix
from .writer import (
    BUSY_TIMEOUT_MS,
    LostWriteHook,
    Statement,
    StoreError,
    Writer,
    writer_connection,
)

__all__ = [
    "EVENT_BODY_LIMIT",
    "AttemptRecord",
    "BatchRecord",
    "ResumePoint",
    "Statement",
    "StepHistory",
    "Store",
    "StoreError",
    "WorkflowRecord",
    "open_store",
    "status_event_json",
]


EVENT_BODY_LIMIT = 4_096
PAGE = 500
"""Rows read per query when a batch is streamed."""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True, slots=True)
class BatchRecord:
    id: str
    leads_digest: str
    campaign_json: str
    campaign_digest: str
    provider: str
    model: str
    leads_path: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    created_at: str = field(default_factory=now)


@dataclass(frozen=True, slots=True)
class WorkflowRecord:
    id: str
    batch_id: str
    seq: int
    company: Company
    state: str
    step: str | None
    reason: str | None
    retry_base: int
    trace_id: str | None
    span_id: str | None
    created_at: str
    updated_at: str
    finished_at: str | None

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL_STATES


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    workflow_id: str
    step: str
    attempt: int
    status: str
    started_at: str
    ended_at: str | None
    duration_ms: float | None
    error_kind: str | None
    error_message: str | None
    retryable: bool | None
    input_json: str | None
    output_json: str | None
    calls: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: float


def compact_event_json(event: Event) -> str:
    """An event as JSON with its payload fields named instead of copied.

    Payloads (nested models: a company, a profile, an analysis, a step's
    output) are stored whole once — as the workflow's company or a step's
    output — so a step input or an event-log entry keeps the event's identity,
    links and small fields, and the names of the payloads it carried.
    """
    payloads = {name for name, value in event if isinstance(value, BaseModel)}
    data = event.__pydantic_serializer__.to_json(event, exclude=payloads).decode()
    return (
        f'{{"type":{json.dumps(type(event).type_name)},"data":{data},'
        f'"payload_fields":{json.dumps(sorted(payloads))}}}'
    )


def status_event_json(event: Event, fields: Iterable[str]) -> str:
    """A status event as JSON with only the named small fields, in the log's shape.

    What a progress stream shows of a step's status; the attempt row keeps
    the rest (usage, duration, error), so the log need not repeat it.
    """
    data = event.model_dump(mode="json", include=set(fields), exclude_none=True)
    return json.dumps({"type": type(event).type_name, "data": data}, separators=(",", ":"))


class Store:
    """Batches, workflows, step attempts, decisions and the event log of one SQLite file."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        writer: sqlite3.Connection,
        path: str,
        faults: Faults | None = None,
    ) -> None:
        self.path = path
        self._conn = conn
        self.writer = Writer(writer, faults if faults is not None else faults_from_env())

    # -- writing (see ``writer.py``) -------------------------------------------------

    @property
    def faults(self) -> Faults:
        return self.writer.faults

    @property
    def rows_written(self) -> int:
        return self.writer.rows_written

    @property
    def lost_writes(self) -> int:
        return self.writer.lost_writes

    @property
    def on_lost_write(self) -> LostWriteHook | None:
        return self.writer.on_lost_write

    @on_lost_write.setter
    def on_lost_write(self, hook: LostWriteHook | None) -> None:
        self.writer.on_lost_write = hook

    def enqueue(self, statements: list[Statement], owner: str | None = None) -> None:
        """Queue writes to commit with the next group; do not wait for them.

        A write that fails every try is reported to :attr:`on_lost_write` with
        ``owner`` (the orchestrator fails that workflow), never only logged.
        """
        self.writer.enqueue(statements, owner)

    async def commit(self, statements: list[Statement]) -> list[int]:
        """Queue writes and wait until they are durable; returns each statement's rowcount.

        :raises StoreError: the write failed every one of its tries.
        """
        return await self.writer.commit(statements)

    async def flush(self) -> None:
        """Wait until everything queued so far is committed."""
        await self.writer.flush()

    # -- reading -------------------------------------------------------------------

    async def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        return list(await self._conn.execute_fetchall(sql, params))

    async def read(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        """Rows of a query on the reading connection, for store modules outside this one."""
        return await self._rows(sql, params)

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> aiosqlite.Row | None:
        rows = await self._rows(sql, params)
        return rows[0] if rows else None

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
        return _batch(row)

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
                f"SELECT {_MEMBER_COLUMNS} FROM batch_members m JOIN workflows w"
                f" ON w.id = m.workflow_id WHERE {where} ORDER BY m.seq LIMIT {PAGE}",
                [batch_id, after, *(wanted or ())],
            )
            for row in rows:
                yield _workflow(row)
            if len(rows) < PAGE:
                return
            after = rows[-1]["seq"]

    async def workflow(self, id_or_prefix: str) -> WorkflowRecord:
        """:raises StoreError: no workflow, or a prefix that matches several."""
        rows = await self._rows(
            f"SELECT {_OWN_COLUMNS} FROM workflows w WHERE w.id = ? OR w.id LIKE ? ESCAPE '\\'"
            " LIMIT 2",
            (id_or_prefix, like_prefix(id_or_prefix)),
        )
        exact = [r for r in rows if r["id"] == id_or_prefix]
        if exact:
            return _workflow(exact[0])
        if not rows:
            raise StoreError(f"no workflow {id_or_prefix!r}")
        if len(rows) > 1:
            raise StoreError(f"workflow prefix {id_or_prefix!r} is ambiguous")
        return _workflow(rows[0])

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
    ) -> Statement:
        """Move a workflow; ``retry_base`` is the attempts ``step`` used before a manual retry.

        With ``if_state`` the move is a compare-and-set: rowcount 0 means the
        workflow was no longer in that state (someone else moved it first).
        """
        finished = now() if state in TERMINAL_STATES else None
        sql = (
            "UPDATE workflows SET state = ?, step = ?, reason = ?, retry_base = ?,"
            " updated_at = ?, finished_at = ? WHERE id = ?"
        )
        params: tuple[Any, ...] = (state, step, reason, retry_base, now(), finished, workflow_id)
        if if_state is not None:
            sql += " AND state = ?"
            params += (if_state,)
        return sql, params

    def set_trace(self, workflow_id: str, trace_id: str, span_id: str) -> Statement:
        return (
            "UPDATE workflows SET trace_id = ?, span_id = ? WHERE id = ?",
            (trace_id, span_id, workflow_id),
        )

    # -- step attempts -------------------------------------------------------------

    def attempt_started(
        self, workflow_id: str, step: str, attempt: int, input_event: Event
    ) -> Statement:
        """Record a running attempt; its input is the event log's entry ``input_event_id``."""
        return (
            "INSERT INTO step_attempts (workflow_id, step, attempt, status, started_at,"
            " input_event_id) VALUES (?, ?, ?, 'running', ?, ?)"
            # The outcome may be stored first (two inboxes, no order between them):
            # then only the input's id is added to it.
            " ON CONFLICT (workflow_id, step, attempt) DO UPDATE SET"
            " input_event_id = excluded.input_event_id",
            (
                workflow_id,
                step,
                attempt,
                now(),
                input_event.event_id,
            ),
        )

    def attempt_finished(
        self,
        workflow_id: str,
        step: str,
        attempt: int,
        *,
        status: str,
        duration_ms: float,
        usage: dict[str, Any],
        error: dict[str, Any] | None = None,
    ) -> Statement:
        """Close an attempt; a success is refused when the step already succeeded.

        A success's output is written by :meth:`step_output`, next in the same write.
        """
        error = error or {}
        guard = (
            " AND NOT EXISTS (SELECT 1 FROM step_attempts s WHERE s.workflow_id = ?"
            " AND s.step = ? AND s.status = 'succeeded')"
        )
        return (
            "INSERT INTO step_attempts (workflow_id, step, attempt, status, started_at, ended_at,"
            " duration_ms, error_kind, error_message, retryable, retry_after,"
            " calls, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd)"
            " SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
            " WHERE 1" + (guard if status == "succeeded" else "") + " ON CONFLICT"
            " (workflow_id, step, attempt) DO UPDATE SET status = excluded.status,"
            " ended_at = excluded.ended_at, duration_ms = excluded.duration_ms,"
            " error_kind = excluded.error_kind, error_message = excluded.error_message,"
            " retryable = excluded.retryable, retry_after = excluded.retry_after,"
            " calls = excluded.calls,"
            " input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens,"
            " cache_read_tokens = excluded.cache_read_tokens,"
            " cache_write_tokens = excluded.cache_write_tokens, cost_usd = excluded.cost_usd",
            (
                workflow_id,
                step,
                attempt,
                status,
                now(),
                now(),
                duration_ms,
                error.get("kind"),
                error.get("message"),
                None if not error else int(bool(error.get("retryable"))),
                error.get("retry_after"),
                usage.get("calls", 0),
                usage.get("input_tokens", 0),
                usage.get("output_tokens", 0),
                usage.get("cache_read_tokens", 0),
                usage.get("cache_write_tokens", 0),
                usage.get("cost_usd", 0.0),
            )
            + ((workflow_id, step) if status == "succeeded" else ()),
        )

    def step_output(
        self,
        workflow_id: str,
        step: str,
        attempt: int,
        output: Event,
        input_event: Event | None = None,
    ) -> Statement:
        """Store a succeeded attempt's output (nothing if the success was refused).

        A table of its own, written once when the step succeeds: appended rows
        pack pages full, where an attempt row growing by kilobytes when it ends
        split pages half empty. Given the step's ``input_event``, what the output
        carries over from it is not stored again (see ``payloads.py``).
        """
        return (
            "INSERT OR IGNORE INTO step_outputs (attempt_id, payload_version, payload)"
            " SELECT id, ?, ? FROM step_attempts WHERE workflow_id = ? AND step = ?"
            " AND attempt = ? AND status = 'succeeded'",
            (
                PAYLOAD_VERSION,
                StoredPayload(output, carried_fields(output, input_event)),
                workflow_id,
                step,
                attempt,
            ),
        )

    def abandon_running_attempts(self, batch_id: str) -> Statement:
        """Attempts a crash or a stop interrupted: ``abandoned``, outside the retry budget.

        Called only by the holder of the batch's lease, so no other process is
        running them.
        """
        return (
            "UPDATE step_attempts SET status = 'abandoned', ended_at = ?,"
            " error_kind = 'interrupted', error_message = 'the process stopped mid-attempt'"
            " WHERE status = 'running' AND workflow_id IN"
            " (SELECT workflow_id FROM batch_members WHERE batch_id = ?)",
            (now(), batch_id),
        )

    def cut_off_running_attempts(self, workflow_id: str) -> Statement:
        """A workflow failed while a step of it ran: that attempt's outcome will be ignored."""
        return (
            "UPDATE step_attempts SET status = 'abandoned', ended_at = ?,"
            " error_kind = 'cut_off', error_message = 'the workflow failed while it ran'"
            " WHERE status = 'running' AND workflow_id = ?",
            (now(), workflow_id),
        )

    async def attempts(self, workflow_id: str) -> list[AttemptRecord]:
        """Every attempt of a workflow in order, outputs whole (see ``payloads.expand``)."""
        rows = await self._rows(
            "SELECT a.*, COALESCE(o.payload, a.output_json) AS stored_output"
            " FROM step_attempts a LEFT JOIN step_outputs o ON o.attempt_id = a.id"
            " WHERE a.workflow_id = ? ORDER BY a.id",
            (workflow_id,),
        )
        records: list[AttemptRecord] = []
        previous: str | None = None
        for row in rows:
            output = row["stored_output"]
            if output is not None:
                output = expand(load_payload(output), previous)
                if row["status"] == "succeeded":
                    previous = output
            records.append(_attempt(row, output))
        return records

    async def usage_per_company(self, model: str) -> dict[str, dict[str, float]]:
        """Per step, what one company used on ``model`` in earlier runs, averaged over
        the workflows that finished the step (every attempt counted, repairs and
        retries included): ``calls``, token kinds, ``cost_usd`` and ``companies``."""
        rows = await self._rows(
            "SELECT a.step, COUNT(DISTINCT a.workflow_id) AS companies,"
            " SUM(a.calls) AS calls, SUM(a.input_tokens) AS input_tokens,"
            " SUM(a.output_tokens) AS output_tokens, SUM(a.cache_read_tokens) AS cache_read,"
            " SUM(a.cache_write_tokens) AS cache_write, SUM(a.cost_usd) AS cost_usd"
            " FROM step_attempts a JOIN workflows w ON w.id = a.workflow_id"
            " JOIN batches b ON b.id = w.batch_id"
            " WHERE b.model = ? AND a.workflow_id IN (SELECT workflow_id FROM step_attempts"
            "  WHERE step = a.step AND status = 'succeeded')"
            " GROUP BY a.step",
            (model,),
        )
        figures = {}
        for row in rows:
            companies = row["companies"]
            figures[row["step"]] = {
                key: (row[key] or 0) / companies
                for key in (
                    "calls",
                    "input_tokens",
                    "output_tokens",
                    "cache_read",
                    "cache_write",
                    "cost_usd",
                )
            } | {"companies": companies}
        return figures

    async def resume_point(self, workflow: WorkflowRecord) -> ResumePoint:
        """Where a workflow stands: each succeeded step's output, and each step's history.

        Failures and crashes count from the workflow's ``retry_base`` for the step
        it is at (a manual retry sets attempts before it aside).
        """
        rows = await self._rows(
            "SELECT a.step, a.status, a.attempt, COALESCE(o.payload, a.output_json) AS output"
            " FROM step_attempts a LEFT JOIN step_outputs o ON o.attempt_id = a.id"
            " WHERE a.workflow_id = ? ORDER BY a.id",
            (workflow.id,),
        )
        point = ResumePoint()
        previous: str | None = None
        for row in rows:
            step, status, attempt = row["step"], row["status"], int(row["attempt"])
            history = point.steps.setdefault(step, StepHistory())
            history.last_attempt = max(history.last_attempt, attempt)
            base = workflow.retry_base if step == workflow.step else 0
            if attempt <= base:
                continue
            if status == "succeeded" and row["output"] is not None:
                previous = expand(load_payload(row["output"]), previous)
                point.outputs[step] = previous
            elif status == "failed":
                history.failures += 1
            elif status == "abandoned":
                history.crashes += 1
        return point

    async def step_totals(self, batch_id: str) -> list[aiosqlite.Row]:
        """Per step and status: attempts, calls, tokens, cost (in first-seen step order)."""
        return await self._rows(
            "SELECT a.step, a.status, COUNT(*) AS n, MIN(a.id) AS first, SUM(a.calls) AS calls,"
            " SUM(a.input_tokens + a.cache_read_tokens + a.cache_write_tokens) AS input_tokens,"
            " SUM(a.cache_read_tokens) AS cache_read_tokens,"
            " SUM(a.cache_write_tokens) AS cache_write_tokens,"
            " SUM(a.output_tokens) AS output_tokens, SUM(a.cost_usd) AS cost_usd"
            " FROM batch_members m JOIN step_attempts a ON a.workflow_id = m.workflow_id"
            " WHERE m.batch_id = ? GROUP BY a.step, a.status ORDER BY first",
            (batch_id,),
        )

    async def duration_rank(self, batch_id: str, step: str, rank: int) -> float | None:
        """The ``rank``-th (1-based) shortest finished duration of a step in the batch."""
        row = await self._one(
            "SELECT a.duration_ms FROM batch_members m JOIN step_attempts a"
            " ON a.workflow_id = m.workflow_id WHERE m.batch_id = ? AND a.step = ?"
            " AND a.duration_ms IS NOT NULL AND a.status IN ('succeeded', 'failed', 'skipped')"
            " ORDER BY a.duration_ms LIMIT 1 OFFSET ?",
            (batch_id, step, rank - 1),
        )
        return None if row is None else float(row["duration_ms"])

    async def duration_count(self, batch_id: str, step: str) -> int:
        row = await self._one(
            "SELECT COUNT(*) AS n FROM batch_members m JOIN step_attempts a"
            " ON a.workflow_id = m.workflow_id WHERE m.batch_id = ? AND a.step = ?"
            " AND a.duration_ms IS NOT NULL AND a.status IN ('succeeded', 'failed', 'skipped')",
            (batch_id, step),
        )
        return 0 if row is None else int(row["n"])

    async def top_failures(self, batch_id: str, limit: int = 5) -> list[tuple[str, int]]:
        rows = await self._rows(
            "SELECT a.step || ': ' || a.error_kind AS what, COUNT(*) AS n"
            " FROM batch_members m JOIN step_attempts a ON a.workflow_id = m.workflow_id"
            " WHERE m.batch_id = ? AND a.status IN ('failed', 'abandoned')"
            " GROUP BY a.step, a.error_kind ORDER BY n DESC, what LIMIT ?",
            (batch_id, limit),
        )
        return [(str(r["what"]), int(r["n"])) for r in rows]

    # -- decisions -----------------------------------------------------------------

    def decision(
        self,
        workflow_id: str,
        decision: str,
        note: str | None,
        outreach_json: str | None,
        *,
        reviewer: str | None = None,
        if_state: str | None = None,
    ) -> Statement:
        """Record a decision; with ``if_state``, only while the workflow is in that state."""
        guard = ""
        params: tuple[Any, ...] = (workflow_id, decision, note, outreach_json, now(), reviewer)
        if if_state is not None:
            guard = " WHERE EXISTS (SELECT 1 FROM workflows WHERE id = ? AND state = ?)"
            params += (workflow_id, if_state)
        return (
            "INSERT INTO decisions (workflow_id, decision, note, outreach_json, decided_at,"
            " reviewer) SELECT ?, ?, ?, ?, ?, ?" + guard,
            params,
        )

    async def decisions(self, workflow_id: str) -> list[dict[str, Any]]:
        rows = await self._rows(
            "SELECT decision, note, outreach_json, decided_at, reviewer FROM decisions"
            " WHERE workflow_id = ? ORDER BY id",
            (workflow_id,),
        )
        return [dict(r) for r in rows]

    # -- leases --------------------------------------------------------------------

    async def lease(self, scope: str) -> tuple[str, float] | None:
        """(owner, last heartbeat as a Unix time) of a scope's lease, if any."""
        row = await self._one("SELECT owner, heartbeat_at FROM leases WHERE scope = ?", (scope,))
        return None if row is None else (str(row["owner"]), float(row["heartbeat_at"]))

    # -- event log -----------------------------------------------------------------

    def log_event(self, event: Event, body: str | None = None) -> None:
        """Append to the event log with the next group commit (never waits).

        ``body`` replaces the event's compact JSON (see :func:`status_event_json`).
        The write is owned by the event's workflow: if it fails every try, that
        workflow is told (see :meth:`enqueue`).
        """
        body = body or compact_event_json(event)
        if len(body) > EVENT_BODY_LIMIT:
            body = json.dumps({"type": type(event).type_name, "omitted_size": len(body)})
        self.enqueue(
            [
                (
                    "INSERT OR IGNORE INTO events (event_id, type, workflow_id, causation_id,"
                    " occurred_at, body) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        event.event_id,
                        type(event).type_name,
                        event.correlation_id,
                        event.causation_id,
                        event.occurred_at.isoformat(),
                        body,
                    ),
                )
            ],
            owner=event.correlation_id,
        )

    # -- housekeeping --------------------------------------------------------------

    async def prune(self, batch_id: str) -> int:
        """Drop the event-log bodies (and schema-1 step inputs) of a finished batch.

        Step outputs stay: each is stored once, and a draft is made whole from
        the outputs before it (see ``payloads.py``).

        :raises StoreError: the batch still has workflows in progress.
        """
        counts = await self.state_counts(batch_id)
        busy = {s: n for s, n in counts.items() if s not in TERMINAL_STATES}
        if busy:
            raise StoreError(
                "batch still in progress: " + ", ".join(f"{n} {s}" for s, n in sorted(busy.items()))
            )
        in_batch = "workflow_id IN (SELECT workflow_id FROM batch_members WHERE batch_id = ?)"
        changed = await self.commit(
            [
                (f"UPDATE step_attempts SET input_json = NULL WHERE {in_batch}", (batch_id,)),
                (f"UPDATE events SET body = '{{}}' WHERE {in_batch}", (batch_id,)),
            ]
        )
        await self._conn.execute("VACUUM")
        return sum(changed)


def _batch(row: aiosqlite.Row) -> BatchRecord:
    return BatchRecord(
        id=row["id"],
        leads_digest=row["leads_digest"],
        campaign_json=row["campaign_json"],
        campaign_digest=row["campaign_digest"],
        provider=row["provider"],
        model=row["model"],
        leads_path=row["leads_path"],
        settings=json.loads(row["settings_json"]),
        created_at=row["created_at"],
    )


_FIELDS = (
    "w.company_json, w.state, w.step, w.reason, w.retry_base, w.trace_id, w.span_id,"
    " w.created_at, w.updated_at, w.finished_at"
)
_MEMBER_COLUMNS = f"w.id, m.batch_id, m.seq, {_FIELDS}"
"""A workflow seen as a member of a batch: that batch's id and lead-list order."""
_OWN_COLUMNS = f"w.id, w.batch_id, w.seq, {_FIELDS}"
"""A workflow on its own: the batch that first recorded it."""


@dataclass(slots=True)
class StepHistory:
    last_attempt: int = 0
    """The highest attempt number recorded (new attempts number on from it)."""
    failures: int = 0
    """Failed attempts since the retry base: what the retry budget counts."""
    crashes: int = 0
    """Attempts a crash or stop interrupted since the retry base: outside the budget."""


@dataclass(slots=True)
class ResumePoint:
    outputs: dict[str, str] = field(default_factory=dict)
    steps: dict[str, StepHistory] = field(default_factory=dict)


def _workflow(row: aiosqlite.Row) -> WorkflowRecord:
    return WorkflowRecord(
        id=row["id"],
        batch_id=row["batch_id"],
        seq=row["seq"],
        company=Company.model_validate_json(row["company_json"]),
        state=row["state"],
        step=row["step"],
        reason=row["reason"],
        retry_base=row["retry_base"],
        trace_id=row["trace_id"],
        span_id=row["span_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        finished_at=row["finished_at"],
    )


def _attempt(row: aiosqlite.Row, output_json: str | None) -> AttemptRecord:
    retryable = row["retryable"]
    return AttemptRecord(
        workflow_id=row["workflow_id"],
        step=row["step"],
        attempt=row["attempt"],
        status=row["status"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        duration_ms=row["duration_ms"],
        error_kind=row["error_kind"],
        error_message=row["error_message"],
        retryable=None if retryable is None else bool(retryable),
        input_json=row["input_json"],
        output_json=output_json,
        calls=row["calls"],
        input_tokens=row["input_tokens"],
        output_tokens=row["output_tokens"],
        cache_read_tokens=row["cache_read_tokens"],
        cache_write_tokens=row["cache_write_tokens"],
        cost_usd=row["cost_usd"],
    )


@asynccontextmanager
async def open_store(
    path: str | Path = "salesbus.db", *, faults: Faults | None = None
) -> AsyncIterator[Store]:
    """Open (creating and migrating if needed) the store; writes are flushed on exit.

    ``":memory:"`` keeps the database in a temporary file removed on exit (the
    reader and the writer need to share it, which an in-memory database cannot).
    """
    with ExitStack() as cleanup:
        location = str(path)
        if location == ":memory:":
            scratch = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="salesbus-"))
            location = str(Path(scratch) / "salesbus.db")
        Path(location).parent.mkdir(parents=True, exist_ok=True)
        writer_conn = await anyio.to_thread.run_sync(checked_open, location, writer_connection)
        cleanup.callback(writer_conn.close)
        async with aiosqlite.connect(location, isolation_level=None) as conn:
            conn.row_factory = aiosqlite.Row
            await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            store = Store(conn, writer_conn, location, faults)
            # Entered by hand so that an exception from the caller's block propagates
            # as itself rather than wrapped in an exception group by the task group.
            writer = anyio.create_task_group()
            await writer.__aenter__()
            writer.start_soon(store.writer.run)
            try:
                yield store
            finally:
                store.writer.close()
                await writer.__aexit__(None, None, None)
