"""The store's two connections and what every part of it shares: writing and reading.

Writes go through one :class:`~salesbus.orchestrator.writer.Writer` (one queue,
one task, group commits, failed writes tried in place; see ``writer.py``);
reads go through the aiosqlite connection. The store's parts (workflows,
attempts, figures, the event log) are mixins over this core, so ``Store``
stays one object with one flat set of methods.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite

from .faults import Faults, faults_from_env
from .writer import LostWriteHook, Statement, Writer

__all__ = ["StoreCore"]


class StoreCore:
    """One SQLite file's writer and reading connection; the base of every store part."""

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
