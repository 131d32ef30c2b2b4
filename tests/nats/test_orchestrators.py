"""Several orchestrators on one broker: each gets its own status events, and only them.

Real processes on a real nats-server: two ``salesbus run --transport nats://…``
processes, each with its own store, and two ``salesbus worker`` processes that
serve both. Every store is checked the way the single-process kill tests check
theirs: every company finished, no step succeeded twice, one draft per completed
company. That both runs were in flight at once is read from the stores (the
steps' recorded times), not from a clock in the test.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.nats_server import NatsServer
from tests.orchestrator.cli_support import write_inputs
from tests.orchestrator.test_kill_resume import (
    assert_finished_exactly_once,
    many_leads,
    wait_for_attempts,
)

from .test_workers import finish, workers

__all__ = ["workers"]  # the fixture, imported for pytest


def start_orchestrator(
    tmp: Path, url: str, leads: str, *extra: str, concurrency: int = 8
) -> subprocess.Popen[bytes]:
    """``salesbus run`` of 40 companies in ``tmp`` (its own store) on the broker."""
    tmp.mkdir(exist_ok=True)
    campaign, lead_file = write_inputs(tmp, leads=leads)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "ANTHROPIC_"))}
    command = [
        *(sys.executable, "-m", "salesbus.orchestrator.cli", "run", str(lead_file)),
        *("--campaign", str(campaign), "--db", str(tmp / "s.db"), "--llm", "offline"),
        *("--concurrency", str(concurrency), "--retry-base", "0.001"),
        *("--transport", url, "--step-timeout", "2", *extra),
    ]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp
    )


def other_leads() -> str:
    """Forty other companies: another lead list, so another batch."""
    return many_leads().replace("Company ", "Other ").replace(".example", "-b.example")


def step_span(db: Path) -> tuple[str, str]:
    """When the store's first step started and its last step ended (ISO, UTC)."""
    with sqlite3.connect(db) as conn:
        first, last = conn.execute(
            "SELECT MIN(started_at), MAX(ended_at) FROM step_attempts"
        ).fetchone()
    return str(first), str(last)


def batch_ids(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT id FROM batches")]


@pytest.mark.parametrize("second_leads", [other_leads, many_leads], ids=["other", "same"])
def test_two_orchestrators_on_one_broker_each_complete_their_own_batch(
    tmp_path: Path,
    server: NatsServer,
    workers: list[subprocess.Popen[bytes]],
    second_leads: Callable[[], str],
) -> None:
    """``same``: two stores that made the same batch (same leads, campaign and model, so
    the same batch id and workflow ids) are still two owners on the broker."""
    first, second = tmp_path / "a", tmp_path / "b"
    runs = [
        start_orchestrator(first, server.url, many_leads()),
        start_orchestrator(second, server.url, second_leads()),
    ]
    for run in runs:
        finish(run)

    for store in (first, second):
        assert_finished_exactly_once(store / "s.db")
    same_batch = batch_ids(first / "s.db") == batch_ids(second / "s.db")
    assert same_batch == (second_leads is many_leads)
    (start_a, end_a), (start_b, end_b) = step_span(first / "s.db"), step_span(second / "s.db")
    # both were in flight at one moment
    assert start_a < end_b
    assert start_b < end_a
    assert all(worker.poll() is None for worker in workers)


def test_an_orchestrator_killed_mid_batch_resumes_while_the_other_runs_on(
    tmp_path: Path, server: NatsServer, workers: list[subprocess.Popen[bytes]]
) -> None:
    """Its status consumers outlive it under its batch's name: the rerun picks up the
    status events published while it was down, and the other run never saw them."""
    doomed, other = tmp_path / "a", tmp_path / "b"
    # The other run is kept slower (fewer in flight), so it still runs after the rerun.
    steady = start_orchestrator(other, server.url, other_leads(), concurrency=2)
    killed = start_orchestrator(doomed, server.url, many_leads())
    wait_for_attempts(doomed / "s.db", 20)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=10)
    with sqlite3.connect(doomed / "s.db") as conn:
        (killed_at,) = conn.execute("SELECT MAX(started_at) FROM step_attempts").fetchone()

    rerun = start_orchestrator(doomed, server.url, many_leads())
    _, stderr = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, stderr.decode()
    assert b"resumed" in stderr
    finish(steady)

    assert killed.returncode == -signal.SIGKILL
    for store in (doomed, other):
        assert_finished_exactly_once(store / "s.db")
    with sqlite3.connect(doomed / "s.db") as conn:
        (rerun_started,) = conn.execute(
            "SELECT MIN(started_at) FROM step_attempts WHERE started_at > ?", (killed_at,)
        ).fetchone()
    _, other_ended = step_span(other / "s.db")
    assert rerun_started is not None
    assert other_ended > rerun_started  # the other run was still going when the rerun began
