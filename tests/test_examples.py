"""The examples run as documented, with nothing but the repository (no key, no network)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(name: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "OTEL_"))}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_embedded_bus_example_ships_every_order_and_reports_the_failures() -> None:
    out = run_example("embed_bus.py")
    assert "shipped 5 orders" in out
    assert out.count("failed in fraud-check") == 2
    assert "clean shutdown: nothing dropped" in out


def test_one_company_runs_through_the_three_agents_on_the_offline_rules() -> None:
    out = run_example("one_company.py")
    for step in ("research", "analysis", "personalization"):
        assert f"StepSucceeded  {step}" in out
    assert "rule-based" in out
    assert "Subject: " in out
