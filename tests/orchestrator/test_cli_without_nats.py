"""The CLI without the optional ``nats`` extra: everything but the broker commands works.

A fresh ``pip install salesbus`` (what ``make demo`` does) has no nats-py; the
CLI registers the broker commands on every start, so importing them must not
import nats-py. Each test runs the CLI in a child interpreter in which
``import nats`` fails, as it does without the extra.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .cli_support import write_inputs

WITHOUT_NATS = (
    "import sys; sys.modules['nats'] = None;"
    " from salesbus.orchestrator.cli import main; sys.argv[0] = 'salesbus'; main()"
)


def salesbus_without_nats(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_NATS, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_a_batch_runs_and_reports_without_nats_py(tmp_path: Path) -> None:
    campaign, leads = write_inputs(tmp_path)
    db = tmp_path / "run.db"
    run = salesbus_without_nats(
        "run",
        str(leads),
        "--campaign",
        str(campaign),
        "--db",
        str(db),
        "--llm",
        "offline",
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    status = salesbus_without_nats("status", "--db", str(db), cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    assert "completed" in status.stdout


def test_the_worker_without_nats_py_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = salesbus_without_nats("worker", "--transport", "nats://127.0.0.1:4222", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert "nats-py" in lines[0]
