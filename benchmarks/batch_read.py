"""Latency of ``GET /batches/{id}`` on a store holding one 50,000-company batch, against
another checkout's service on a copy of the same store, in the same invocation.

    python benchmarks/batch_read.py --baseline-src DIR [--companies 50000]
        [--requests 200] [--repeats 3] [--markdown]

The store is made fast: migrated by ``open_store``, then one batch's rows
(workflows, members, three attempts per company and a failed first try for
one in twenty) inserted directly with ``executemany``; every workflow is
completed or awaiting approval, so a service started on it resumes nothing
and the reads measured are the only work it does. Each repeat starts this
checkout's ``salesbus serve`` and the baseline's, each on a fresh copy of the
file, times its start (until ``/healthz`` answers: this checkout recomputes
its usage rollup there), then sends ``--requests`` sequential GETs after 10
unmeasured ones. Medians of the repeats' p50 and p99.

What the rollup's triggers cost the writes: ``--write-companies`` offline
companies (no model latency, so the store's share is as large as it gets) run
by ``run_batch`` on a fresh store with the rollup installed and on one
without, alternately, medians of the repeats.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from service_throughput import ROOT, baseline_package, free_port, percentile

STEPS = ("research", "analysis", "personalization")
BATCH = "bench-read-batch"


def make_store(path: Path, companies: int) -> None:
    """One batch of ``companies`` finished workflows and their attempts, written directly."""
    import sqlite3

    from salesbus.orchestrator.store import open_store

    async def migrate() -> None:
        async with open_store(path):
            pass

    anyio.run(migrate)
    stamp = "2026-12-01T00:00:00+00:00"
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "INSERT INTO batches (id, created_at, leads_path, leads_digest, campaign_json,"
            " campaign_digest, provider, model) VALUES (?, ?, 'bench.csv', 'd', '{}', 'c',"
            " 'offline', 'rules')",
            (BATCH, stamp),
        )
        workflows = [
            (
                f"wf-{i:06}",
                BATCH,
                i,
                f"bench{i:06}.example",
                f"Bench Company {i:06}",
                json.dumps({"name": f"Bench Company {i:06}", "domain": f"bench{i:06}.example"}),
                "completed" if i % 5 else "awaiting_approval",
                stamp,
                stamp,
            )
            for i in range(companies)
        ]
        conn.executemany(
            "INSERT INTO workflows (id, batch_id, seq, company_key, company_name, company_json,"
            " state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            workflows,
        )
        conn.executemany(
            "INSERT INTO batch_members (batch_id, workflow_id, seq) VALUES (?, ?, ?)",
            [(BATCH, w[0], w[2]) for w in workflows],
        )
        attempts = []
        for i in range(companies):
            for step in STEPS:
                tries = ["failed", "succeeded"] if step == "research" and i % 20 == 0 else []
                for n, status in enumerate(tries or ["succeeded"], start=1):
                    attempts.append(
                        (f"wf-{i:06}", step, n, status, stamp, stamp, 200.0, 1, 900, 300, 0.0021)
                    )
        conn.executemany(
            "INSERT INTO step_attempts (workflow_id, step, attempt, status, started_at, ended_at,"
            " duration_ms, calls, input_tokens, output_tokens, cost_usd)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            attempts,
        )
    conn.close()


def write_cost(companies: int, repeats: int, tmp: Path) -> tuple[float, float]:
    """Median seconds of a whole offline batch (with the rollup, without it)."""
    from salesbus.agents.campaign import load_campaign
    from salesbus.agents.models import Company
    from salesbus.orchestrator.runner import RunSettings, run_batch
    from salesbus.orchestrator.service.batch_rollup import install_rollup
    from salesbus.orchestrator.store import open_store

    campaign = load_campaign(ROOT / "examples" / "campaign.toml")
    leads = [
        Company(name=f"Write Co {i:05}", domain=f"write{i:05}.example", industry="SaaS")
        for i in range(companies)
    ]

    async def once(rollup: bool) -> float:
        async with open_store(tmp / f"w-{time.monotonic_ns()}.db") as store:
            if rollup:
                await install_rollup(store)
            started = time.perf_counter()
            await run_batch(store, leads, campaign, RunSettings(llm="offline"))
            await store.flush()
            return time.perf_counter() - started

    times: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(repeats):
        for rollup in (False, True):
            times[rollup].append(anyio.run(once, rollup))
    return statistics.median(times[True]), statistics.median(times[False])


def measure(db: Path, code: Path | None, requests: int) -> tuple[float, list[float]]:
    """(seconds until ``/healthz`` answers, each GET's ms) of one service on ``db``."""
    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if k not in {"ANTHROPIC_API_KEY", "SALESBUS_API_TOKEN"}
    }
    if code is not None:
        env["PYTHONPATH"] = str(code)
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "salesbus.orchestrator.cli", "serve"),
            *("--port", str(port), "--db", str(db), "--llm", "offline"),
            *("--campaign", str(ROOT / "examples" / "campaign.toml"), "--log-level", "WARNING"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.02)
            ready = time.perf_counter() - started
            latencies = []
            for n in range(10 + requests):
                sent = time.perf_counter()
                view = client.get(f"/batches/{BATCH}").raise_for_status().json()
                if n >= 10:
                    latencies.append((time.perf_counter() - sent) * 1000)
            if view["total"] == 0 or view["calls"] == 0:
                raise SystemExit(f"the service read an empty batch: {view}")
            return ready, latencies
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline-src", type=Path, required=True)
    parser.add_argument("--companies", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--write-companies", type=int, default=1000)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    results: dict[str, list[tuple[float, float, float]]] = {"this": [], "baseline": []}
    with tempfile.TemporaryDirectory(prefix="salesbus-read-bench-") as scratch:
        tmp = Path(scratch)
        made = time.perf_counter()
        make_store(tmp / "made.db", args.companies)
        made = time.perf_counter() - made
        code = baseline_package(args.baseline_src, tmp)
        for n in range(args.repeats):
            for name, which in (("this", None), ("baseline", code)):
                db = tmp / f"{name}-{n}.db"
                shutil.copy(tmp / "made.db", db)
                ready, ms = measure(db, which, args.requests)
                results[name].append((ready, percentile(ms, 50), percentile(ms, 99)))
        with_rollup, without = write_cost(args.write_companies, args.repeats, tmp)
    lines = [
        f"one batch of {args.companies} companies ({made:.1f}s to make), {args.requests}"
        f" sequential GETs per run, medians of {args.repeats}",
        "| service | start s | p50 ms | p99 ms |",
        "|---|---|---|---|",
    ]
    for name, label in (("baseline", f"--baseline-src {args.baseline_src}"), ("this", "this")):
        ready, p50, p99 = (statistics.median(r[i] for r in results[name]) for i in range(3))
        lines.append(f"| {label} | {ready:.2f} | {p50:.1f} | {p99:.1f} |")
    lines.append(
        f"a {args.write_companies}-company offline batch written with the rollup's triggers:"
        f" {with_rollup:.2f}s, without: {without:.2f}s (ratio {with_rollup / without:.3f})"
    )
    print("\n".join(lines) if args.markdown else "\n".join(lines).replace("|", " "))


if __name__ == "__main__":
    main()
