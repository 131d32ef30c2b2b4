"""The broker commands' bad input: one clear line, exit 2, no traceback."""

from __future__ import annotations

from pathlib import Path

from tests.orchestrator.cli_support import run_fast, salesbus, write_inputs


def test_an_unknown_transport_scheme_is_one_line_and_exit_2(tmp_path: Path) -> None:
    campaign, leads = write_inputs(tmp_path)
    result = run_fast(leads, campaign, tmp_path / "s.db", "--transport", "kafka://127.0.0.1:9092")
    assert result.exit_code == 2
    assert "expected memory or nats://host:port" in result.output
    assert "Traceback" not in result.output


def test_worker_and_dead_letters_need_a_broker(tmp_path: Path) -> None:
    campaign, _ = write_inputs(tmp_path)
    for args in (["worker", "--campaign", str(campaign)], ["dead-letters", "list"]):
        result = salesbus(*args, env={"SALESBUS_TRANSPORT": ""})
        assert result.exit_code == 2, result.output
        assert "needs a broker: --transport nats://host:port" in result.output


def test_a_worker_for_an_unknown_agent_names_the_known_ones(tmp_path: Path, nats_url: str) -> None:
    campaign, _ = write_inputs(tmp_path)
    result = salesbus(
        "worker", "--transport", nats_url, "--campaign", campaign, "--agents", "research,poetry"
    )
    assert result.exit_code == 2
    assert "unknown agent(s) poetry: choose from research, analysis, personalization" in (
        result.output
    )
