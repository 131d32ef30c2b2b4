"""``salesbus serve`` on a NATS broker: the service orchestrates, workers run the agents.

A real nats-server of the test's own, a real ``salesbus serve`` and one real
worker process; nothing of the agents runs in the service.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.nats_server import NatsServer
from tests.orchestrator.cli_support import salesbus
from tests.service.server import companies, running_server, wait_for


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[NatsServer]:
    with NatsServer(tmp_path / "jetstream") as running:
        yield running


def start_worker(url: str, campaign: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "ANTHROPIC_"))}
    command = [
        *(sys.executable, "-m", "salesbus.orchestrator.cli", "worker", "--transport", url),
        *("--campaign", str(campaign), "--llm", "offline", "--concurrency", "4"),
        *("--simulate-latency", "0.02", "--step-timeout", "5"),
    ]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=campaign.parent
    )


def test_batches_posted_over_http_are_run_by_a_worker_process_on_the_broker(
    tmp_path: Path, broker: NatsServer
) -> None:
    with running_server(
        tmp_path, approval="never", env={"SALESBUS_TRANSPORT": broker.url}
    ) as server:
        worker = start_worker(broker.url, tmp_path / "campaign.toml")
        try:
            with server.client() as client:
                # Two at once: the service's batches must not take each other's status events.
                posted = [
                    client.post("/batches", json={"companies": companies(3, name)})
                    for name in ("Broker", "Second")
                ]
                ids = [answer.json()["batch"]["id"] for answer in posted]
                views = [wait_for(client, batch_id, timeout=90) for batch_id in ids]
        finally:
            worker.send_signal(signal.SIGTERM)
            _, stderr = worker.communicate(timeout=30)
    assert [v["states"] for v in views] == [{"completed": 3}, {"completed": 3}], stderr.decode()
    assert all(v["calls"] == 9 for v in views)  # the worker's model calls, metered in the store
    with sqlite3.connect(server.db) as db:
        rows = db.execute("SELECT workflow_id, step, status FROM step_attempts").fetchall()
    assert len(rows) == 6 * 3
    assert {status for _, _, status in rows} == {"succeeded"}


def test_an_unknown_transport_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = salesbus("serve", "--db", tmp_path / "s.db", "--transport", "kafka://127.0.0.1:1")
    assert result.exit_code == 2
    assert "expected memory or nats://host:port" in result.output
    assert "Traceback" not in result.output
