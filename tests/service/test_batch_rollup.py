"""The per-batch rollups (usage, counts by state) always equal a full recount of the store."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from salesbus.agents.models import Company
from salesbus.orchestrator.runner import RunSettings, Simulation, run_batch
from salesbus.orchestrator.service.batch_rollup import install_rollup
from salesbus.orchestrator.service.reads import Usage, open_reads
from salesbus.orchestrator.store import open_store
from tests.orchestrator.helpers import a_campaign
from tests.service.server import campaign_toml, companies, running_server, start_server, wait_for


def recount(db: Path, batch_id: str) -> Usage:
    """The batch's usage summed from scratch over every attempt row (what the rollup replaces)."""
    with sqlite3.connect(db) as conn:
        n, pairs, calls, inp, outp, cost = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT a.workflow_id || '/' || a.step),"
            " COALESCE(SUM(a.calls), 0),"
            " COALESCE(SUM(a.input_tokens + a.cache_read_tokens + a.cache_write_tokens), 0),"
            " COALESCE(SUM(a.output_tokens), 0), COALESCE(SUM(a.cost_usd), 0)"
            " FROM step_attempts a JOIN workflows w ON w.id = a.workflow_id WHERE w.batch_id = ?",
            (batch_id,),
        ).fetchone()
    return Usage(calls, inp, outp, cost, n - pairs)


def recount_states(db: Path, batch_id: str) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT state, COUNT(*) FROM workflows WHERE batch_id = ? GROUP BY state", (batch_id,)
        ).fetchall()
    return dict(rows)


def shown(view: dict[str, Any]) -> Usage:
    return Usage(
        view["calls"],
        view["input_tokens"],
        view["output_tokens"],
        view["cost_usd"],
        view["retries"],
    )


def assert_same(got: Usage, want: Usage) -> None:
    assert (got.calls, got.input_tokens, got.output_tokens, got.retries) == (
        want.calls,
        want.input_tokens,
        want.output_tokens,
        want.retries,
    )
    # Sums of floats added and taken away row by row: equal to rounding.
    assert got.cost_usd == pytest.approx(want.cost_usd, rel=1e-9, abs=1e-6)


def leads(count: int, prefix: str) -> list[Company]:
    return [Company.model_validate(c) for c in companies(count, prefix)]


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # the store (aiosqlite) is asyncio's
async def test_the_rollup_is_seeded_from_earlier_attempts_and_follows_retries_refresh_and_deletes(
    tmp_path: Path,
) -> None:
    db = tmp_path / "s.db"
    settings = RunSettings(
        llm="offline",
        concurrency=4,
        retry_base_delay=0.001,
        retry_max_delay=0.01,
        simulation=Simulation(failure_rate=0.3),
    )
    async with open_store(db) as store:
        before, _ = await run_batch(store, leads(5, "Before"), a_campaign(), settings)
        await install_rollup(store)  # seeds from the attempts already there
        during, _ = await run_batch(store, leads(6, "During"), a_campaign(), settings)
        again, _ = await run_batch(store, leads(5, "Before"), a_campaign(), settings, refresh=True)
        assert again.batch.id == before.batch.id
        (gone,) = (await store.workflows(during.batch.id))[:1]
        await store.commit(
            [
                (
                    "DELETE FROM step_outputs WHERE attempt_id IN"
                    " (SELECT id FROM step_attempts WHERE workflow_id = ?)",
                    (gone.id,),
                ),
                ("DELETE FROM step_attempts WHERE workflow_id = ?", (gone.id,)),
                ("DELETE FROM batch_members WHERE workflow_id = ?", (gone.id,)),
                ("DELETE FROM workflows WHERE id = ?", (gone.id,)),
            ]
        )
        # The offline provider reports no tokens or cost: an attempt that does, closed twice
        # (the second close rewrites its usage in place).
        paid = (await store.workflows(during.batch.id))[-1]
        for tokens in (1000, 1500):
            usage = {
                "calls": 2,
                "input_tokens": tokens,
                "output_tokens": 300,
                "cache_read_tokens": 50,
                "cache_write_tokens": 7,
                "cost_usd": tokens / 3e5,
            }
            await store.commit(
                [
                    store.attempt_finished(
                        paid.id, "research", 9, status="failed", duration_ms=5, usage=usage
                    )
                ]
            )
        # An attempt moved to another step (no writer does it today; the rollup must follow).
        await store.commit(
            [
                (
                    "UPDATE step_attempts SET step = 'moved', calls = calls + 1 WHERE id ="
                    " (SELECT MIN(id) FROM step_attempts WHERE workflow_id = ?)",
                    (paid.id,),
                )
            ]
        )
        async with open_reads(db) as reads:
            for batch in (before.batch.id, during.batch.id):
                assert_same(await reads.usage(batch), recount(db, batch))
                summary = await reads.summary(batch)
                assert summary is not None
                assert summary.states == recount_states(db, batch)
            assert sum(recount_states(db, during.batch.id).values()) == 5  # one deleted
            assert (await reads.usage(during.batch.id)).input_tokens == 1500 + 50 + 7
            assert (await reads.usage(during.batch.id)).cost_usd == pytest.approx(0.005)
            # --refresh keeps the old attempts (superseded): the new ones count as retries.
            assert (await reads.usage(before.batch.id)).retries >= 5 * 3
            everything = await reads.usage()
            assert everything.calls == sum(
                recount(db, b).calls for b in (before.batch.id, during.batch.id)
            )
        with sqlite3.connect(db) as conn:
            (failed,) = conn.execute(
                "SELECT COUNT(*) FROM step_attempts WHERE status = 'failed'"
            ).fetchone()
        assert failed > 0  # the run did retry, so the retry counts were exercised


