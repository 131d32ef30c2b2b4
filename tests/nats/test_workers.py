"""Scale-out end to end: an orchestrator and worker processes on a real nats-server.

Every test here runs real processes (``salesbus run --transport nats://…`` and
``salesbus worker``) against a server of its own, and checks the store the way
the single-process kill tests do: every company finished, no step succeeded
twice, one draft per completed company.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest

from salesbus.bus.nats_transport import NatsTransport
from tests.fakes.otlp import OtlpReceiver, ReceivedSpan
from tests.nats_server import NatsServer
from tests.orchestrator.cli_support import write_inputs
from tests.orchestrator.test_kill_resume import (
    assert_finished_exactly_once,
    start_run,
    wait_for_attempts,
)


def start_worker(
    tmp: Path,
    url: str,
    *extra: str,
    llm: str = "offline",
    concurrency: int = 4,
    extra_env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    campaign, _ = write_inputs(tmp)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "ANTHROPIC_"))}
    env.update(extra_env or {})
    command = [
        *(sys.executable, "-m", "salesbus.orchestrator.cli", "worker", "--transport", url),
        *("--campaign", str(campaign), "--llm", llm, "--concurrency", str(concurrency)),
        *("--simulate-latency", "0.04", "--step-timeout", "2"),
        *extra,
    ]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp
    )


@pytest.fixture
def workers(tmp_path: Path, server: NatsServer) -> Iterator[list[subprocess.Popen[bytes]]]:
    started = [start_worker(tmp_path, server.url) for _ in range(2)]
    try:
        asyncio.run(wait_for_consumer(server.url, "agent_research"))
        yield started
    finally:
        for process in started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in started:
            process.wait(timeout=30)


async def wait_for_consumer(url: str, name: str) -> None:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        for _ in range(500):
            try:
                await js.consumer_info("SALESBUS", name)
                return
            except Exception:
                await asyncio.sleep(0.02)
        raise AssertionError(f"no worker made consumer {name} within 10 s")
    finally:
        await nc.close()


def run_batch(tmp: Path, url: str, *extra: str) -> subprocess.Popen[bytes]:
    return start_run(tmp, extra_args=("--transport", url, "--step-timeout", "2", *extra))


def finish(run: subprocess.Popen[bytes]) -> None:
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 0, stderr.decode()


def test_an_orchestrator_and_two_workers_complete_a_batch(
    tmp_path: Path, server: NatsServer, workers: list[subprocess.Popen[bytes]]
) -> None:
    finish(run_batch(tmp_path, server.url))

    assert_finished_exactly_once(tmp_path / "s.db")
    assert all(worker.poll() is None for worker in workers)


def test_a_worker_killed_mid_batch_loses_nothing_and_nothing_is_drafted_twice(
    tmp_path: Path, server: NatsServer, workers: list[subprocess.Popen[bytes]]
) -> None:
    run = run_batch(tmp_path, server.url)
    wait_for_attempts(tmp_path / "s.db", 20)
    workers[0].send_signal(signal.SIGKILL)
    workers[0].wait(timeout=10)

    finish(run)

    assert workers[0].returncode == -signal.SIGKILL
    assert_finished_exactly_once(tmp_path / "s.db")


def test_a_batch_survives_a_broker_restart(
    tmp_path: Path, server: NatsServer, workers: list[subprocess.Popen[bytes]]
) -> None:
    run = run_batch(tmp_path, server.url)
    wait_for_attempts(tmp_path / "s.db", 20)
    server.restart()

    finish(run)

    assert_finished_exactly_once(tmp_path / "s.db")


def test_a_poison_event_is_dead_lettered_and_the_batch_completes(
    tmp_path: Path, server: NatsServer, workers: list[subprocess.Popen[bytes]]
) -> None:
    asyncio.run(_publish_poison(server.url))

    finish(run_batch(tmp_path, server.url))

    assert_finished_exactly_once(tmp_path / "s.db")
    letters = asyncio.run(_dead_letters(server.url))
    assert [(d.subscription, d.deliveries, d.event_id) for d in letters] == [
        ("agent:research", 1, "?")
    ]
    listed = subprocess.run(
        [sys.executable, "-m", "salesbus.orchestrator.cli", "dead-letters", "list"],
        env={**os.environ, "SALESBUS_TRANSPORT": server.url},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert "agent:research" in listed.stdout


async def _publish_poison(url: str) -> None:
    """Bytes on the research agent's subject that are no event: undecodable, never retried."""
    nc = await nats.connect(url)
    try:
        await nc.jetstream().publish(
            "salesbus.ev._.salesbus.CompanySubmitted", b'{"type": "salesbus.CompanySubmitted"'
        )
    finally:
        await nc.close()


async def _dead_letters(url: str) -> list[object]:
    transport = NatsTransport(url)
    try:
        return list(await transport.dead_letters())
    finally:
        await transport.aclose()


def test_an_event_crossing_the_broker_is_a_send_span_here_and_a_process_span_there(
    tmp_path: Path, server: NatsServer, receiver: OtlpReceiver
) -> None:
    worker = start_worker(tmp_path, server.url, "--otlp", receiver.url)
    try:
        asyncio.run(wait_for_consumer(server.url, "agent_research"))
        finish(run_batch(tmp_path, server.url, "--otlp", receiver.url))
        spans = receiver.wait_for(lambda spans: any(_crossing(spans)), timeout=20)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)

    send, process = next(_crossing(spans))
    assert send.attributes["messaging.system"] == "nats"
    # two processes: the orchestrator's send, the worker's process
    assert send.resource["service.instance.id"] != process.resource["service.instance.id"]
    assert any(  # the worker's step span is the consumer span's child
        s.parent_span_id == process.span_id and s.trace_id == send.trace_id for s in spans
    )


def _crossing(spans: list[ReceivedSpan]) -> Iterator[tuple[ReceivedSpan, ReceivedSpan]]:
    """(producer span, its consumer span) pairs of a CompanySubmitted."""
    by_id = {s.span_id: s for s in spans}
    for span in spans:
        parent = by_id.get(span.parent_span_id)
        if (
            span.kind == "CONSUMER"
            and parent is not None
            and parent.kind == "PRODUCER"
            and "CompanySubmitted" in span.name
        ):
            yield parent, span
