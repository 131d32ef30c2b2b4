"""End to end: a step that finished is never paid for twice, whoever dies when.

Worker processes call Claude through the real SDK against the loopback
Messages API in tests/fakes, whose request log is the bill: each company's
step must appear in it exactly once. One worker runs only research, one step
at a time, and is SIGKILLed right after its third research outcome was
recorded (or recorded and published), before it acked the input: JetStream
redelivers that input to the surviving worker, whose step ledger answers it.
"""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import pytest

from salesbus.bus.nats_transport import NatsTransport
from salesbus.orchestrator.step_ledger import ledger_bucket
from salesbus.orchestrator.workers import HEARTBEAT_EVERY, live_workers
from tests.fakes.anthropic_server import FakeAnthropicServer, RecordedRequest, pipeline_responder
from tests.nats_server import NatsServer
from tests.orchestrator.test_kill_resume import COMPANIES, assert_finished_exactly_once

from .test_workers import finish, run_batch, start_worker, wait_for_consumer

KEY = "sk-ant-test-ledger"
CLAUDE = ("--no-fetch-websites",)


@contextmanager
def stopped_at_exit(*processes: subprocess.Popen[bytes]) -> Iterator[None]:
    try:
        yield
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)


def bill(requests: list[RecordedRequest]) -> Counter[tuple[str, str]]:
    """Model calls per (step's answer schema, company)."""
    calls: Counter[tuple[str, str]] = Counter()
    for request in requests:
        company = re.search(r"Company \d\d", request.message_text("user"))
        title = (request.output_schema or {}).get("title", "?")
        calls[(str(title), company.group(0) if company else "?")] += 1
    return calls


@pytest.mark.parametrize("point", ["recorded", "published"])
def test_a_worker_killed_after_its_step_finished_never_makes_the_model_paid_twice(
    tmp_path: Path, server: NatsServer, point: str
) -> None:
    with FakeAnthropicServer(api_key=KEY, responder=pipeline_responder()) as claude:
        env = {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": claude.base_url}
        doomed = start_worker(
            tmp_path,
            server.url,
            *("--agents", "research", *CLAUDE),
            llm="anthropic",
            concurrency=1,
            extra_env={**env, "SALESBUS_FAULT_KILL_AFTER_OUTCOME": f"research:3:{point}"},
        )
        survivor = start_worker(tmp_path, server.url, *CLAUDE, llm="anthropic", extra_env=env)
        with stopped_at_exit(doomed, survivor):
            asyncio.run(wait_for_consumer(server.url, "agent_personalization"))
            run = run_batch(tmp_path, server.url)
            assert doomed.wait(timeout=60) == -signal.SIGKILL
            finish(run)
            requests = claude.requests
            asyncio.run(_replay_reported(server.url))
        survivor_log = survivor.stderr.read() if survivor.stderr else b""

    assert_finished_exactly_once(tmp_path / "s.db")
    calls = bill(requests)
    assert sum(1 for step, _ in calls if step == "ResearchReply") == COMPANIES
    assert set(calls.values()) == {1}, [k for k, n in calls.items() if n > 1]
    assert b"published its recorded outcome again" in survivor_log


def test_a_batch_completes_when_the_step_ledger_is_gone(tmp_path: Path, server: NatsServer) -> None:
    workers = [start_worker(tmp_path, server.url) for _ in range(2)]
    with stopped_at_exit(*workers):
        asyncio.run(_delete_ledger_once_both_run(server.url))
        finish(run_batch(tmp_path, server.url))
    logs = [worker.stderr.read() if worker.stderr else b"" for worker in workers]

    assert_finished_exactly_once(tmp_path / "s.db")
    assert any(b"could not record" in log for log in logs)
    assert all(worker.returncode == 0 for worker in workers)


async def _delete_ledger_once_both_run(url: str) -> None:
    """Once both workers beat (each opened the ledger before subscribing), delete it."""
    transport = NatsTransport(url)
    try:
        for _ in range(500):
            if len(await live_workers(transport)) == 2:
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("the workers did not start within 10 s")
        await transport.js.delete_key_value(ledger_bucket(transport))
    finally:
        await transport.aclose()


async def _replay_reported(url: str) -> None:
    """The survivor's liveness beat (what ``salesbus status`` shows) counts its replay."""
    transport = NatsTransport(url)
    try:
        with anyio.fail_after(HEARTBEAT_EVERY * 3):
            while 1 not in [beat.replayed for beat in await live_workers(transport)]:
                await anyio.sleep(0.1)
    finally:
        await transport.aclose()