def test_batch_totals_equal_a_full_recount_after_a_kill_a_resume_a_retry_and_approvals(
    tmp_path: Path,
) -> None:
    crashing = start_server(
        tmp_path,
        "--concurrency",
        "3",
        env={"SALESBUS_FAULT_KILL_IN_STEP": "analysis:Roll 4"},
    )
    try:
        with crashing.client() as client:
            batch_id = client.post(
                "/batches",
                json={"companies": companies(6, "Roll"), "campaign_toml": campaign_toml()},
            ).json()["batch"]["id"]
        assert crashing.process.wait(60) == -9  # SIGKILL inside Roll 4's analysis step
    finally:
        if crashing.process.poll() is None:
            crashing.process.kill()

    with (
        running_server(tmp_path, "--concurrency", "3", db=crashing.db) as server,
        server.client() as client,
    ):
        view = wait_for(client, batch_id)
        assert view["awaiting_approval"] == 6
        assert view["retries"] >= 1  # the attempt the kill cut off, run again
        assert_same(shown(view), recount(server.db, batch_id))
        assert view["states"] == recount_states(server.db, batch_id)

        failing = client.post(
            "/batches",
            json={
                "companies": companies(2, "Late"),
                "campaign_toml": campaign_toml(),
                "step_timeout": 0.000001,
                "max_attempts": 2,
            },
        ).json()["batch"]["id"]
        failed = wait_for(client, failing)
        assert failed["states"] == {"failed": 2}
        assert_same(shown(failed), recount(server.db, failing))
        workflow = client.get(f"/batches/{failing}/results").text.splitlines()[0]
        workflow_id = json.loads(workflow)["workflow_id"]
        assert client.post(f"/workflows/{workflow_id}/retry").status_code == 200
        retried = wait_for(
            client, failing, lambda v: v["retries"] > failed["retries"] and not v["running"]
        )
        assert_same(shown(retried), recount(server.db, failing))
        assert retried["states"] == recount_states(server.db, failing)

        decided = client.post(f"/batches/{batch_id}/approve", json={})
        assert decided.status_code == 200, decided.text
        approved = wait_for(client, batch_id, lambda v: v["states"].get("completed") == 6)
        assert_same(shown(approved), recount(server.db, batch_id))
        assert approved["states"] == recount_states(server.db, batch_id) == {"completed": 6}
