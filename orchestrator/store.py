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

import tempfile
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite
import anyio

from .faults import Faults
from .states import TERMINAL_STATES
from .store_attempts import AttemptStore
from .store_check import checked_open
from .store_figures import FigureQueries
from .store_log import EVENT_BODY_LIMIT, EventLog, status_event_json
from .store_records import (
    PAGE,
    AttemptRecord,
    BatchRecord,
    ResumePoint,
    StepHistory,
    WorkflowRecord,
    now,
)
from .store_workflows import WorkflowStore
from .writer import BUSY_TIMEOUT_MS, Statement, StoreError, writer_connection

__all__ = [
    "EVENT_BODY_LIMIT",
    "PAGE",
    "AttemptRecord",
    "BatchRecord",
    "ResumePoint",
    "Statement",
    "StepHistory",
    "Store",
    "StoreError",
    "WorkflowRecord",
    "now",
    "open_store",
    "status_event_json",
]


class Store(WorkflowStore, AttemptStore, FigureQueries, EventLog):
    """Batches, workflows, step attempts, decisions and the event log of one SQLite file.

    One object with one flat set of methods, assembled from a part per table
    group over one shared core (``store_core.py``: the writer and the reading
    connection): callers need one handle, and each part is a file a reader can
    hold in mind. What spans the parts (decisions, leases, pruning) is here.
    """

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
