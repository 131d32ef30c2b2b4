"""Spend control on Claude: the estimate before a run, and --max-cost during one."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from salesbus.agents.models import Company
from salesbus.agents.providers.anthropic import AnthropicProvider
from salesbus.orchestrator.budget import Budget, estimate_batch
from salesbus.orchestrator.embed import Pipeline
from salesbus.orchestrator.engine import BatchProgress
from salesbus.orchestrator.runner import RunSettings
from salesbus.orchestrator.store import open_store
from tests.fakes.anthropic_server import FakeAnthropicServer, pipeline_responder

from .cli_support import salesbus, write_inputs
from .helpers import example_campaign

pytestmark = pytest.mark.anyio

API_KEY = "sk-ant-test-budget-0123456789"
MODEL = "claude-haiku-5-5"


def companies(start: int, count: int) -> list[Company]:
    industries = ["Logistics", "SaaS", "Fintech", "Retail"]
    return [
        Company(
            name=f"Prospect {i}",
            domain=f"prospect{i}.example",
            industry=industries[i % len(industries)],
            employees=100 + 37 * i,
            country="Germany",
            description=f"Company {i} plans routes and forecasts revenue by hand.",
        )
        for i in range(start, start + count)
    ]


@pytest.fixture
def server() -> Iterator[FakeAnthropicServer]:
    with FakeAnthropicServer(api_key=API_KEY, responder=pipeline_responder()) as fake:
        yield fake


async def run(
    server: FakeAnthropicServer, db: Path, leads: list[Company], **settings: float
) -> BatchProgress:
    provider = AnthropicProvider(api_key=API_KEY, base_url=server.base_url, model=MODEL)
    try:
        async with Pipeline(
            example_campaign(),
            db=db,
            settings=RunSettings(llm="anthropic", model=MODEL, fetch_websites=False, **settings),
            provider=provider,
        ) as pipeline:
            await pipeline.run(leads)
    finally:
        await provider.aclose()  # a provider passed in is the caller's to close
    assert pipeline.last_progress is not None
    return pipeline.last_progress


async def test_the_estimate_from_history_is_within_20_percent_of_the_measured_run(
    server: FakeAnthropicServer, tmp_path: Path
) -> None:
    db = tmp_path / "s.db"
    await run(server, db, companies(0, 12))
    leads = companies(100, 30)
    async with open_store(db) as store:
        estimate = await estimate_batch(leads, example_campaign(), MODEL, store=store)

    measured = await run(server, db, leads)

    assert "measured on 12 earlier companies" in estimate.basis
    assert estimate.calls == pytest.approx(measured.calls, rel=0.2)
    assert estimate.cost_usd == pytest.approx(measured.cost_usd, rel=0.2)
    measured_input = measured.input_tokens  # all kinds
    estimated_input = (
        estimate.input_tokens + estimate.cache_read_tokens + estimate.cache_write_tokens
    )
    assert estimated_input == pytest.approx(measured_input, rel=0.2)
    assert estimate.cached_share > 0.8


async def test_without_history_the_estimate_says_it_uses_typical_figures() -> None:
    estimate = await estimate_batch(companies(0, 10), example_campaign(), MODEL)

    assert "typical figures" in estimate.basis
    assert estimate.calls > 30
    assert estimate.cost_usd > 0
    assert estimate.minutes == pytest.approx(estimate.calls / 50)


async def test_max_cost_stops_admission_at_the_cap_and_says_so(
    server: FakeAnthropicServer, tmp_path: Path
) -> None:
    db = tmp_path / "s.db"
    await run(server, db, companies(0, 5))  # history: the estimate is what a company costs
    leads = companies(200, 40)
    async with open_store(db) as store:
        estimate = await estimate_batch(leads, example_campaign(), MODEL, store=store)
    per_company = estimate.per_company_usd
    cap = per_company * 12.5

    progress = await run(server, db, leads, max_cost_usd=cap, concurrency=5)

    assert progress.held is not None
    assert "would pass --max-cost" in progress.held
    assert progress.cost_usd <= cap
    assert progress.cost_usd + per_company > cap * 0.85  # it did not stop far short
    with sqlite3.connect(db) as conn:
        pending = conn.execute("SELECT COUNT(*) FROM workflows WHERE state = 'pending'").fetchone()
    assert 40 - 13 - 5 <= pending[0] <= 40 - 12 + 5


def test_the_budget_counts_in_flight_companies_at_their_whole_estimate() -> None:
    budget = Budget(cap_usd=1.0, per_company_usd=0.1)
    progress = BatchProgress(batch_id="b", cost_usd=0.5)

    assert budget.refuse(progress, in_flight=4) is None  # 0.5 + 5 * 0.1 = 1.0
    assert budget.refuse(progress, in_flight=5) is not None


def test_estimate_on_the_command_line(tmp_path: Path) -> None:
    campaign, leads = write_inputs(tmp_path)

    result = salesbus("estimate", leads, "--campaign", campaign, "--db", tmp_path / "none.db")

    assert result.exit_code == 0, result.output
    assert "model calls" in result.output
    assert "cost: $" in result.output
    assert not (tmp_path / "none.db").exists()  # estimating creates nothing


def test_estimate_with_a_missing_lead_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    campaign, _ = write_inputs(tmp_path)

    result = salesbus("estimate", tmp_path / "nope.csv", "--campaign", campaign)

    assert result.exit_code == 2
    assert "Traceback" not in result.output + result.stderr


def test_the_sdk_is_imported_only_when_claude_runs() -> None:
    """``import anthropic`` costs seconds; the CLI, offline runs and estimates never pay it."""
    probe = (
        "import sys, anyio\n"
        "from salesbus.orchestrator.cli import app\n"
        "from salesbus.orchestrator.budget import estimate_batch\n"
        "from salesbus.agents.providers.factory import make_provider\n"
        "from salesbus.agents.models import Company\n"
        "from tests.orchestrator.helpers import example_campaign\n"
        "make_provider('offline')\n"
        "anyio.run(estimate_batch, [Company(name='A')], example_campaign(), 'claude-haiku-5-5')\n"
        "print('anthropic' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"
