"""Pipeline makespan, memory per in-flight workflow, and store write throughput.

    python benchmarks/pipeline_makespan.py [--companies 2000] [--latency 2.0]
        [--concurrency 50 200] [--markdown]

Each concurrency runs in a fresh subprocess (so peak RSS is its own) over the
whole sales pipeline — offline rules provider wrapped so that every model call
sleeps ``latency`` seconds, a real SQLite file, the in-memory bus — and is
compared in the same run with the ideal bound: companies ÷ concurrency ×
(3 calls × latency). Peak RSS per in-flight workflow is the slope between the
lowest and highest concurrency. Store rows per second are measured twice: what
the run itself wrote, and a write-only burst through the same group-commit
writer.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio

STEPS = 3  # research, analysis, personalization: one model call each


def companies(n: int) -> list[Any]:
    from salesbus.agents.models import Company, Contact

    industries = ["SaaS", "Fintech", "Software", "Logistics", "Healthcare"]
    return [
        Company(
            name=f"Bench Company {i:05}",
            domain=f"bench{i:05}.example",
            industry=industries[i % len(industries)],
            employees=60 + (i * 37) % 4000,
            country="United States",
            description=f"Platform {i} growing its revenue team; migrating off legacy tools",
            contact=Contact(name=f"Alex Doe {i}", title="VP Sales"),
        )
        for i in range(n)
    ]


def campaign() -> Any:
    from salesbus.agents.campaign import load_campaign

    return load_campaign(Path(__file__).resolve().parents[1] / "examples" / "campaign.toml")


async def one_run(n: int, concurrency: int, latency: float, db: Path) -> dict[str, Any]:
    from salesbus.agents.providers.limits import LimitedProvider
    from salesbus.agents.providers.offline import OfflineProvider
    from salesbus.agents.providers.simulated import SimulatedProvider
    from salesbus.orchestrator.runner import RunSettings, run_batch
    from salesbus.orchestrator.store import open_store

    leads = companies(n)
    settings = RunSettings(llm="offline", concurrency=concurrency)
    provider = LimitedProvider(
        SimulatedProvider(OfflineProvider(), latency=latency), max_concurrent=concurrency * STEPS
    )
    async with open_store(db) as store:
        started = time.perf_counter()
        _prepared, progress = await run_batch(store, leads, campaign(), settings, provider=provider)
        elapsed = time.perf_counter() - started
        rows = store.rows_written
    return {
        "companies": n,
        "concurrency": concurrency,
        "latency_s": latency,
        "makespan_s": elapsed,
        "ideal_s": n / concurrency * STEPS * latency,
        "finished": progress.finished + progress.states.get("awaiting_approval", 0),
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "store_rows": rows,
        "store_rows_per_s": rows / elapsed,
    }


async def store_burst(db: Path, writes: int) -> dict[str, Any]:
    """Rows per second through the writer alone: many workflows updating at once."""
    from salesbus.orchestrator.batch import prepare_batch
    from salesbus.orchestrator.store import open_store

    async with open_store(db) as store:
        prepared = await prepare_batch(store, companies(500), campaign(), provider="b", model="b")
        workflows = await store.workflows(prepared.batch.id)
        started = time.perf_counter()
        async with anyio.create_task_group() as tg:
            per_task = writes // len(workflows)
            for workflow in workflows:

                async def update(workflow_id: str = workflow.id) -> None:
                    for i in range(per_task):
                        await store.commit([store.set_state(workflow_id, f"s{i}")])

                tg.start_soon(update)
        elapsed = time.perf_counter() - started
    return {"writes": per_task * len(workflows), "rows_per_s": per_task * len(workflows) / elapsed}


def child(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        if args.child == "burst":
            result = anyio.run(store_burst, db, args.writes)
        else:
            result = anyio.run(one_run, args.companies, int(args.child), args.latency, db)
    print(json.dumps(result))


def spawn(*extra: str) -> dict[str, Any]:
    command = [sys.executable, __file__, *extra]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores, {platform.machine()}, {cpu}, Python {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--companies", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--writes", type=int, default=50_000)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    runs = [
        spawn("--child", str(c), "--companies", str(args.companies), "--latency", str(args.latency))
        for c in args.concurrency
    ]
    burst = spawn("--child", "burst", "--writes", str(args.writes))
    low, high = runs[0], runs[-1]
    slope = (
        (high["peak_rss_kb"] - low["peak_rss_kb"]) / (high["concurrency"] - low["concurrency"])
        if len(runs) > 1
        else float("nan")
    )
    print(f"# pipeline makespan — {time.strftime('%Y-%m-%d')} — {machine()}")
    print(
        "| companies | concurrency | latency/call | makespan | ideal bound | over ideal |"
        " finished | peak RSS | store rows/s (run) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for run in runs:
        over = run["makespan_s"] / run["ideal_s"] - 1
        print(
            f"| {run['companies']} | {run['concurrency']} | {run['latency_s']} s"
            f" | {run['makespan_s']:.2f} s | {run['ideal_s']:.2f} s | {over:+.1%}"
            f" | {run['finished']} | {run['peak_rss_kb'] / 1024:.1f} MiB"
            f" | {run['store_rows_per_s']:,.0f} |"
        )
    print(
        f"\npeak RSS growth per in-flight workflow: {slope:.1f} KB"
        f" (between concurrency {low['concurrency']} and {high['concurrency']})"
    )
    print(
        f"store writer alone: {burst['rows_per_s']:,.0f} committed rows/s"
        f" ({burst['writes']:,} single-row commits from 500 concurrent writers)"
    )


if __name__ == "__main__":
    main()
