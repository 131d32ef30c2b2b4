"""``run --llm anthropic --batch-api``: whole batches through Message Batches on a loopback API.

The real SDK talks to :class:`FakeAnthropicServer`'s batches endpoints; the
run's timing comes from ``SALESBUS_BATCH_WINDOW_S`` / ``SALESBUS_BATCH_POLL_S``.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from salesbus.orchestrator.schema import MIGRATIONS, SCHEMA_VERSION
from salesbus.orchestrator.store import open_store
from tests.fakes.anthropic_server import FakeAnthropicServer, TokenCounts, pipeline_responder

from .cli_support import salesbus, states, write_inputs
from .test_cli_errors import assert_one_line

API_KEY = "sk-ant-test-batch-run-0123456789"
FINAL = {"completed", "disqualified", "awaiting_approval", "failed", "rejected"}
FAST = {"SALESBUS_BATCH_WINDOW_S": "0.3", "SALESBUS_BATCH_POLL_S": "0.05"}


@pytest.fixture
def server() -> Iterator[FakeAnthropicServer]:
    usage = TokenCounts(input_tokens=900, output_tokens=300, cache_read_input_tokens=4000)
    with FakeAnthropicServer(api_key=API_KEY, responder=pipeline_responder(usage=usage)) as fake:
        yield fake


def env_for(server: FakeAnthropicServer) -> dict[str, str]:
    return {"ANTHROPIC_API_KEY": API_KEY, "ANTHROPIC_BASE_URL": server.base_url, **FAST}


def run_claude(tmp: Path, db: Path, server: FakeAnthropicServer, *extra: str) -> str:
    campaign, leads = write_inputs(tmp)
    result = salesbus(
        *("run", leads, "--campaign", campaign, "--db", db, "--llm", "anthropic"),
        *("--retry-base", "0.001", "--no-fetch-websites", *extra),
        env=env_for(server),
    )
    assert result.exit_code == 0, result.output
    return result.output


def totals(db: Path) -> tuple[int, int, int, float]:
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT SUM(input_tokens), SUM(output_tokens), SUM(cache_read_tokens), SUM(cost_usd)"
            " FROM step_attempts"
        ).fetchone()
    return int(row[0]), int(row[1]), int(row[2]), float(row[3])


def batch_rows(db: Path) -> list[tuple[str, str, str, int, str, str | None]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT batch_id, workflow_id, step, attempt, state, reason"
            " FROM message_batch_requests ORDER BY sent_at, custom_id"
        ).fetchall()


def test_a_batch_run_ends_every_company_at_half_the_cost_of_the_same_tokens(
    tmp_path: Path, server: FakeAnthropicServer
) -> None:
    run_claude(tmp_path, tmp_path / "direct.db", server)
    direct_calls = len(server.requests)
    server.clear()
    server.batches.processing_delay = 0.2
    run_claude(tmp_path, tmp_path / "batch.db", server, "--batch-api")

    assert set(states(tmp_path / "batch.db").values()) <= FINAL - {"failed"}
    assert states(tmp_path / "batch.db") == states(tmp_path / "direct.db")
    assert not [r for r in server.requests if r.path == "/v1/messages"]
    sent = sum(len(ids) for ids in server.batches.created)
    assert sent == direct_calls, "the same requests, sent in batches"
    assert len(server.batches.created) <= 4, "each step's companies share a batch"
    *direct_tokens, direct_cost = totals(tmp_path / "direct.db")
    *batch_tokens, batch_cost = totals(tmp_path / "batch.db")
    assert batch_tokens == direct_tokens
    assert batch_cost == pytest.approx(direct_cost / 2)
    assert direct_cost > 0
    assert {state for *_, state, _ in batch_rows(tmp_path / "batch.db")} == {"answered"}


def test_an_errored_item_is_retried_alone_in_a_later_batch(
    tmp_path: Path, server: FakeAnthropicServer
) -> None:
    db = tmp_path / "s.db"
    server.batches.error_items("-personalizat-", error_type="api_error")
    run_claude(tmp_path, db, server, "--batch-api")

    assert set(states(db).values()) <= FINAL - {"failed"}
    failed = [row for row in batch_rows(db) if row[4] == "failed"]
    assert len(failed) == 1
    (_, workflow, step, attempt, _, reason) = failed[0]
    assert (step, attempt) == ("personalization", 1)
    assert reason is not None
    assert "api_error" in reason
    retried = [ids for ids in server.batches.created if any(workflow[:12] in i for i in ids)]
    alone = [ids for ids in server.batches.created if len(ids) == 1]
    assert [f"{workflow}-personalizat-2-1"] in alone
    assert len(retried) == 4, "research, analysis, personalization and its retry"
    with sqlite3.connect(db) as conn:
        kinds = conn.execute(
            "SELECT step, attempt, status, error_kind FROM step_attempts"
            " WHERE workflow_id = ? AND step = 'personalization' ORDER BY attempt",
            (workflow,),
        ).fetchall()
    assert kinds == [
        ("personalization", 1, "failed", "server_error"),
        ("personalization", 2, "succeeded", None),
    ]


def test_an_expired_batch_is_sent_again_and_every_company_still_ends(
    tmp_path: Path, server: FakeAnthropicServer
) -> None:
    db = tmp_path / "s.db"
    server.batches.expire_next()
    run_claude(tmp_path, db, server, "--batch-api")

    assert set(states(db).values()) <= FINAL - {"failed"}
    first, second, *_ = server.batches.created
    assert sorted(i.replace("-1-1", "-2-1") for i in first) == sorted(second)
    with sqlite3.connect(db) as conn:
        expired = conn.execute(
            "SELECT COUNT(*) FROM step_attempts WHERE error_kind = 'batch_expired'"
        ).fetchone()[0]
    assert expired == len(first)


def test_a_batch_that_keeps_expiring_fails_its_companies_with_the_reason(
    tmp_path: Path, server: FakeAnthropicServer
) -> None:
    db = tmp_path / "s.db"
    server.batches.expire_next(2)
    run_claude(tmp_path, db, server, "--batch-api", "--max-attempts", "2")

    assert set(states(db).values()) == {"failed"}
    with sqlite3.connect(db) as conn:
        reasons = {r for (r,) in conn.execute("SELECT reason FROM workflows")}
    assert all("expired" in reason for reason in reasons), reasons


def test_a_batch_slower_than_the_step_timeout_is_waited_for(
    tmp_path: Path, server: FakeAnthropicServer
) -> None:
    """A batch may take hours: ``--step-timeout`` is for one-by-one calls, not for batches."""
    db = tmp_path / "s.db"
    server.batches.processing_delay = 1.5
    run_claude(tmp_path, db, server, "--batch-api", "--step-timeout", "0.5")

    assert set(states(db).values()) <= FINAL - {"failed"}
    with sqlite3.connect(db) as conn:
        failed = conn.execute("SELECT COUNT(*) FROM step_attempts WHERE status = 'failed'")
        assert failed.fetchone() == (0,)
        assert conn.execute("SELECT MAX(duration_ms) FROM step_attempts").fetchone()[0] > 1_500


def test_the_estimate_prices_a_batch_run_at_the_batch_price(tmp_path: Path) -> None:
    campaign, leads = write_inputs(tmp_path)
    common = ("estimate", leads, "--campaign", campaign, "--db", tmp_path / "none.db")

    direct = salesbus(*common)
    batch = salesbus(*common, "--batch-api")

    assert direct.exit_code == batch.exit_code == 0, batch.output
    assert cost_of(batch.output) == pytest.approx(cost_of(direct.output) / 2, rel=1e-3)
    assert "at most 24 h" in batch.output


def cost_of(output: str) -> float:
    line = next(line for line in output.splitlines() if line.startswith("cost: $"))
    return float(line.removeprefix("cost: $").split()[0].replace(",", ""))


def test_batch_api_without_claude_is_one_line_and_exit_2(tmp_path: Path) -> None:
    campaign, leads = write_inputs(tmp_path)
    result = salesbus(
        *("run", leads, "--campaign", campaign, "--db", tmp_path / "s.db", "--batch-api"),
        env={"ANTHROPIC_API_KEY": API_KEY},
    )
    assert result.exit_code == 2
    assert_one_line(result.output)
    assert "--batch-api: needs --llm anthropic" in result.output
    assert not (tmp_path / "s.db").exists()


@pytest.mark.parametrize("how", ["kill -9", "Ctrl-C twice"])
def test_a_run_stopped_while_its_batch_processes_waits_for_that_batch_on_rerun(
    tmp_path: Path, server: FakeAnthropicServer, how: str
) -> None:
    """Stop a real ``salesbus run --batch-api`` after it sent its batch; the rerun pays once."""
    campaign, leads = write_inputs(tmp_path)
    db = tmp_path / "s.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "ANTHROPIC_"))}
    env.update(env_for(server))
    command = [
        *(sys.executable, "-m", "salesbus.orchestrator.cli", "run", str(leads)),
        *("--campaign", str(campaign), "--db", str(db), "--llm", "anthropic", "--batch-api"),
        *("--retry-base", "0.001", "--no-fetch-websites"),
    ]
    server.batches.processing_delay = 60
    first = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, cwd=tmp_path)
    try:
        wait_for_batch_rows(db)
        if how == "Ctrl-C twice":
            first.send_signal(signal.SIGINT)
            time.sleep(0.5)
            first.send_signal(signal.SIGINT)
            assert first.wait(timeout=20) == 130
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    assert first.returncode == (130 if how == "Ctrl-C twice" else -signal.SIGKILL)
    (killed_batch,) = server.batches.created
    assert {row[4] for row in batch_rows(db)} == {"pending"}

    server.batches.processing_delay = 0.2
    rerun = subprocess.run(command, env=env, capture_output=True, timeout=120, cwd=tmp_path)

    assert rerun.returncode == 0, rerun.stderr.decode()
    assert set(states(db).values()) <= FINAL - {"failed"}
    assert server.batches.created[0] == killed_batch
    research = [i for ids in server.batches.created for i in ids if "-research-" in i]
    assert sorted(research) == sorted(killed_batch), "no research request was sent twice"
    assert {row[4] for row in batch_rows(db)} == {"answered"}
    with sqlite3.connect(db) as conn:
        costs = conn.execute(
            "SELECT COUNT(*) FROM step_attempts WHERE step = 'research' AND status = 'succeeded'"
            " AND cost_usd > 0"
        ).fetchone()[0]
    assert costs == len(killed_batch), "the resumed attempts carry the batch's cost"


def wait_for_batch_rows(db: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if db.exists():
            try:
                with sqlite3.connect(db) as conn:
                    if conn.execute("SELECT COUNT(*) FROM message_batch_requests").fetchone()[0]:
                        return
            except sqlite3.OperationalError:
                pass  # not migrated yet
        time.sleep(0.05)
    raise AssertionError(f"no batch was recorded within {timeout}s")


@pytest.mark.anyio
async def test_a_schema_2_store_gains_the_batch_requests_table_with_its_data_intact(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v2.db"
    with sqlite3.connect(path) as conn:
        for statement in MIGRATIONS[0] + MIGRATIONS[1]:
            conn.execute(statement)
        conn.execute("PRAGMA user_version = 2")
        conn.execute(
            "INSERT INTO batches (id, created_at, leads_digest, campaign_json, campaign_digest,"
            " provider, model) VALUES ('b-v2', 't', 'l', '{}', 'c', 'anthropic', 'm')"
        )
        conn.execute(
            "INSERT INTO workflows (id, batch_id, seq, company_key, company_name, company_json,"
            " state, created_at, updated_at) VALUES ('wf-v2', 'b-v2', 0, 'a', 'A',"
            " '{\"name\": \"A\"}', 'analyzing', 't', 't')"
        )
        conn.execute("INSERT INTO batch_members VALUES ('b-v2', 'wf-v2', 0)")
    async with open_store(path) as store:
        assert [w.id for w in await store.workflows("b-v2")] == ["wf-v2"]
        assert await store.read("SELECT * FROM message_batch_requests") == []
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
