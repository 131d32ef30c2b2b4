"""The store's writer: one queue, one task, one sqlite3 connection, group commits.

Every write goes through one queue drained by one writer task: whatever is
queued is applied in a single short ``BEGIN IMMEDIATE`` transaction, so a
thousand workflows finishing steps at once cost a handful of commits, and no
two writers of this process ever contend. The writer owns its own sqlite3
connection and applies a whole group in one trip to a worker thread: a
statement-by-statement dialogue through the event loop (aiosqlite's model,
kept for reads) stalled for hundreds of milliseconds once the loop was busy
with hundreds of workflows.

A write that fails is never only a log line: a failing group is re-applied
with each write under its own savepoint (one bad statement undoes only its own
write), a failed write is tried again on the spot, in its place, up to
:data:`WRITE_TRIES` times, and then a waiting caller gets a
:class:`StoreError` while an unwaited write is reported to
:attr:`Writer.on_lost_write` (the orchestrator fails its workflow).
"""

from __future__ import annotations

import logging
import sqlite3
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import anyio

from .faults import Faults
from .schema import MIGRATIONS, SCHEMA_VERSION

__all__ = [
    "BUSY_TIMEOUT_MS",
    "WRITE_TRIES",
    "LostWriteHook",
    "Statement",
    "StoreError",
    "Writer",
    "writer_connection",
]

logger = logging.getLogger("salesbus.store")

BUSY_TIMEOUT_MS = 30_000
MAX_WRITES_PER_COMMIT = 2_000
WRITE_TRIES = 4
"""A write that fails is tried this many times in all before its error is reported."""

Statement = tuple[str, Sequence[Any]]

LostWriteHook = Callable[[str | None, BaseException], None]
"""Told of an unwaited write that failed every try: (its owner, the last error)."""


class StoreError(Exception):
    """The store could not do what was asked (a missing batch, a bad id prefix, a failed write…)."""


class _Write:
    __slots__ = ("done", "error", "owner", "rowcounts", "statements")

    def __init__(self, statements: list[Statement], wait: bool, owner: str | None = None) -> None:
        self.statements = statements
        self.done: anyio.Event | None = anyio.Event() if wait else None
        self.error: BaseException | None = None
        self.rowcounts: list[int] = []
        self.owner = owner


