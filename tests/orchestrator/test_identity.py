"""Reruns cost only what changed: a workflow is the company under a campaign and a model."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from salesbus.agents.models import Company
from salesbus.orchestrator.batch import (
    company_key,
    legacy_company_key,
    prepare_batch,
    workflow_id_for,
)
from salesbus.orchestrator.runner import RunSettings
from salesbus.orchestrator.store import open_store

from .cli_support import LEADS, run_fast, salesbus, states, write_inputs
from .helpers import a_campaign


def attempts_by_company(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return dict(
            conn.execute(
                "SELECT w.company_name, COUNT(a.id) FROM workflows w"
                " LEFT JOIN step_attempts a ON a.workflow_id = w.id GROUP BY w.id"
            ).fetchall()
        )


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (
            Company(name="A", domain="https://www.Acme.example/about"),
            Company(name="B", domain="acme.example"),
        ),
        (
            Company(name="A", website="http://acme.example"),
            Company(name="Z", domain="ACME.example"),
        ),
        (Company(name="Acme, Inc."), Company(name="  acme   inc ")),
    ],
)
def test_a_company_is_known_by_its_normalised_domain_else_its_name(
    one: Company, other: Company
) -> None:
    assert company_key(one) == company_key(other)


def test_a_rerun_with_one_row_added_runs_exactly_one_new_workflow(tmp_path: Path) -> None:
    campaign, leads = write_inputs(tmp_path)
    db = tmp_path / "s.db"
    assert run_fast(leads, campaign, db).exit_code == 0
    before = attempts_by_company(db)

    leads.write_text(
        LEADS + "Echo Labs,echo.example,SaaS,400,United States,Analytics for revenue teams\n",
        encoding="utf-8",
    )
    rerun = run_fast(leads, campaign, db)

    assert rerun.exit_code == 0, rerun.output
    after = attempts_by_company(db)
    assert {name: n for name, n in after.items() if name in before} == before
    assert after["Echo Labs"] > 0
    assert states(db)["Echo Labs"] in {"completed", "disqualified"}


def test_refresh_runs_every_company_again_on_purpose(tmp_path: Path) -> None:
    campaign, leads = write_inputs(tmp_path)
    db = tmp_path / "s.db"
    run_fast(leads, campaign, db)
    before = attempts_by_company(db)

    refreshed = run_fast(leads, campaign, db, "--refresh")

    assert refreshed.exit_code == 0, refreshed.output
    after = attempts_by_company(db)
    assert all(after[name] == 2 * n for name, n in before.items())
    with sqlite3.connect(db) as conn:
        superseded = conn.execute("SELECT COUNT(*) FROM step_attempts WHERE status = 'superseded'")
        assert superseded.fetchone()[0] == sum(before.values())
    assert set(states(db).values()) <= {"completed", "disqualified"}


def test_retry_runs_with_the_settings_the_batch_ran_with(tmp_path: Path) -> None:
    campaign, leads = write_inputs(tmp_path)
    db = tmp_path / "s.db"
    run_fast(leads, campaign, db, "--concurrency", "3", "--max-attempts", "7")
    with sqlite3.connect(db) as conn:
        (stored,) = conn.execute("SELECT settings_json FROM batches").fetchone()
    settings = RunSettings.from_record(json.loads(stored), llm="offline")
    assert (settings.concurrency, settings.max_attempts, settings.retry_base_delay) == (
        3,
        7,
        0.001,
    )
    assert RunSettings.from_record(json.loads(stored), max_attempts=2).max_attempts == 2
    assert salesbus("retry", "--failed", "--db", db).exit_code == 0


@pytest.mark.anyio
async def test_a_store_written_under_the_older_key_is_joined_not_run_again(
    tmp_path: Path,
) -> None:
    """Workflows keyed by the pre-issue-11 normalisation (host, else folded name)
    are found by a new run, so an existing database pays for none of them again."""
    campaign = a_campaign()
    nameless = Company(name="Acme, Inc.", line=2)  # "acme inc" before, "name:acme" now
    subdomain = Company(name="Shop", domain="shop.acme.co.uk", line=3)  # the host before
    fresh = Company(name="Zeta GmbH", line=4)
    async with open_store(tmp_path / "s.db") as store:
        old = await prepare_batch(store, [], campaign, provider="offline", model="r")
        digest = old.batch.campaign_digest
        await store.add_workflows(
            old.batch.id,
            [
                (workflow_id_for(digest, "offline", "r", key), key, c)
                for c in (nameless, subdomain)
                if (key := legacy_company_key(c))
            ],
        )
        assert legacy_company_key(nameless) != company_key(nameless)
        assert legacy_company_key(subdomain) != company_key(subdomain)

        rerun = await prepare_batch(
            store,
            [nameless, subdomain, fresh],
            campaign,
            provider="offline",
            model="r",
            leads_digest="another file",
        )

        assert rerun.added == 1
        members = [w.id for w in await store.workflows(rerun.batch.id)]
        assert members == [
            *(
                workflow_id_for(digest, "offline", "r", legacy_company_key(c))
                for c in (nameless, subdomain)
            ),
            workflow_id_for(digest, "offline", "r", company_key(fresh)),
        ]
