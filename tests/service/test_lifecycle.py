"""Stopping and starting the service: SIGTERM mid-batch, a restart that finishes it, safe binds."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.orchestrator.cli_support import salesbus
from tests.service.server import campaign_toml, companies, running_server, start_server, wait_for


def test_sigterm_mid_batch_then_a_restart_completes_it_with_nothing_lost_or_repeated(
    tmp_path: Path,
) -> None:
    server = start_server(tmp_path, "--concurrency", "2", "--simulate-latency", "0.1")
    try:
        with server.client() as client:
            batch_id = client.post(
                "/batches",
                json={"companies": companies(12, "Term"), "campaign_toml": campaign_toml("never")},
            ).json()["batch"]["id"]
            wait_for(client, batch_id, lambda v: v["states"].get("completed", 0) >= 2)
        assert server.terminate() == 0
    finally:
        if server.process.poll() is None:
            server.process.kill()
    with sqlite3.connect(server.db) as db:
        states = dict(db.execute("SELECT state, COUNT(*) FROM workflows GROUP BY state").fetchall())
        (running,) = db.execute(
            "SELECT COUNT(*) FROM step_attempts WHERE status = 'running'"
        ).fetchone()
    assert 2 <= states.get("completed", 0) < 12, states
    assert running == 0  # in-flight steps finished before the process exited
    assert "Application shutdown complete" in server.output()

    with running_server(tmp_path, db=server.db) as again, again.client() as client:
        view = wait_for(client, batch_id)
    assert view["states"] == {"completed": 12}
    with sqlite3.connect(server.db) as db:
        rows = db.execute("SELECT workflow_id, step, status FROM step_attempts").fetchall()
    assert len(rows) == 12 * 3
    assert {status for _, _, status in rows} == {"succeeded"}
    assert len({(w, s) for w, s, _ in rows}) == 12 * 3


def test_a_batch_that_cannot_run_is_reported_and_the_service_stays_up(tmp_path: Path) -> None:
    with (
        running_server(tmp_path, "--concurrency", "1", "--simulate-latency", "0.2") as server,
        server.client() as client,
    ):
        batch_id = client.post(
            "/batches", json={"companies": companies(5, "Broken"), "campaign_toml": campaign_toml()}
        ).json()["batch"]["id"]
    with sqlite3.connect(server.db) as db:  # the stored campaign no longer validates
        db.execute("UPDATE batches SET campaign_json = '{\"seller\": 1}' WHERE id = ?", (batch_id,))
    with running_server(tmp_path, db=server.db) as again, again.client() as client:
        view = wait_for(client, batch_id, lambda v: v["error"] is not None)
        assert not view["running"]
        assert "ValidationError" in view["error"]
        assert view["states"].get("pending", 0) >= 3  # nothing was lost: it waits for a fix
        healthy = client.post(
            "/batches", json={"companies": companies(1, "Fine"), "campaign_toml": campaign_toml()}
        ).json()["batch"]["id"]
        assert wait_for(client, healthy)["states"] == {"awaiting_approval": 1}


def test_without_a_token_the_service_refuses_to_listen_beyond_loopback(tmp_path: Path) -> None:
    result = salesbus(
        "serve", "--host", "0.0.0.0", "--db", tmp_path / "s.db", env={"SALESBUS_API_TOKEN": ""}
    )
    assert result.exit_code == 2
    assert "refusing to listen on 0.0.0.0 without a token" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "s.db").exists()
