"""With an API key, Claude runs: the whole batch through the real SDK against a loopback API."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.fakes.anthropic_server import FakeAnthropicServer, Reply, pipeline_responder

from .cli_support import salesbus, states, write_inputs

CANARY = "sk-ant-api03-CANARY-claude-path-0123456789abcdef"


def test_a_batch_runs_on_claude_when_a_key_is_set_and_the_key_is_never_stored(
    tmp_path: Path,
) -> None:
    campaign, leads = write_inputs(tmp_path)
    db = tmp_path / "s.db"
    with FakeAnthropicServer(api_key=CANARY, responder=pipeline_responder()) as server:
        # Two refusals first: the orchestrator retries them (the SDK does not).
        server.enqueue(Reply.error(529), Reply.error(429, headers={"retry-after": "0"}))
        env = {"ANTHROPIC_API_KEY": CANARY, "ANTHROPIC_BASE_URL": server.base_url}
        result = salesbus(
            "run",
            leads,
            "--campaign",
            campaign,
            "--db",
            db,
            "--llm",
            "auto",
            "--retry-base",
            "0.001",
            "--no-fetch-websites",
            env=env,
        )
        requests = server.requests
        exported = salesbus("export", "--db", db, env=env)

    assert result.exit_code == 0, result.output
    assert "(anthropic)" in result.stderr
    assert set(states(db).values()) <= {"completed", "disqualified", "awaiting_approval"}
    assert len(requests) >= 3 * 5 + 2
    assert all(r.api_key == CANARY for r in requests)
    with sqlite3.connect(db) as conn:
        kinds = dict(
            conn.execute(
                "SELECT error_kind, COUNT(*) FROM step_attempts"
                " WHERE status = 'failed' GROUP BY error_kind"
            ).fetchall()
        )
        tokens = conn.execute("SELECT SUM(input_tokens + output_tokens) FROM step_attempts")
        (total_tokens,) = tokens.fetchone()
    assert kinds == {"overloaded": 1, "rate_limited": 1}
    assert total_tokens > 0
    for text in (result.output, exported.output):
        assert CANARY not in text
    for path in tmp_path.iterdir():
        assert CANARY.encode() not in path.read_bytes(), path


def test_without_a_key_the_offline_rules_run_and_no_network_is_needed(tmp_path: Path) -> None:
    campaign, leads = write_inputs(tmp_path)
    result = salesbus(
        "run",
        leads,
        "--campaign",
        campaign,
        "--db",
        tmp_path / "s.db",
        "--llm",
        "auto",
        env={"ANTHROPIC_API_KEY": ""},
    )
    assert result.exit_code == 0, result.output
    assert "(offline)" in result.stderr
