"""The durable store: one SQLite file (WAL), one writer, group commits.

Every write goes through one queue drained by one writer task: whatever is
queued is applied in a single short ``BEGIN IMMEDIATE`` transaction, so a
thousand workflows finishing steps at once cost a handful of commits, and no
two writers of this process ever contend. The writer owns its own sqlite3
connection and applies a whole group in one trip to a worker thread: a
statement-by-statement dialogue through the event loop (aiosqlite's model,
kept for reads) stalled for hundreds of milliseconds once the loop was busy
with hundreds of workflows. Other processes (``salesbus approve``
while a run is going) wait on ``busy_timeout`` instead of failing, so "database
is locked" never reaches a user.

Size policy for payloads: a step's *output* is kept whole — it is the next
step's input after a restart and what ``export`` reads; a step's *input* and an
event-log entry keep the event without its payload fields (they name them:
the payloads are the workflow's company or the previous step's output, stored
whole once); a log body still over :data:`EVENT_BODY_LIMIT` characters is
replaced by a stub naming its type and size. ``prune`` drops the inputs, the
event-log bodies and the intermediate outputs of a finished batch.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import tempfile
from collections import deque
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import anyio
from pydantic import BaseModel

from salesbus.agents.models import Company
from salesbus.bus import Event, encode_event

from .schema import MIGRATIONS, SCHEMA_VERSION
from .states import PENDING, TERMINAL_STATES
from .store_check import checked_open, like_prefix

__all__ = [
    "EVENT_BODY_LIMIT",
    "AttemptRecord",
    "BatchRecord",
    "Store",
    "StoreError",
    "WorkflowRecord",
    "open_store",
]

logger = logging.getLogger("salesbus.store")

EVENT_BODY_LIMIT = 4_096
BUSY_TIMEOUT_MS = 30_000
MAX_WRITES_PER_COMMIT = 2_000
KILL_IN_WRITE_ENV = "SALESBUS_FAULT_KILL_IN_WRITE"
"""Test hook: SIGKILL this process in the middle of its Nth write transaction."""


class StoreError(Exception):
    """The store could not do what was asked (a missing batch, a bad id prefix…)."""


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


Statement = tuple[str, Sequence[Any]]


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


class _Encoded:
    """An event bound as a statement parameter, serialised only when the writer binds it.

    sqlite3 asks a parameter to ``__conform__`` itself at execution time, in
    the writer's thread: a burst of step completions then queues events that
    exist anyway, not a second copy of each as a large JSON string.
    """

    __slots__ = ("event",)

    def __init__(self, event: Event) -> None:
        self.event = event

    def __conform__(self, protocol: object) -> str:
        return encode_event(self.event).decode()


class _Write:
    __slots__ = ("done", "error", "rowcounts", "statements")

    def __init__(self, statements: list[Statement], wait: bool) -> None:
        self.statements = statements
        self.done: anyio.Event | None = anyio.Event() if wait else None
        self.error: BaseException | None = None
        self.rowcounts: list[int] = []


class Store:
    """Batches, workflows, step attempts, decisions and the event log of one SQLite file."""

    def __init__(self, conn: aiosqlite.Connection, writer: sqlite3.Connection, path: str) -> None:
        self.path = path
        self._conn = conn
        self._writer = writer
        self._queue: deque[_Write] = deque()
        self._wakeup = anyio.Event()
        self._closing = False
        self._commits = 0
        self._kill_in_write = int(os.environ.get(KILL_IN_WRITE_ENV, "0") or 0)
        self.rows_written = 0

    # -- writing -------------------------------------------------------------------

    def enqueue(self, statements: list[Statement]) -> None:
        """Queue writes to commit with the next group; do not wait for them."""
        self._push(_Write(statements, wait=False))

    async def commit(self, statements: list[Statement]) -> list[int]:
        """Queue writes and wait until they are durable; returns each statement's rowcount."""
        write = _Write(statements, wait=True)
        self._push(write)
        assert write.done is not None
        await write.done.wait()
        if write.error is not None:
            raise StoreError(f"write failed: {write.error}") from write.error
        return write.rowcounts

    async def flush(self) -> None:
        """Wait until everything queued so far is committed."""
        await self.commit([])

    def _push(self, write: _Write) -> None:
        if self._closing:
            raise StoreError("the store is closed")
        self._queue.append(write)
        self._wakeup.set()

    async def _write_forever(self) -> None:
        while True:
            if not self._queue:
                if self._closing:
                    return
                self._wakeup = anyio.Event()
                await self._wakeup.wait()
                continue
            group = [
                self._queue.popleft() for _ in range(min(len(self._queue), MAX_WRITES_PER_COMMIT))
            ]
            with anyio.CancelScope(shield=True):
                error = await anyio.to_thread.run_sync(self._apply, group)
            for write in group:
                write.error = error
                if write.done is not None:
                    write.done.set()

    def _apply(self, group: list[_Write]) -> BaseException | None:
        """One transaction for the whole group, in a worker thread; the error, if any."""
        conn = self._writer
        try:
            conn.execute("BEGIN IMMEDIATE")
            self._execute_group(group)
            self._maybe_die_mid_write()
            conn.execute("COMMIT")
        except Exception as exc:
            logger.exception("store write of %d operations failed", len(group))
            conn.execute("ROLLBACK")
            return exc
        self._commits += 1
        return None

    def _execute_group(self, group: list[_Write]) -> None:
        """Execute in order; runs of one statement from unwaited writes go in one executemany."""
        conn = self._writer
        run_sql: str | None = None
        run_params: list[Sequence[Any]] = []

        def flush_run() -> None:
            if run_sql is not None and run_params:
                conn.executemany(run_sql, run_params)
                self.rows_written += len(run_params)

        for write in group:
            if write.done is None:
                for sql, params in write.statements:
                    if sql != run_sql:
                        flush_run()
                        run_sql, run_params = sql, []
                    run_params.append(params)
                continue
            flush_run()
            run_sql, run_params = None, []
            for sql, params in write.statements:
                rowcount = conn.execute(sql, params).rowcount
                write.rowcounts.append(rowcount)
                self.rows_written += max(rowcount, 0)
        flush_run()

    def _maybe_die_mid_write(self) -> None:
        if self._kill_in_write and self._commits + 1 >= self._kill_in_write:
            os.kill(os.getpid(), signal.SIGKILL)

    # -- reading -------------------------------------------------------------------

    async def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        return list(await self._conn.execute_fetchall(sql, params))

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

    async def add_workflows(self, batch_id: str, items: Iterable[tuple[str, Company]]) -> int:
        """Insert workflows not yet in the batch; returns how many were new."""
        stamp = now()
        statements: list[Statement] = [
            (
                "INSERT OR IGNORE INTO workflows (id, batch_id, seq, company_key, company_name,"
                " company_json, line, state, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    workflow_id,
                    batch_id,
                    seq,
                    company.key,
                    company.name,
                    company.model_dump_json(exclude_none=True),
                    company.line,
                    PENDING,
                    stamp,
                    stamp,
                ),
            )
            for seq, (workflow_id, company) in enumerate(items)
        ]
        return sum(await self.commit(statements))

    async def workflows(
        self, batch_id: str, states: Iterable[str] | None = None
    ) -> list[WorkflowRecord]:
        sql = "SELECT * FROM workflows WHERE batch_id = ?"
        params: list[Any] = [batch_id]
        if states is not None:
            wanted = list(states)
            sql += f" AND state IN ({', '.join('?' * len(wanted))})"
            params.extend(wanted)
        return [_workflow(r) for r in await self._rows(sql + " ORDER BY seq", params)]

    async def workflow(self, id_or_prefix: str) -> WorkflowRecord:
        """:raises StoreError: no workflow, or a prefix that matches several."""
        rows = await self._rows(
            "SELECT * FROM workflows WHERE id = ? OR id LIKE ? ESCAPE '\\' LIMIT 2",
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
            "SELECT state, COUNT(*) AS n FROM workflows WHERE batch_id = ? GROUP BY state",
            (batch_id,),
        )
        return {str(r["state"]): int(r["n"]) for r in rows}

    def set_state(
        self,
        workflow_id: str,
        state: str,
        *,
        step: str | None = None,
        reason: str | None = None,
        retry_base: int = 0,
    ) -> Statement:
        """Move a workflow; ``retry_base`` is the attempts ``step`` used before a manual retry."""
        finished = now() if state in TERMINAL_STATES else None
        return (
            "UPDATE workflows SET state = ?, step = ?, reason = ?, retry_base = ?,"
            " updated_at = ?, finished_at = ? WHERE id = ?",
            (state, step, reason, retry_base, now(), finished, workflow_id),
        )

    def set_trace(self, workflow_id: str, trace_id: str, span_id: str) -> Statement:
        return (
            "UPDATE workflows SET trace_id = ?, span_id = ? WHERE id = ?",
            (trace_id, span_id, workflow_id),
        )

    # -- step attempts -------------------------------------------------------------

    def attempt_started(
        self, workflow_id: str, step: str, attempt: int, input_event: Event
    ) -> Statement:
        return (
            "INSERT INTO step_attempts (workflow_id, step, attempt, status, started_at,"
            " input_event_id, input_json) VALUES (?, ?, ?, 'running', ?, ?, ?)"
            " ON CONFLICT (workflow_id, step, attempt) DO NOTHING",
            (
                workflow_id,
                step,
                attempt,
                now(),
                input_event.event_id,
                compact_event_json(input_event),
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
        output: Event | None = None,
        error: dict[str, Any] | None = None,
    ) -> Statement:
        """Close an attempt; a success is refused when the step already succeeded."""
        error = error or {}
        guard = (
            " AND NOT EXISTS (SELECT 1 FROM step_attempts s WHERE s.workflow_id = ?"
            " AND s.step = ? AND s.status = 'succeeded')"
        )
        return (
            "INSERT INTO step_attempts (workflow_id, step, attempt, status, started_at, ended_at,"
            " duration_ms, error_kind, error_message, retryable, retry_after, output_json,"
            " calls, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd)"
            " SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
            " WHERE 1" + (guard if status == "succeeded" else "") + " ON CONFLICT"
            " (workflow_id, step, attempt) DO UPDATE SET status = excluded.status,"
            " ended_at = excluded.ended_at, duration_ms = excluded.duration_ms,"
            " error_kind = excluded.error_kind, error_message = excluded.error_message,"
            " retryable = excluded.retryable, retry_after = excluded.retry_after,"
            " output_json = excluded.output_json, calls = excluded.calls,"
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
                _Encoded(output) if output is not None else None,
                usage.get("calls", 0),
                usage.get("input_tokens", 0),
                usage.get("output_tokens", 0),
                usage.get("cache_read_tokens", 0),
                usage.get("cache_write_tokens", 0),
                usage.get("cost_usd", 0.0),
            )
            + ((workflow_id, step) if status == "succeeded" else ()),
        )

    def abandon_running_attempts(self, batch_id: str) -> Statement:
        """Attempts a crash interrupted: they count against the budget and end as abandoned."""
        return (
            "UPDATE step_attempts SET status = 'abandoned', ended_at = ?,"
            " error_kind = 'interrupted', error_message = 'the process stopped mid-attempt'"
            " WHERE status = 'running' AND workflow_id IN"
            " (SELECT id FROM workflows WHERE batch_id = ?)",
            (now(), batch_id),
        )

    async def attempts(self, workflow_id: str) -> list[AttemptRecord]:
        rows = await self._rows(
            "SELECT * FROM step_attempts WHERE workflow_id = ? ORDER BY id", (workflow_id,)
        )
        return [_attempt(r) for r in rows]

    async def batch_attempts(self, batch_id: str) -> list[AttemptRecord]:
        rows = await self._rows(
            "SELECT a.* FROM step_attempts a JOIN workflows w ON w.id = a.workflow_id"
            " WHERE w.batch_id = ? ORDER BY a.id",
            (batch_id,),
        )
        return [_attempt(r) for r in rows]

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

    async def resume_points(
        self, batch_id: str
    ) -> dict[str, tuple[dict[str, str], dict[str, int]]]:
        """Per workflow: each succeeded step's output, and how many attempts each step used."""
        rows = await self._rows(
            "SELECT a.workflow_id, a.step, a.status, a.attempt, a.output_json"
            " FROM step_attempts a JOIN workflows w ON w.id = a.workflow_id"
            " WHERE w.batch_id = ? ORDER BY a.id",
            (batch_id,),
        )
        points: dict[str, tuple[dict[str, str], dict[str, int]]] = {}
        for row in rows:
            outputs, used = points.setdefault(row["workflow_id"], ({}, {}))
            used[row["step"]] = max(used.get(row["step"], 0), int(row["attempt"]))
            if row["status"] == "succeeded" and row["output_json"]:
                outputs[row["step"]] = row["output_json"]
        return points

    # -- decisions -----------------------------------------------------------------

    def decision(
        self, workflow_id: str, decision: str, note: str | None, outreach_json: str | None
    ) -> Statement:
        return (
            "INSERT INTO decisions (workflow_id, decision, note, outreach_json, decided_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (workflow_id, decision, note, outreach_json, now()),
        )

    async def decisions(self, workflow_id: str) -> list[dict[str, Any]]:
        rows = await self._rows(
            "SELECT decision, note, outreach_json, decided_at FROM decisions"
            " WHERE workflow_id = ? ORDER BY id",
            (workflow_id,),
        )
        return [dict(r) for r in rows]

    # -- event log -----------------------------------------------------------------

    def log_event(self, event: Event) -> None:
        """Append to the event log with the next group commit (never waits)."""
        body = compact_event_json(event)
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
            ]
        )

    # -- housekeeping --------------------------------------------------------------

    async def prune(self, batch_id: str, keep_steps: Sequence[str]) -> int:
        """Drop large payloads of a finished batch; keeps outputs of ``keep_steps``.

        :raises StoreError: the batch still has workflows in progress.
        """
        counts = await self.state_counts(batch_id)
        busy = {s: n for s, n in counts.items() if s not in TERMINAL_STATES}
        if busy:
            raise StoreError(
                "batch still in progress: " + ", ".join(f"{n} {s}" for s, n in sorted(busy.items()))
            )
        keep = list(keep_steps)
        in_batch = "workflow_id IN (SELECT id FROM workflows WHERE batch_id = ?)"
        changed = await self.commit(
            [
                (f"UPDATE step_attempts SET input_json = NULL WHERE {in_batch}", (batch_id,)),
                (
                    "UPDATE step_attempts SET output_json = NULL WHERE "
                    + in_batch
                    + f" AND step NOT IN ({', '.join('?' * len(keep))})",
                    (batch_id, *keep),
                ),
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


def _attempt(row: aiosqlite.Row) -> AttemptRecord:
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
        output_json=row["output_json"],
        calls=row["calls"],
        input_tokens=row["input_tokens"],
        output_tokens=row["output_tokens"],
        cache_read_tokens=row["cache_read_tokens"],
        cache_write_tokens=row["cache_write_tokens"],
        cost_usd=row["cost_usd"],
    )


def _writer_connection(location: str) -> sqlite3.Connection:
    """The one writing connection: autocommit mode (we issue BEGIN), WAL, migrated.

    Used from one worker thread at a time (the writer task waits for each
    group), hence ``check_same_thread=False``.
    """
    conn = sqlite3.connect(location, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    # In WAL mode NORMAL loses nothing when the *process* dies (SIGKILL included);
    # only a power cut can drop the last commits.
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    (version,) = conn.execute("PRAGMA user_version").fetchone()
    if version > SCHEMA_VERSION:
        conn.close()
        raise StoreError(
            f"the database is at schema {version}, newer than this salesbus ({SCHEMA_VERSION})"
        )
    for number, statements in enumerate(MIGRATIONS[version:], start=version + 1):
        conn.execute("BEGIN IMMEDIATE")
        for statement in statements:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {number}")
        conn.execute("COMMIT")
        logger.info("store migrated to schema %d", number)
    return conn


@asynccontextmanager
async def open_store(path: str | Path = "salesbus.db") -> AsyncIterator[Store]:
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
        writer_conn = await anyio.to_thread.run_sync(checked_open, location, _writer_connection)
        cleanup.callback(writer_conn.close)
        async with aiosqlite.connect(location, isolation_level=None) as conn:
            conn.row_factory = aiosqlite.Row
            await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            store = Store(conn, writer_conn, location)
            # Entered by hand so that an exception from the caller's block propagates
            # as itself rather than wrapped in an exception group by the task group.
            writer = anyio.create_task_group()
            await writer.__aenter__()
            writer.start_soon(store._write_forever)
            try:
                yield store
            finally:
                store._closing = True
                store._wakeup.set()
                await writer.__aexit__(None, None, None)
