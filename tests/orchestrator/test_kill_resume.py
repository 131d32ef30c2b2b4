"""Durability: SIGKILL a running batch at any moment; the rerun finishes it, repeating nothing."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .cli_support import write_inputs

COMPANIES = 40


def many_leads() -> str:
    rows = ["name,domain,industry,employees,country,description"]
    industries = ["SaaS", "Fintech", "Software", "Retail", "Logistics"]
    for i in range(COMPANIES):
        rows.append(
            f"Company {i:02},c{i:02}.example,{industries[i % 5]},{50 + 37 * i},United States,"
            f"Platform number {i} growing its revenue team"
        )
    return "\n".join(rows) + "\n"


def start_run(
    tmp: Path,
    extra_env: dict[str, str] | None = None,
    extra_args: tuple[str, ...] = (),
    stdout: int | None = subprocess.DEVNULL,
) -> subprocess.Popen[bytes]:
    """``salesbus run`` of 40 companies in a real process, slow enough to kill mid-way."""
    campaign, leads = write_inputs(tmp, leads=many_leads())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "ANTHROPIC_"))}
    env.update(extra_env or {})
    command = [
        *(sys.executable, "-m", "salesbus.orchestrator.cli", "run", str(leads)),
        *("--campaign", str(campaign), "--db", str(tmp / "s.db"), "--llm", "offline"),
        *("--concurrency", "8", "--simulate-latency", "0.04", "--retry-base", "0.001"),
        *extra_args,
    ]
    return subprocess.Popen(command, env=env, stdout=stdout, stderr=subprocess.PIPE, cwd=tmp)


def unfinished(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(
            conn.execute(
                "SELECT COUNT(*) FROM workflows WHERE state NOT IN"
                " ('completed', 'disqualified', 'failed', 'rejected', 'awaiting_approval')"
            ).fetchone()[0]
        )


def succeeded_steps(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(
            conn.execute(
                "SELECT COUNT(*) FROM step_attempts WHERE status = 'succeeded'"
            ).fetchone()[0]
        )


def wait_for_attempts(db: Path, at_least: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if db.exists():
            try:
                with sqlite3.connect(db) as conn:
                    done = conn.execute(
                        "SELECT COUNT(*) FROM step_attempts WHERE status = 'succeeded'"
                    ).fetchone()[0]
                if done >= at_least:
                    return
            except sqlite3.OperationalError:
                pass  # schema not created yet
        time.sleep(0.02)
    raise AssertionError(f"fewer than {at_least} steps succeeded within {timeout}s")


def assert_finished_exactly_once(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        states = conn.execute("SELECT state, COUNT(*) FROM workflows GROUP BY state").fetchall()
        assert sum(n for _, n in states) == COMPANIES
        assert {s for s, _ in states} <= {"completed", "disqualified"}, states
        twice = conn.execute(
            "SELECT workflow_id, step FROM step_attempts WHERE status = 'succeeded'"
            " GROUP BY workflow_id, step HAVING COUNT(*) > 1"
        ).fetchall()
        assert twice == []
        rerun_after_success = conn.execute(
            "SELECT a.workflow_id, a.step FROM step_attempts a JOIN step_attempts s"
            " ON s.workflow_id = a.workflow_id AND s.step = a.step AND s.status = 'succeeded'"
            " WHERE a.id != s.id AND a.started_at >= s.ended_at"
        ).fetchall()
        assert rerun_after_success == []
        drafts = conn.execute(
            "SELECT COUNT(*) FROM step_attempts WHERE step = 'personalization'"
            " AND status = 'succeeded'"
        ).fetchone()[0]
        completed = dict(states).get("completed", 0)
        assert drafts == completed


def finish(tmp: Path, extra_env: dict[str, str] | None = None, *extra_args: str) -> None:
    rerun = start_run(tmp, extra_env, extra_args)
    _, stderr = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, stderr.decode()
    assert b"resumed" in stderr


@pytest.mark.parametrize("after_steps", [1, 25, 70])
def test_a_batch_killed_mid_run_finishes_on_rerun_without_repeating_a_step(
    tmp_path: Path, after_steps: int
) -> None:
    first = start_run(tmp_path)
    try:
        wait_for_attempts(tmp_path / "s.db", after_steps)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    assert first.returncode == -signal.SIGKILL
    assert unfinished(tmp_path / "s.db") > 0

    finish(tmp_path)

    assert_finished_exactly_once(tmp_path / "s.db")


@pytest.mark.parametrize("commit", [3, 12])
def test_a_batch_killed_inside_a_store_write_finishes_on_rerun(tmp_path: Path, commit: int) -> None:
    first = start_run(tmp_path, {"SALESBUS_FAULT_KILL_IN_WRITE": str(commit)})
    first.wait(timeout=60)
    assert first.returncode == -signal.SIGKILL

    finish(tmp_path)

    assert_finished_exactly_once(tmp_path / "s.db")


def test_five_kills_in_a_row_fail_no_company_for_lack_of_budget(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    for kill in range(5):
        run = start_run(tmp_path, extra_args=("--max-attempts", "1"))
        try:
            wait_for_attempts(db, at_least=3 + kill * 12)
        finally:
            run.send_signal(signal.SIGKILL)
            run.wait(timeout=10)
    finish(tmp_path, None, "--max-attempts", "1")

    assert_finished_exactly_once(db)  # nothing failed, though each step had one attempt
    with sqlite3.connect(db) as conn:
        interrupted = conn.execute("SELECT COUNT(*) FROM step_attempts WHERE status = 'abandoned'")
        assert interrupted.fetchone()[0] > 0
    metrics = subprocess.run(
        [sys.executable, "-m", "salesbus.orchestrator.cli", "metrics", "--db", str(db)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert "interrupted by a kill or stop" in metrics.stdout
    assert "cost are unknown" in metrics.stdout


def test_a_step_that_kills_its_process_every_time_ends_failed_with_that_reason(
    tmp_path: Path,
) -> None:
    crash = {"SALESBUS_FAULT_KILL_IN_STEP": "analysis:Company 03"}
    db = tmp_path / "s.db"
    for _ in range(4):
        run = start_run(tmp_path, crash)
        run.wait(timeout=60)
        assert run.returncode == -signal.SIGKILL

    last = start_run(tmp_path, crash)
    _, stderr = last.communicate(timeout=120)
    assert last.returncode == 0, stderr.decode()

    with sqlite3.connect(db) as conn:
        state, reason = conn.execute(
            "SELECT state, reason FROM workflows WHERE company_name = 'Company 03'"
        ).fetchone()
        others = conn.execute(
            "SELECT COUNT(*) FROM workflows WHERE company_name != 'Company 03'"
            " AND state IN ('completed', 'disqualified')"
        ).fetchone()[0]
    assert state == "failed"
    assert "analysis was interrupted 4 times" in reason
    assert others == COMPANIES - 1
