"""Approvals are compare-and-set: of two reviewers deciding one draft at once, exactly one wins."""

from __future__ import annotations

from pathlib import Path

import anyio

from salesbus.orchestrator import approval
from salesbus.orchestrator.store import open_store

from .cli_support import run_fast, salesbus, states, workflow_id, write_inputs


def test_two_concurrent_decisions_on_one_draft_have_exactly_one_winner(tmp_path: Path) -> None:
    campaign, leads = write_inputs(tmp_path, approval="always")
    db = tmp_path / "s.db"
    run_fast(leads, campaign, db)
    anyio.run(race, db)


async def race(db: Path) -> None:
    outcomes: dict[str, str] = {}
    async with open_store(db) as store:
        (target, *_) = await store.workflows((await store.batch()).id)
        assert target.state == "awaiting_approval"

    async def decide(reviewer: str, act: str) -> None:
        async with open_store(db) as own:  # each reviewer its own connection, as two processes
            try:
                if act == "approve":
                    await approval.approve(own, target.id, reviewer=reviewer)
                else:
                    await approval.reject(own, target.id, reviewer=reviewer)
                outcomes[reviewer] = "won"
            except approval.ApprovalError as exc:
                outcomes[reviewer] = str(exc)

    async with anyio.create_task_group() as tg:
        tg.start_soon(decide, "alice", "approve")
        tg.start_soon(decide, "bob", "reject")
    async with open_store(db) as store:
        decisions = await store.decisions(target.id)
        final = await store.workflow(target.id)
    assert list(outcomes.values()).count("won") == 1
    (winner,) = [r for r, o in outcomes.items() if o == "won"]
    (loser,) = [o for o in outcomes.values() if o != "won"]
    assert len(decisions) == 1
    assert decisions[0]["reviewer"] == winner
    assert final.state == ("completed" if winner == "alice" else "rejected")
    assert f"by {winner}" in loser or "not awaiting approval" in loser


def test_bulk_approval_by_batch_with_a_filter_and_a_lost_race_named(tmp_path: Path) -> None:
    campaign, leads = write_inputs(tmp_path, approval="always")
    db = tmp_path / "s.db"
    run_fast(leads, campaign, db)
    waiting = [n for n, s in states(db).items() if s == "awaiting_approval"]
    assert len(waiting) >= 3

    none = salesbus("approve", "--batch", "b-", "--min-score", "101", "--db", db)
    assert none.exit_code == 0
    assert "nothing to decide" in none.stdout
    everything = salesbus("approve", "--batch", "b-", "--all", "--db", db, "--reviewer", "carol")
    assert everything.exit_code == 0, everything.output
    assert everything.stdout.count("approved by carol") == len(waiting)
    assert set(states(db).values()) <= {"completed", "disqualified"}

    again = salesbus("reject", workflow_id(db, waiting[0]), "--db", db)
    assert again.exit_code == 1
    assert "decided first: approve by carol" in again.stderr


def test_bulk_needs_a_filter(tmp_path: Path) -> None:
    result = salesbus("approve", "--batch", "b-", "--db", tmp_path / "s.db")
    assert result.exit_code == 2
