"""Embedding: the same runtime from Python, with results and status events for the caller."""

from __future__ import annotations

from pathlib import Path

import pytest

from salesbus.agents.models import Company
from salesbus.agents.status import StepSucceeded
from salesbus.orchestrator.embed import Pipeline
from salesbus.orchestrator.events import WorkflowCompleted
from salesbus.orchestrator.runner import RunSettings

from .helpers import a_campaign

pytestmark = pytest.mark.anyio

COMPANIES = [
    Company(
        name="Acme Analytics",
        domain="acme.example",
        industry="SaaS",
        employees=300,
        country="United States",
        description="Revenue forecasting software; hiring",
    ),
    Company(
        name="Corner Bakery",
        domain="bakery.example",
        industry="Food",
        employees=4,
        country="France",
    ),
]


async def test_a_pipeline_runs_companies_and_reports_results_and_events(tmp_path: Path) -> None:
    completed: list[WorkflowCompleted] = []
    steps: list[str] = []
    settings = RunSettings(llm="offline")
    async with Pipeline(a_campaign(), db=tmp_path / "embedded.db", settings=settings) as pipeline:
        pipeline.subscribe(WorkflowCompleted, completed.append)
        pipeline.subscribe(StepSucceeded, lambda e: steps.append(e.step))
        results = await pipeline.run(COMPANIES)

    assert [r.company.name for r in results] == ["Acme Analytics", "Corner Bakery"]
    acme = results[0]
    assert acme.state in {"completed", "awaiting_approval"}
    assert acme.outreach is not None
    assert acme.analysis is not None
    assert "rule-based" in acme.outreach.generated_by
    assert {c.correlation_id for c in completed} <= {r.workflow_id for r in results}
    assert steps.count("research") == 2


async def test_running_again_on_the_same_file_resumes_instead_of_redoing(tmp_path: Path) -> None:
    settings = RunSettings(llm="offline")
    async with Pipeline(a_campaign(), db=tmp_path / "e.db", settings=settings) as pipeline:
        first = await pipeline.run(COMPANIES)
    steps: list[str] = []
    async with Pipeline(a_campaign(), db=tmp_path / "e.db", settings=settings) as pipeline:
        pipeline.subscribe(StepSucceeded, lambda e: steps.append(e.step))
        second = await pipeline.run(COMPANIES)
    assert [r.state for r in second] == [r.state for r in first]
    assert steps == []
