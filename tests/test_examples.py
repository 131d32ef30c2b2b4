"""The examples run as documented, with nothing but the repository (no key, no network)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

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


def test_the_trio_program_alerts_answers_dead_letters_and_drains() -> None:
    out = run_example("bus_trio.py")
    assert "alert: ACME at 125.5" in out
    assert "limit for GLOBEX: 40.0" in out
    assert "dead letter from limit-check after 3 attempts: 'no limit for INITECH'" in out
    assert "limit-check: 3 delivered, 1 failed, 2 retries, 1 dead-lettered" in out
    assert "clean shutdown: nothing dropped" in out


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_fastapi_app_publishes_from_request_handlers_and_drains_on_shutdown() -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "OTEL_"))}
    server = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "bus_fastapi.py"), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    client.get("/bus")
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "the example server did not start"
                    time.sleep(0.1)
            for n in range(3):
                placed = client.post(
                    "/orders",
                    json={"order_id": f"A-{n}", "amount_eur": 10.0 + n},
                    headers={"x-request-id": f"r-{n}"},
                )
                assert placed.status_code == 202
                assert placed.json() == {"accepted": f"A-{n}"}
            quote = client.get("/quotes/widget", params={"quantity": 4})
            assert quote.json() == {"sku": "widget", "quantity": 4, "total_eur": 10.0}
            assert client.get("/quotes/unobtainium").status_code == 404
            while len(shipped := client.get("/shipped").json()) < 3:
                assert time.monotonic() < deadline, shipped
                time.sleep(0.02)
            assert sorted(shipped, key=lambda s: s["order_id"]) == [
                {"order_id": f"A-{n}", "request_id": f"r-{n}"} for n in range(3)
            ]
            stats = client.get("/bus").json()
            assert stats["subscriptions"]["create_app.<locals>.ship"]["delivered"] == 3
    finally:
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    assert "bus drained: nothing dropped" in out
