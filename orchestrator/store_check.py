"""The store checks itself: a damaged, read-only, missing or vanished database says so.

SQLite reads a damaged file until it reaches the damage: 8 KB of garbage in the
middle let ``status`` and ``run`` exit 0 until ``export`` said "malformed"; a
database deleted mid-run went on into the unlinked file and the run reported
results that no longer existed; ``status --db typo.db`` created an empty one.

- :func:`checked_open` wraps the store's writer connection: a file that is not
  SQLite, or cannot be written (WAL needs the folder too), is refused before
  SQLite touches it; SQLite's own errors become a :class:`StoreCheckError` saying
  what to do; ``PRAGMA quick_check`` runs on every open of a file up to
  :data:`FULL_CHECK_BYTES` (a few hundred ms at that size), and a larger file
  gets the fast check: the header's page count against the file's size, and
  the schema read back.
- :func:`require_existing` is for commands that only read: no file, no store.
- :func:`watch_file` notices the file being deleted or replaced while a run
  writes to it.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import anyio

__all__ = [
    "FULL_CHECK_BYTES",
    "FileIdentity",
    "StoreCheckError",
    "checked_open",
    "file_identity",
    "like_prefix",
    "require_existing",
    "watch_file",
]


class StoreCheckError(Exception):
    """The database cannot be used as it is: missing, read-only, not SQLite, damaged, gone.

    Its own type (not the store's ``StoreError``) so that this module needs
    nothing from ``store.py``, which calls it.
    """


FULL_CHECK_BYTES = 256 * 1024 * 1024
"""Files up to this size get ``PRAGMA quick_check`` on open; larger ones the fast check."""

_HEADER = b"SQLite format 3\x00"
FileIdentity = tuple[int, int]
"""(device, inode): the same path naming another file is a vanished database."""


def require_existing(path: str | Path) -> None:
    """:raises StoreCheckError: there is no database at ``path`` (nothing is created)."""
    location = Path(path)
    if str(path) == ":memory:":
        return
    if not location.exists():
        raise StoreCheckError(f"no database at {location} (pass --db FILE, or run a batch first)")


def checked_open(location: str, connect: Callable[[str], sqlite3.Connection]) -> sqlite3.Connection:
    """``connect(location)`` after checking the file, and the file checked after.

    Runs in a worker thread (it reads the whole file on a full check).

    :raises StoreCheckError: not a database, read-only, damaged, or cannot be opened.
    """
    _check_file(Path(location))
    try:
        conn = connect(location)
    except sqlite3.DatabaseError as exc:
        raise _translated(location, exc) from exc
    try:
        _check_integrity(conn, Path(location))
    except BaseException:
        conn.close()
        raise
    return conn


def _check_file(path: Path) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if not path.exists():
        if not os.access(folder, os.W_OK):
            raise StoreCheckError(f"cannot create {path}: the folder {folder} is read-only")
        return
    if not path.is_file():
        raise StoreCheckError(f"{path} is not a database file")
    with path.open("rb") as handle:
        header = handle.read(len(_HEADER))
    if header and header != _HEADER:
        raise StoreCheckError(f"{path} is not a salesbus database (not an SQLite file)")
    if not os.access(path, os.R_OK | os.W_OK) or not os.access(folder, os.W_OK):
        raise StoreCheckError(
            f"{path} is read-only: salesbus writes to it and beside it"
            f" (the -wal and -shm files in {folder})"
        )


def _translated(location: str, exc: sqlite3.DatabaseError) -> StoreCheckError:
    message = str(exc)
    if "readonly" in message or "read-only" in message:
        return StoreCheckError(f"{location} is read-only: {message}")
    if "unable to open" in message:
        return StoreCheckError(f"cannot open {location}: {message}")
    if isinstance(exc, sqlite3.OperationalError) and "locked" in message:
        return StoreCheckError(f"{location} is locked by another process: {message}")
    return StoreCheckError(
        f"{location} is damaged ({message}); restore it from a backup or use another --db"
    )


def _check_integrity(conn: sqlite3.Connection, path: Path) -> None:
    try:
        if path.stat().st_size <= FULL_CHECK_BYTES:
            problems = [row[0] for row in conn.execute("PRAGMA quick_check(5)")]
            if problems != ["ok"]:
                raise StoreCheckError(
                    f"{path} is damaged ({problems[0]}); restore it from a backup"
                    " or use another --db"
                )
            return
        (pages,) = conn.execute("PRAGMA page_count").fetchone()
        (page_size,) = conn.execute("PRAGMA page_size").fetchone()
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise _translated(str(path), exc) from exc
    if pages * page_size > path.stat().st_size:
        raise StoreCheckError(f"{path} is damaged (shorter than its header says: truncated)")


def file_identity(path: str | Path) -> FileIdentity | None:
    """The identity of the file at ``path`` now, or ``None`` if there is none."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


async def watch_file(path: str | Path, on_gone: Callable[[], None], every: float = 0.5) -> None:
    """Call ``on_gone`` (once) when the file at ``path`` is deleted or replaced.

    A deleted SQLite file stays writable through the open connection, so
    nothing else would notice: every commit after it would be lost.
    """
    identity = file_identity(path)
    if identity is None:
        return
    while True:
        await anyio.sleep(every)
        if file_identity(path) != identity:
            on_gone()
            return


def like_prefix(prefix: str) -> str:
    """A ``LIKE … ESCAPE '\\'`` pattern matching ids that start with ``prefix`` literally
    (``%`` and ``_`` in an id prefix are characters, not wildcards)."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%"
