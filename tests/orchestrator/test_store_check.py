"""A damaged, read-only, missing or vanished database is a clear message, never a quiet success."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from .cli_support import run_fast, salesbus, workflow_id, write_inputs
from .test_kill_resume import start_run, wait_for_attempts


@pytest.fixture
def finished_db(tmp_path: Path) -> Path:
    campaign, leads = write_inputs(tmp_path)
    db = tmp_path / "s.db"
    assert run_fast(leads, campaign, db).exit_code == 0
    for suffix in ("-wal", "-shm"):
        assert not Path(f"{db}{suffix}").exists()  # checkpointed: the file is the database
    return db


def assert_clear(output: str, *words: str) -> None:
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    for word in words:
        assert word in lines[0], output


@pytest.mark.parametrize("command", [["status"], ["show", "wf"], ["export"], ["metrics"]])
def test_reading_commands_never_create_a_database(tmp_path: Path, command: list[str]) -> None:
    typo = tmp_path / "typo.db"
    result = salesbus(*command, "--db", typo)
    assert result.exit_code == 2
    assert_clear(result.output, f"no database at {typo}")
    assert list(tmp_path.iterdir()) == []


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[None]:
    """Read-only even for root (the tests run as root): the immutable attribute."""
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not supported on this file system")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_read_only_database_is_one_line_and_exit_2(finished_db: Path) -> None:
    with immutable(finished_db):
        result = salesbus("status", "--db", finished_db)
    assert result.exit_code == 2
    assert_clear(result.output, "is read-only")


def test_a_file_that_is_not_sqlite_is_refused_untouched(tmp_path: Path) -> None:
    notes = tmp_path / "notes.db"
    notes.write_text("my shopping list\n", encoding="utf-8")
    result = salesbus("status", "--db", notes)
    assert result.exit_code == 2
    assert_clear(result.output, "is not a salesbus database")
    assert notes.read_text(encoding="utf-8") == "my shopping list\n"


def test_garbage_in_the_middle_of_the_file_is_found_on_open(finished_db: Path) -> None:
    size = finished_db.stat().st_size
    with finished_db.open("r+b") as handle:
        handle.seek((size // 2) // 4096 * 4096)
        handle.write(os.urandom(8192))
    for command in (["status"], ["export"]):
        result = salesbus(*command, "--db", finished_db)
        assert result.exit_code == 2
        assert_clear(result.output, "is damaged", "restore it from a backup")


def test_a_truncated_database_is_found_on_open(finished_db: Path) -> None:
    size = finished_db.stat().st_size
    with finished_db.open("r+b") as handle:
        handle.truncate(size // 2)
    result = salesbus("status", "--db", finished_db)
    assert result.exit_code == 2
    assert_clear(result.output, "is damaged")


def test_a_run_notices_its_database_being_deleted(tmp_path: Path) -> None:
    process = start_run(tmp_path)
    db = tmp_path / "s.db"
    try:
        wait_for_attempts(db, at_least=3)
        db.unlink()
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    text = stderr.decode()
    assert process.returncode == 2, text
    assert "Traceback" not in text
    assert f"{db} was deleted or replaced during the run" in text
    assert "results in" not in text


def test_id_prefixes_are_matched_literally(finished_db: Path) -> None:
    real = workflow_id(finished_db, "Acme Analytics")
    for pattern in ("%", real[:3] + "%", real[:3] + "_" * 3, "%" + real[-4:]):
        result = salesbus("show", pattern, "--db", finished_db)
        assert result.exit_code == 2, pattern
        assert_clear(result.output, "no workflow")
    shown = salesbus("show", real[:8], "--db", finished_db)
    assert shown.exit_code == 0
    assert real in shown.output


def test_a_healthy_database_passes_the_check_unchanged(finished_db: Path) -> None:
    with sqlite3.connect(finished_db) as conn:
        before = conn.execute("SELECT COUNT(*) FROM workflows").fetchone()
    result = salesbus("status", "--db", finished_db)
    assert result.exit_code == 0, result.output
    with sqlite3.connect(finished_db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM workflows").fetchone() == before
