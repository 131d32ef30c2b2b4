"""HTTP on its loop, batches on theirs: reads never wait for batches, writes cross over.

The runtime (store writer, buses, orchestrators) runs on a thread and event
loop of its own; the HTTP side reads through its own connection and hands every
write to the runtime's loop. These specifications hold a batch's loop still, and
take decisions while batches run.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from salesbus.orchestrator.service.reads import STATE_EVENT_TYPES, open_reads
from salesbus.orchestrator.service.runtime import HOLD_ENV
from salesbus.orchestrator.store import StoreError, open_store
from tests.service.server import campaign_toml, companies, read_events, running_server, wait_for


def _until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.02)


def test_reads_are_answered_while_a_batch_holds_the_runtime_loop(tmp_path: Path) -> None:
    release = tmp_path / "release"
    held = tmp_path / "release.held"
    with (
        running_server(tmp_path, env={HOLD_ENV: str(release)}) as server,
        server.client(timeout=10) as client,
    ):
        answer = client.post(
            "/batches", json={"companies": companies(3, "Held"), "campaign_toml": campaign_toml()}
        )
        assert answer.status_code == 202, answer.text
        batch_id = answer.json()["batch"]["id"]
        _until(held.exists)  # the batch's runner now blocks the runtime's loop
        try:
            # On one shared loop each of these would wait for the hold (and time out).
            view = client.get(f"/batches/{batch_id}").json()
            assert view["running"]
            assert view["states"] == {"pending": 3}
            assert [b["id"] for b in client.get("/batches").json()] == [batch_id]
            assert client.get("/readyz").status_code == 200
            assert "salesbus_batches_running 1.0" in client.get("/metrics").text
            assert client.get("/").status_code == 200  # the inbox
        finally:
            release.touch()
        assert wait_for(client, batch_id)["states"] == {"awaiting_approval": 3}


def test_a_decision_and_a_cancel_taken_while_a_batch_runs_land_in_the_store(
    tmp_path: Path,
) -> None:
    with (
        running_server(tmp_path, "--concurrency", "2", "--simulate-latency", "0.3") as server,
        server.client() as client,
    ):
        batch_id = client.post(
            "/batches", json={"companies": companies(20, "Live"), "campaign_toml": campaign_toml()}
        ).json()["batch"]["id"]
        wait_for(client, batch_id, lambda v: v["states"].get("awaiting_approval", 0) >= 1)
        with sqlite3.connect(server.db) as db:
            (waiting,) = db.execute(
                "SELECT id FROM workflows WHERE batch_id = ? AND state = 'awaiting_approval'"
                " ORDER BY id LIMIT 1",
                (batch_id,),
            ).fetchone()

        approved = client.post(f"/workflows/{waiting}/approve", json={"reviewer": "Ana"})
        assert approved.status_code == 200, approved.text
        assert approved.json()["state"] == "completed"
        assert client.get(f"/batches/{batch_id}").json()["running"]  # decided mid-batch
        with sqlite3.connect(server.db) as db:
            assert db.execute(
                "SELECT decision, reviewer FROM decisions WHERE workflow_id = ?", (waiting,)
            ).fetchall() == [("approve", "Ana")]
            (state,) = db.execute("SELECT state FROM workflows WHERE id = ?", (waiting,)).fetchone()
        assert state == "completed"

        cancelled = client.post(f"/batches/{batch_id}/cancel")
        assert cancelled.status_code == 200
        assert cancelled.json()["cancelled"]
        view = wait_for(client, batch_id, lambda v: not v["running"])
        assert view["states"].get("pending", 0) > 0  # it stopped admitting

        # The stream, read on the HTTP side, is the log in order, decision included,
        # and resumes exactly after Last-Event-ID.
        types = ", ".join("?" * len(STATE_EVENT_TYPES))
        with sqlite3.connect(server.db) as db:
            logged = [
                seq
                for (seq,) in db.execute(
                    "SELECT e.seq FROM events e JOIN workflows w ON w.id = e.workflow_id"
                    f" WHERE w.batch_id = ? AND e.type IN ({types})"
                    " ORDER BY e.seq",
                    (batch_id, *STATE_EVENT_TYPES),
                )
            ]
        events = read_events(client, {"batch": batch_id}, {}, want=len(logged))
        assert [e["id"] for e in events] == logged
        mine = [e for e in events if e["workflow_id"] == waiting]
        assert [e["type"] for e in mine][-2:] == ["ApprovalRequested", "ApprovalDecided"]
        assert mine[-1]["decision"] == "approve"
        middle = len(events) // 2
        resumed = read_events(
            client,
            {"batch": batch_id},
            {"Last-Event-ID": str(events[middle]["id"])},
            want=len(events) - middle - 1,
        )
        assert resumed == events[middle + 1 :]


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # the store (aiosqlite) is asyncio's
async def test_the_http_sides_store_refuses_writes_so_they_go_to_the_runtime_loop(
    tmp_path: Path,
) -> None:
    async with open_store(tmp_path / "s.db") as store, open_reads(store.path) as reads:
        assert await reads.batch_ids() == []
        with pytest.raises(StoreError, match="closed"):
            await reads.store.commit([])
