"""A server that echoes the API key back — encoded, cut short — cannot get it stored or emitted."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

from tests.fakes.anthropic_server import FakeAnthropicServer, RecordedRequest, Reply
from tests.fakes.otlp import OtlpReceiver

from .cli_support import write_inputs

CANARY = "sk-ant-api03-CANARY-echoed-back-Zq8xPw3vLm7tRn2Ks9"
ENCODED = base64.b64encode(CANARY.encode()).decode()
LEAKS = {
    "base64": ENCODED,
    "base64 in a longer token": base64.b64encode(b"user:" + CANARY.encode()).decode(),
    "the first 20 characters": CANARY[:20],
    "a middle stretch": CANARY[14:34],
    "the last 12 characters": CANARY[-12:],
}


def echoing(request: RecordedRequest) -> Reply:
    """A 400 whose message quotes the key in every way a leaky gateway might."""
    said = "; ".join(f"{how}: {leak}" for how, leak in LEAKS.items())
    return Reply.error(400, f"invalid request from key {said}")


def test_an_echoed_truncated_or_encoded_key_reaches_no_db_log_trace_or_export(
    tmp_path: Path, receiver: OtlpReceiver
) -> None:
    campaign, leads = write_inputs(tmp_path)
    db = tmp_path / "s.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "ANTHROPIC_"))}
    with FakeAnthropicServer(api_key=CANARY, responder=echoing) as server:
        env.update(ANTHROPIC_API_KEY=CANARY, ANTHROPIC_BASE_URL=server.base_url)
        cli = [sys.executable, "-m", "salesbus.orchestrator.cli"]
        run = subprocess.run(
            [
                *cli,
                *("run", str(leads), "--campaign", str(campaign), "--db", str(db)),
                *("--llm", "anthropic", "--no-fetch-websites", "--otlp", receiver.url),
                *("--log-format", "json", "--log-level", "DEBUG"),
            ],
            env=env,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=120,
        )
        exports = [
            subprocess.run(
                [*cli, "export", "--db", str(db), "--format", fmt],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            for fmt in ("jsonl", "csv")
        ]

    assert run.returncode == 0, run.stderr
    jsonl = exports[0].stdout
    assert "invalid request from key" in jsonl  # the reasons were stored and exported
    assert "[redacted]" in jsonl
    spans = receiver.spans
    assert any(s.status == "ERROR" for s in spans)
    outputs = {
        "run output": run.stdout + run.stderr,
        "jsonl export": jsonl,
        "csv export": exports[1].stdout,
        "traces": repr([(s.attributes, s.events, s.status_message) for s in spans]),
        **{path.name: path.read_bytes().decode("utf-8", "replace") for path in tmp_path.iterdir()},
    }
    for where, text in outputs.items():
        for how, leak in LEAKS.items():
            assert leak not in text, f"{how} of the key is in the {where}"
