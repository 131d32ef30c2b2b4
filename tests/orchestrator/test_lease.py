"""One owner per batch: a second run is refused (or waits), a dead owner's lease is taken over."""

from __future__ import annotations

import signal
import socket
import sqlite3
import time
from pathlib import Path

import anyio
import pytest

from salesbus.orchestrator.lease import LeaseHeld, hold_lease, try_acquire
from salesbus.orchestrator.store import open_store

from .test_kill_resume import assert_finished_exactly_once, start_run, wait_for_attempts

pytestmark = pytest.mark.anyio

SLOW = ("--simulate-latency", "0.5")


def put_lease(db: Path, owner: str, age: float) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT OR REPLACE INTO leases VALUES ('scope-x', ?, ?, ?)",
            (owner, time.time() - age, time.time() - age),
        )


async def test_a_live_owner_elsewhere_is_named_and_a_lapsed_one_is_taken_over(
    tmp_path: Path,
) -> None:
    db = tmp_path / "s.db"
    async with open_store(db) as store:
        put_lease(db, "elsewhere:4242:abcdef", age=1)
        with pytest.raises(LeaseHeld, match="being run by elsewhere:4242:abcdef"):
            async with hold_lease(store, "scope-x", ttl=10):
                pass
        put_lease(db, "elsewhere:4242:abcdef", age=11)
        async with hold_lease(store, "scope-x", ttl=10) as owner:
            assert await store.lease("scope-x") == (owner, pytest.approx(time.time(), abs=5))
        assert await store.lease("scope-x") is None  # released on leaving


async def test_with_wait_a_second_run_waits_for_the_heartbeat_to_lapse(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    async with open_store(db) as store:
        put_lease(db, "elsewhere:4242:abcdef", age=0)
        started = anyio.current_time()
        with anyio.fail_after(10):
            async with hold_lease(store, "scope-x", ttl=0.6, wait=True):
                waited = anyio.current_time() - started
    assert waited >= 0.5


async def test_a_holder_whose_lease_is_taken_is_told_at_its_next_beat(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    lost = anyio.Event()
    async with open_store(db) as store, hold_lease(store, "scope-x", ttl=0.3, on_lost=lost.set):
        assert await try_acquire(store, "scope-x", "thief:1:x", ttl=0.3) is False
        await store.commit([("UPDATE leases SET owner = 'thief:1:x'", ())])
        with anyio.fail_after(5):
            await lost.wait()


def test_a_second_run_of_a_running_batch_exits_2_naming_the_owner_and_a_killed_owner_is_replaced(
    tmp_path: Path,
) -> None:
    db = tmp_path / "s.db"
    first = start_run(tmp_path, extra_args=SLOW)
    try:
        wait_for_attempts(db, 3)
        second = start_run(tmp_path)
        _, stderr = second.communicate(timeout=60)
        assert second.returncode == 2
        message = stderr.decode()
        assert f"being run by {socket.gethostname()}:{first.pid}:" in message
        assert "Traceback" not in message
        errors = [line for line in message.splitlines() if line.startswith("error:")]
        assert len(errors) == 1  # one line, after the lead file's summary
        assert "being run by" in errors[0]
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)

    third = start_run(tmp_path)  # the dead owner's lease is taken over at once
    _, stderr = third.communicate(timeout=120)
    assert third.returncode == 0, stderr.decode()
    assert_finished_exactly_once(db)


def test_two_runs_started_together_never_run_a_step_twice_and_never_hang(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    runs = [start_run(tmp_path), start_run(tmp_path)]
    codes = sorted(run.wait(timeout=120) for run in runs)
    assert codes in ([0, 0], [0, 2])  # the loser is refused, or found nothing left to do
    assert_finished_exactly_once(db)


async def test_batches_run_by_one_process_share_its_lease_until_the_last_ends(
    tmp_path: Path,
) -> None:
    async with open_store(tmp_path / "s.db") as store:
        async with hold_lease(store, "scope-x") as first:
            async with hold_lease(store, "scope-x") as second:  # salesbus serve: two batches
                assert first == second
            assert await store.lease("scope-x") is not None  # the first still holds it
        assert await store.lease("scope-x") is None
