"""Databases written before event names were module-qualified still decode.

Event type names are stored in the event log's ``type`` column and in every step
attempt's output envelope. The pipeline's events name themselves explicitly, so
these literal names (as written by every earlier release) must keep resolving.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from salesbus.agents import events as pipeline_events
from salesbus.agents import status
from salesbus.bus import Event, decode_event, default_registry
from salesbus.orchestrator import events as workflow_events
from salesbus.orchestrator.payloads import expand, load_payload

from .cli_support import run_fast, write_inputs

STORED_NAMES = {
    "salesbus.PipelineEvent": pipeline_events.PipelineEvent,
    "salesbus.CompanySubmitted": pipeline_events.CompanySubmitted,
    "salesbus.CompanyResearched": pipeline_events.CompanyResearched,
    "salesbus.AnalysisReady": pipeline_events.AnalysisReady,
    "salesbus.OutreachDrafted": pipeline_events.OutreachDrafted,
    "salesbus.StepEvent": status.StepEvent,
    "salesbus.StepStarted": status.StepStarted,
    "salesbus.StepSucceeded": status.StepSucceeded,
    "salesbus.StepSkipped": status.StepSkipped,
    "salesbus.StepFailed": status.StepFailed,
    "salesbus.WorkflowCompleted": workflow_events.WorkflowCompleted,
    "salesbus.WorkflowFailed": workflow_events.WorkflowFailed,
    "salesbus.ApprovalRequested": workflow_events.ApprovalRequested,
    "salesbus.ApprovalDecided": workflow_events.ApprovalDecided,
}


@pytest.mark.parametrize("name", sorted(STORED_NAMES))
def test_each_stored_pipeline_name_resolves_to_its_class(name: str) -> None:
    assert default_registry.resolve(name) is STORED_NAMES[name]
    assert STORED_NAMES[name].type_name == name


def test_every_pipeline_event_class_has_an_explicit_stored_name() -> None:
    modules = {m.__name__ for m in (pipeline_events, status, workflow_events)}
    classes = {
        cls
        for name in default_registry.names()
        if (cls := default_registry.resolve(name)).__module__ in modules
    }
    assert classes == set(STORED_NAMES.values())


def test_an_event_log_and_step_outputs_written_by_a_run_decode(tmp_path: Path) -> None:
    campaign, leads = write_inputs(tmp_path)
    db = tmp_path / "s.db"
    assert run_fast(leads, campaign, db).exit_code == 0
    with sqlite3.connect(db) as conn:
        logged = {row[0] for row in conn.execute("SELECT DISTINCT type FROM events")}
        rows = conn.execute(
            "SELECT a.workflow_id, o.payload FROM step_attempts a"
            " JOIN step_outputs o ON o.attempt_id = a.id ORDER BY a.id"
        ).fetchall()
    assert logged
    assert logged <= set(STORED_NAMES)
    assert rows
    previous: dict[str, str] = {}
    for workflow_id, stored in rows:
        # Outputs are stored once and compressed (payloads.py): made whole as the store reads them.
        raw = expand(load_payload(stored), previous.get(workflow_id))
        previous[workflow_id] = raw
        assert json.loads(raw)["type"] in STORED_NAMES
        assert isinstance(decode_event(raw), Event)
