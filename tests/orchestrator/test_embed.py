"""Embedding: the same runtime from Python, with results and status events for the caller."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from salesbus.agents.models import Company
from salesbus.agents.providers.base import ProviderWrapper
from salesbus.agents.providers.offline import OfflineProvider
from salesbus.agents.status import StepSucceeded
from salesbus.orchestrator.embed import Pipeline
from salesbus.orchestrator.events import WorkflowCompleted
from salesbus.orchestrator.runner import RunSettings
from salesbus.orchestrator.schema import MIGRATIONS, SCHEMA_VERSION
from salesbus.orchestrator.store import open_store

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


class ClosingWatched(ProviderWrapper):
    """The application's own provider: it notices if anyone but its owner closes it."""

    def __init__(self) -> None:
        self.inner = OfflineProvider()
        self.closed = 0

    async def research(self, *args: Any, **kwargs: Any) -> Any:
        assert not self.closed, "used after being closed"
        return await self.inner.research(*args, **kwargs)

    async def analyze(self, *args: Any, **kwargs: Any) -> Any:
        return await self.inner.analyze(*args, **kwargs)

    async def personalize(self, *args: Any, **kwargs: Any) -> Any:
        return await self.inner.personalize(*args, **kwargs)

    async def aclose(self) -> None:
        self.closed += 1


async def test_an_application_runs_two_batches_through_one_pipeline_with_its_own_provider(
    tmp_path: Path,
) -> None:
    provider = ClosingWatched()
    settings = RunSettings(llm="offline")
    async with Pipeline(
        a_campaign(), db=tmp_path / "app.db", settings=settings, provider=provider
    ) as pipeline:
        first = await pipeline.run(COMPANIES[:1])
        second = await pipeline.run(COMPANIES[1:])
    assert [r.company.name for r in first] == ["Acme Analytics"]
    assert [r.company.name for r in second] == ["Corner Bakery"]
    assert all(r.state != "pending" for r in first + second)
    assert provider.closed == 0


async def test_an_older_database_is_migrated_with_its_batches_intact(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        for statement in MIGRATIONS[0]:
            conn.execute(statement)
        conn.execute("PRAGMA user_version = 1")
        conn.execute(
            "INSERT INTO batches (id, created_at, leads_digest, campaign_json, campaign_digest,"
            " provider, model) VALUES ('b-old', 't', 'l', '{}', 'c', 'offline', 'rules-v1')"
        )
        conn.execute(
            "INSERT INTO workflows (id, batch_id, seq, company_key, company_name, company_json,"
            " state, created_at, updated_at) VALUES ('wf-old', 'b-old', 0, 'a', 'A',"
            " '{\"name\": \"A\"}', 'completed', 't', 't')"
        )
    async with open_store(path) as store:
        assert [w.id for w in await store.workflows("b-old")] == ["wf-old"]
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
