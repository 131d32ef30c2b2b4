"""A real ``salesbus serve`` process on a free loopback port, and an httpx client for it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.orchestrator.cli_support import CAMPAIGN

TOKEN = "test-token-0f9a"
SALESBUS = str(Path(sys.executable).parent / "salesbus")


def campaign_toml(approval: str = "always") -> str:
    return CAMPAIGN.replace("{approval}", approval)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    db: Path
    process: subprocess.Popen[bytes]
    log: Path
    token: str | None

    def client(self, token: str | None = "default", timeout: float = 30.0) -> httpx.Client:
        given = self.token if token == "default" else token
        headers = {"Authorization": f"Bearer {given}"} if given else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def terminate(self, timeout: float = 60.0) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def start_server(
    tmp: Path,
    *options: str,
    db: Path | None = None,
    token: str | None = TOKEN,
    approval: str = "always",
    env: dict[str, str] | None = None,
) -> Server:
    """Start ``salesbus serve`` (``env``: extra variables) and wait until it answers
    ``/healthz``."""
    campaign = tmp / "campaign.toml"
    if not campaign.exists():
        campaign.write_text(campaign_toml(approval), encoding="utf-8")
    db = db or tmp / "service.db"
    port = free_port()
    variables = {k: v for k, v in os.environ.items() if k != "ANTHROPIC_API_KEY"}
    variables.pop("SALESBUS_API_TOKEN", None)
    variables.pop("SALESBUS_TRANSPORT", None)
    variables.update(env or {})
    if token:
        variables["SALESBUS_API_TOKEN"] = token
    log = tmp / f"serve-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                SALESBUS,
                "serve",
                "--port",
                str(port),
                "--db",
                str(db),
                "--campaign",
                str(campaign),
                "--llm",
                "offline",
                "--log-level",
                "INFO",
                *options,
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=variables,
        )
    server = Server(f"http://127.0.0.1:{port}", db, process, log, token)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"salesbus serve exited {process.returncode}:\n{server.output()}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"salesbus serve did not start:\n{server.output()}")


@contextmanager
def running_server(tmp: Path, *options: str, **kwargs: Any) -> Iterator[Server]:
    server = start_server(tmp, *options, **kwargs)
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.process.send_signal(signal.SIGTERM)
            try:
                server.process.wait(30)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait()


def wait_for(
    client: httpx.Client, batch_id: str, done: Any = None, timeout: float = 60.0
) -> dict[str, Any]:
    """Poll the batch until ``done(view)`` (default: nothing left to run), and return it."""
    done = done or (lambda view: view["progress"] >= 1.0 and not view["running"])
    deadline = time.monotonic() + timeout
    while True:
        view: dict[str, Any] = client.get(f"/batches/{batch_id}").json()
        if done(view):
            return view
        if time.monotonic() > deadline:
            raise AssertionError(f"batch {batch_id} did not get there: {view}")
        time.sleep(0.1)


def companies(count: int, prefix: str = "Company") -> list[dict[str, Any]]:
    return [
        {
            "name": f"{prefix} {n}",
            "domain": f"{prefix.lower().replace(' ', '-')}-{n}.example",
            "industry": "SaaS",
            "employees": 200 + n,
            "country": "United States",
            "description": "B2B SaaS for revenue forecasting; hiring fast",
            "contact": {"name": "Dr. Ana María López", "title": "VP Sales"},
        }
        for n in range(1, count + 1)
    ]


def read_events(
    client: httpx.Client, params: dict[str, str], headers: dict[str, str], want: int
) -> list[dict[str, Any]]:
    """The first ``want`` events of the stream (each with its SSE id), then hang up."""
    events: list[dict[str, Any]] = []
    with client.stream("GET", "/events", params=params, headers=headers, timeout=30) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        frame: dict[str, str] = {}
        for line in response.iter_lines():
            if line == "":
                if "data" in frame:
                    events.append({"id": int(frame["id"]), **json.loads(frame["data"])})
                    if len(events) >= want:
                        break
                frame = {}
            elif not line.startswith(":") and ":" in line:
                key, _, value = line.partition(":")
                frame[key] = value.strip()
    return events