class Writer:
    """The queue of writes and the task that commits them; see the module docstring."""

    def __init__(self, conn: sqlite3.Connection, faults: Faults) -> None:
        self._writer = conn
        self._queue: deque[_Write] = deque()
        self._wakeup = anyio.Event()
        self._closing = False
        self._commits = 0
        self.faults = faults
        self.rows_written = 0
        self.write_errors = 0
        """Failed tries of writes or groups (each is tried up to :data:`WRITE_TRIES` times)."""
        self.lost_writes = 0
        """Unwaited writes that failed every try; each was reported to :attr:`on_lost_write`."""
        self.on_lost_write: LostWriteHook | None = None

    def close(self) -> None:
        """Accept no more writes; :meth:`run` returns once the queue is empty."""
        self._closing = True
        self._wakeup.set()

    def enqueue(self, statements: list[Statement], owner: str | None = None) -> None:
        """Queue writes to commit with the next group; do not wait for them.

        A write that fails is retried; one that fails every try is reported to
        :attr:`on_lost_write` with ``owner`` (the orchestrator fails that
        workflow), never only logged.
        """
        self._push(_Write(statements, wait=False, owner=owner))

    async def commit(self, statements: list[Statement]) -> list[int]:
        """Queue writes and wait until they are durable; returns each statement's rowcount.

        :raises StoreError: the write failed every one of its tries.
        """
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

    async def run(self) -> None:
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
                for _ in range(WRITE_TRIES):  # a failed BEGIN or COMMIT: the group again
                    if await anyio.to_thread.run_sync(self._apply, group):
                        break
            for write in group:
                if write.error is not None and write.done is None:
                    self._lost(write)
                if write.done is not None:
                    write.done.set()

    def _lost(self, write: _Write) -> None:
        self.lost_writes += 1
        assert write.error is not None
        logger.error("a write of %s failed %d times: %s", write.owner, WRITE_TRIES, write.error)
        if self.on_lost_write is not None:
            self.on_lost_write(write.owner, write.error)

    def _apply(self, group: list[_Write]) -> bool:
        """Commit the group in one transaction (in a worker thread); set each write's error.

        The fast path runs the whole group at once. If any statement fails, the
        group is rolled back and run again with each write under its own
        savepoint, tried up to :data:`WRITE_TRIES` times on the spot (never
        later: a write retried behind newer writes would undo them), so a bad
        statement costs only its own write and the others in the group commit.
        ``False`` when the transaction itself could not begin or commit.
        """
        conn = self._writer
        try:
            conn.execute("BEGIN IMMEDIATE")
            self._execute_group(group)
            self._maybe_die_mid_write()
            conn.execute("COMMIT")
            self._commits += 1
            return True
        except Exception as exc:
            logger.warning("a group of %d writes failed (%s); applying one by one", len(group), exc)
            self.write_errors += 1
            _rollback(conn)
        for write in group:
            write.rowcounts, write.error = [], None
        try:
            conn.execute("BEGIN IMMEDIATE")
            for write in group:
                self._apply_one(write)
            self._maybe_die_mid_write()
            conn.execute("COMMIT")
            self._commits += 1
            return True
        except Exception as exc:  # BEGIN or COMMIT: nothing of the group is durable
            self.write_errors += 1
            _rollback(conn)
            for write in group:
                write.error, write.rowcounts = exc, []
            return False

    def _apply_one(self, write: _Write) -> None:
        conn = self._writer
        for _ in range(WRITE_TRIES):
            conn.execute("SAVEPOINT one_write")
            try:
                self.faults.maybe_fail_write()
                for sql, params in write.statements:
                    self._check_fault(sql)
                    write.rowcounts.append(conn.execute(sql, params).rowcount)
            except Exception as exc:
                conn.execute("ROLLBACK TO one_write")
                conn.execute("RELEASE one_write")
                self.write_errors += 1
                write.error, write.rowcounts = exc, []
                continue
            conn.execute("RELEASE one_write")
            write.error = None
            self.rows_written += sum(max(n, 0) for n in write.rowcounts)
            return

    def _check_fault(self, sql: str) -> None:
        if self.faults.statement is not None:
            self.faults.statement(sql)

    def _execute_group(self, group: list[_Write]) -> None:
        """Execute in order; runs of one statement from unwaited writes go in one executemany."""
        conn = self._writer
        run_sql: str | None = None
        run_params: list[Sequence[Any]] = []

        def flush_run() -> None:
            if run_sql is not None and run_params:
                self._check_fault(run_sql)
                conn.executemany(run_sql, run_params)
                self.rows_written += len(run_params)

        for write in group:
            self.faults.maybe_fail_write()
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
                self._check_fault(sql)
                rowcount = conn.execute(sql, params).rowcount
                write.rowcounts.append(rowcount)
                self.rows_written += max(rowcount, 0)
        flush_run()

    def _maybe_die_mid_write(self) -> None:
        kill_at = self.faults.kill_in_write
        if kill_at and self._commits + 1 >= kill_at:
            self.faults.kill_now()


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def writer_connection(location: str) -> sqlite3.Connection:
    """The one writing connection: autocommit mode (we issue BEGIN), WAL, migrated.

    Used from one worker thread at a time (the writer task waits for each
    group), hence ``check_same_thread=False``.
    """
    conn = sqlite3.connect(location, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    # Before the first table exists (no effect on an existing file): step outputs
    # are 1-3 KB compressed, and 4 KB pages hold one or two of them, a third empty.
    conn.execute("PRAGMA page_size = 16384")
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
