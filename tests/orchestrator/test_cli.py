"""The salesbus command line, end to end on the offline provider and a real SQLite file."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from .cli_support import (
    read_csv,
    run_fast,
    salesbus,
    states,
    workflow_id,
    write_inputs,
)

GOOD = {
    "Acme Analytics",
    "Beta Pay",
    "Gamma Soft",
    "Lots Inc",
    '=HYPERLINK("http://evil.example")',
    "Delta Cloud",
}


def test_a_batch_reports_bad_cells_by_line_and_runs_every_row_with_a_name(tmp_path: Path) -> None:
    campaign, leads = write_inputs(tmp_path)
    result = run_fast(leads, campaign, tmp_path / "s.db")

    assert result.exit_code == 0, result.output
    assert f"left out {leads}:4: no company name: row left out (no_name)" in result.stderr
    assert f"warning {leads}:6, employees: headcount 'lots' is not a number" in result.stderr
    finished = states(tmp_path / "s.db")
    assert set(finished) == GOOD
    assert set(finished.values()) <= {"completed", "disqualified"}
    assert "salesbus export" in result.stdout


def test_running_the_same_command_again_resumes_the_same_batch_and_redoes_nothing(
    tmp_path: Path,
) -> None:
    campaign, leads = write_inputs(tmp_path)
    db = tmp_path / "s.db"
    run_fast(leads, campaign, db)
    with sqlite3.connect(db) as conn:
        before = conn.execute("SELECT COUNT(*) FROM step_attempts").fetchone()[0]
    again = run_fast(leads, campaign, db)
    assert "resumed" in again.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM batches").fetchone()[0] == 1
        assert conn.execute("SELECT COUNT(*) FROM step_attempts").fetchone()[0] == before


def test_the_crm_export_has_crm_columns_and_defuses_formulas(tmp_path: Path) -> None:
    campaign, leads = write_inputs(tmp_path)
    db = tmp_path / "s.db"
    run_fast(leads, campaign, db)
    result = salesbus("export", "--db", db, "--format", "csv", "--status", "completed")
    rows = read_csv(result.stdout)

    assert rows, result.output
    assert {
        "company",
        "contact_name",
        "email_subject",
        "email_body",
        "linkedin_note",
        "icp_score",
        "tier",
    } <= set(rows[0])
    assert all(r["state"] == "completed" and r["email_body"] for r in rows)
    evil = [r for r in rows if "HYPERLINK" in r["company"]]
    assert evil
    assert evil[0]["company"].startswith("'=")


def test_the_default_export_lists_every_workflow_with_state_and_reason(tmp_path: Path) -> None:
    campaign, leads = write_inputs(tmp_path)
    db = tmp_path / "s.db"
    run_fast(leads, campaign, db, "--simulate-permanent-failures", "0.4")
    result = salesbus("export", "--db", db)
    records = [json.loads(line) for line in result.stdout.splitlines()]

    assert {r["company"]["name"] for r in records} == GOOD
    failed = [r for r in records if r["state"] == "failed"]
    assert failed
    assert all("permanent error" in r["reason"] for r in failed)


def test_permanent_failures_end_failed_and_retry_completes_them_once_the_cause_is_gone(
    tmp_path: Path,
) -> None:
    campaign, leads = write_inputs(tmp_path)
    db = tmp_path / "s.db"
    run_fast(leads, campaign, db, "--simulate-permanent-failures", "0.4")
    failed = [name for name, state in states(db).items() if state == "failed"]
    assert failed

    result = salesbus("retry", "--failed", "--db", db, "--retry-base", "0.001")

    assert result.exit_code == 0, result.output
    after = states(db)
    assert all(after[name] in {"completed", "disqualified"} for name in failed)


def test_retryable_failures_are_retried_until_every_company_finishes(tmp_path: Path) -> None:
    campaign, leads = write_inputs(tmp_path)
    db = tmp_path / "s.db"
    result = run_fast(leads, campaign, db, "--simulate-failures", "0.3", "--max-attempts", "10")
    assert result.exit_code == 0, result.output
    assert set(states(db).values()) <= {"completed", "disqualified"}
    with sqlite3.connect(db) as conn:
        failed_attempts = conn.execute(
            "SELECT COUNT(*) FROM step_attempts WHERE status = 'failed'"
        ).fetchone()[0]
    assert failed_attempts > 0


def test_approval_flow_approve_reject_and_a_rechecked_edit(tmp_path: Path) -> None:
    campaign, leads = write_inputs(tmp_path, approval="always")
    db = tmp_path / "s.db"
    run_fast(leads, campaign, db)
    waiting = [n for n, s in states(db).items() if s == "awaiting_approval"]
    assert {"Acme Analytics", "Beta Pay", "Gamma Soft"} <= set(waiting)

    assert salesbus("approve", workflow_id(db, "Acme Analytics"), "--db", db).exit_code == 0
    assert (
        salesbus("reject", workflow_id(db, "Beta Pay"), "--db", db, "--note", "not now").exit_code
        == 0
    )
    gamma = workflow_id(db, "Gamma Soft")
    spammy = salesbus("edit", gamma, "--db", db, "--subject", "Act now: 100% free forecasts!")
    assert spammy.exit_code == 1
    assert "spam_phrases" in spammy.stderr
    assert states(db)["Gamma Soft"] == "awaiting_approval"
    edited = salesbus("edit", gamma, "--db", db, "--subject", "Forecasting at Gamma Soft")
    assert edited.exit_code == 0, edited.output

    after = states(db)
    assert (after["Acme Analytics"], after["Beta Pay"], after["Gamma Soft"]) == (
        "completed",
        "rejected",
        "completed",
    )
    rows = read_csv(
        salesbus("export", "--db", db, "--format", "csv", "--status", "completed").stdout
    )
    assert [r["email_subject"] for r in rows if r["company"] == "Gamma Soft"] == [
        "Forecasting at Gamma Soft"
    ]
    again = salesbus("approve", workflow_id(db, "Acme Analytics"), "--db", db)
    assert again.exit_code == 1
    assert "not awaiting approval" in again.stderr


def test_status_show_and_metrics_describe_the_batch(tmp_path: Path) -> None:
    campaign, leads = write_inputs(tmp_path)
    db = tmp_path / "s.db"
    run_fast(leads, campaign, db, "--simulate-failures", "0.3", "--max-attempts", "10")

    status = salesbus("status", "--db", db)
    assert "completed" in status.stdout
    show = salesbus("show", workflow_id(db, "Acme Analytics")[:10], "--db", db)
    assert "Acme Analytics" in show.stdout
    assert "research" in show.stdout
    assert "Subject:" in show.stdout
    metrics = salesbus("metrics", "--db", db)
    assert "success rate" in metrics.stdout
    assert "p95 ms" in metrics.stdout
    assert "personalization" in metrics.stdout
    assert "server_error" in metrics.stdout  # the most common failure point


def test_a_secret_in_the_environment_never_reaches_the_store_output_or_export(
    tmp_path: Path,
) -> None:
    canary = "sk-ant-api03-CANARY-never-store-me-0123456789"
    campaign, leads = write_inputs(tmp_path)
    db = tmp_path / "s.db"
    env = {"ANTHROPIC_API_KEY": canary}
    result = run_fast(leads, campaign, db, env=env)
    exported = salesbus("export", "--db", db, env=env)

    assert canary not in result.output
    assert canary not in exported.output
    for path in tmp_path.iterdir():
        assert canary.encode() not in path.read_bytes(), path


def test_a_missing_campaign_is_a_clear_error(tmp_path: Path) -> None:
    _, leads = write_inputs(tmp_path)
    result = run_fast(leads, tmp_path / "nope.toml", tmp_path / "s.db")
    assert result.exit_code == 2
    assert "no campaign file" in result.stderr


def test_a_concurrency_the_design_cannot_hold_is_refused_in_one_line(tmp_path: Path) -> None:
    campaign, leads = write_inputs(tmp_path)
    result = run_fast(leads, campaign, tmp_path / "s.db", "--concurrency", "20000")
    assert result.exit_code == 2
    assert "at most 10000" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "s.db").exists()
