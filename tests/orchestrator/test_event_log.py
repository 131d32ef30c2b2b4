"""The event log keeps a step's status in a few small fields: its attempt row holds the rest."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from salesbus.orchestrator.engine import STATUS_FIELDS

from .cli_support import run_fast, write_inputs


def test_step_status_events_are_logged_with_only_what_the_event_stream_shows(
    tmp_path: Path,
) -> None:
    campaign, leads = write_inputs(tmp_path)
    db = tmp_path / "s.db"
    assert run_fast(leads, campaign, db).exit_code == 0
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT type, body FROM events WHERE type LIKE 'salesbus.Step%' ORDER BY seq"
        ).fetchall()
        attempts = conn.execute("SELECT COUNT(*) FROM step_attempts").fetchone()[0]
        domain = conn.execute(
            "SELECT body FROM events WHERE type = 'salesbus.WorkflowCompleted'"
        ).fetchall()
    assert attempts > 0
    assert {t for t, _ in rows} >= {"salesbus.StepStarted", "salesbus.StepSucceeded"}
    assert len([t for t, _ in rows if t == "salesbus.StepStarted"]) == attempts
    for kind, body in rows:
        logged = json.loads(body)
        assert logged["type"] == kind
        assert {"step", "attempt"} <= set(logged["data"]) <= set(STATUS_FIELDS)
    assert domain  # the other events are logged as before, whole
    assert all("correlation_id" in json.loads(body)["data"] for (body,) in domain)
