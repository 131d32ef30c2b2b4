"""A large offline batch: peak memory, database size per company, CPU per company.

    python benchmarks/large_batch.py --companies 100000 [--runs 1] [--stream | --cli]
        [--baseline-src DIR --baseline-companies 5000 --baseline-runs 3]

Each run is a fresh subprocess that writes a CSV of ``companies`` synthetic
leads, reads it with ``read_leads`` and runs it with ``run_batch`` (offline
rules provider, no website fetch, concurrency 50: what ``salesbus run
leads.csv --llm offline`` does) into a real SQLite file. Reported: CPU seconds
(user + system) per company after imports, peak RSS, database bytes per
company after the store is closed, and wall time.

``--baseline-src`` points at another checkout of salesbus (for example
``git archive <commit> | tar -x -C DIR``); it is imported in its own
subprocesses through a ``salesbus`` package of symlinks, so the two versions
run the same leads in the same invocation, and the CPU figure is given as a
ratio of medians.

``--stream`` reads the large run's leads row by row (``csv.DictReader`` into
``Company``, what a streaming lead reader does) instead of ``read_leads``,
which holds the whole file, its rows and every company at once (358 MB at
its peak for 100,000 rows): the figure is then the orchestrator's and the
store's own footprint.

``--cli`` runs the large batch through the command itself, in the child
process: ``salesbus run leads.csv --llm offline`` (the summary pass, the file
digest and the streamed second pass included), so the figures are a user's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def write_leads(path: Path, n: int) -> None:
    industries = ["SaaS", "Fintech", "Software", "Logistics", "Healthcare"]
    with path.open("w", encoding="utf-8") as out:
        out.write("name,domain,industry,employees,country,description,contact_name,contact_title\n")
        for i in range(n):
            out.write(
                f"Bench Company {i:06},bench{i:06}.example,{industries[i % 5]},"
                f"{60 + (i * 37) % 4000},United States,"
                f"Platform {i} growing its revenue team; migrating off legacy tools,"
                f"Alex Doe {i},VP Sales\n"
            )


def stream_leads(path: Path) -> Any:
    import csv

    from salesbus.agents.models import Company, Contact

    with path.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            yield Company(
                name=row["name"],
                domain=row["domain"],
                industry=row["industry"],
                employees=int(row["employees"]),
                country=row["country"],
                description=row["description"],
                contact=Contact(name=row["contact_name"], title=row["contact_title"]),
                line=line,
            )


def child_cli(n: int) -> dict[str, Any]:
    """``salesbus run`` itself, in this process: what a user runs."""
    import sqlite3

    from salesbus.orchestrator.cli import app

    with tempfile.TemporaryDirectory() as tmp:
        leads_path, db = Path(tmp) / "leads.csv", Path(tmp) / "bench.db"
        write_leads(leads_path, n)
        campaign = ROOT / "examples" / "campaign.toml"
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        args = ["run", str(leads_path), "--campaign", str(campaign), "--db", str(db)]
        app([*args, "--llm", "offline"], standalone_mode=False)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        with sqlite3.connect(db) as conn:
            states = dict(conn.execute("SELECT state, COUNT(*) FROM workflows GROUP BY state"))
        size = sum(p.stat().st_size for p in Path(tmp).glob("bench.db*"))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "companies": n,
        "leads_read": "salesbus run",
        "states": states,
        "cpu_ms_per_company": cpu * 1000 / n,
        "wall_s": wall,
        "peak_rss_mb": after.ru_maxrss / 1024,
        "db_kb_per_company": size / 1024 / n,
    }


def child(n: int, stream: bool) -> dict[str, Any]:
    import hashlib

    import anyio

    from salesbus.agents.campaign import load_campaign
    from salesbus.agents.leads import read_leads
    from salesbus.orchestrator.runner import RunSettings, run_batch
    from salesbus.orchestrator.store import open_store

    with tempfile.TemporaryDirectory() as tmp:
        leads_path, db = Path(tmp) / "leads.csv", Path(tmp) / "bench.db"
        write_leads(leads_path, n)
        campaign = load_campaign(ROOT / "examples" / "campaign.toml")
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()

        async def main() -> dict[str, int]:
            companies = stream_leads(leads_path) if stream else read_leads(leads_path).companies
            digest = hashlib.sha256(leads_path.read_bytes()).hexdigest()
            async with open_store(db) as store:
                settings = RunSettings(llm="offline", concurrency=50)
                _, progress = await run_batch(
                    store,
                    companies,
                    campaign,
                    settings,
                    leads_path=leads_path,
                    leads_digest=digest,
                )
            return dict(progress.states)

        states = anyio.run(main)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        size = sum(p.stat().st_size for p in Path(tmp).glob("bench.db*"))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "companies": n,
        "leads_read": "streamed" if stream else "read_leads",
        "states": {k: v for k, v in states.items() if v},
        "cpu_ms_per_company": cpu * 1000 / n,
        "wall_s": wall,
        "peak_rss_mb": after.ru_maxrss / 1024,
        "db_kb_per_company": size / 1024 / n,
    }


def spawn(
    n: int, baseline_src: Path | None, stream: bool = False, cli: bool = False
) -> dict[str, Any]:
    env = dict(os.environ)
    if baseline_src is not None:
        pkg = Path(tempfile.mkdtemp(prefix="salesbus-baseline-")) / "salesbus"
        pkg.mkdir()
        (pkg / "__init__.py").touch()
        for part in ("bus", "agents", "orchestrator", "observability"):
            (pkg / part).symlink_to(baseline_src.resolve() / part)
        env["PYTHONPATH"] = str(pkg.parent)
    out = subprocess.run(
        [
            *(sys.executable, __file__, "--child", str(n)),
            *(["--stream"] if stream else []),
            *(["--cli"] if cli else []),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--cli", action="store_true", help="run through `salesbus run`")
    parser.add_argument("--baseline-src", type=Path)
    parser.add_argument("--baseline-companies", type=int, default=5_000)
    parser.add_argument("--baseline-runs", type=int, default=3)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child_cli(args.child) if args.cli else child(args.child, args.stream)))
        return
    results: dict[str, Any] = {
        "large": [spawn(args.companies, None, args.stream, args.cli) for _ in range(args.runs)]
    }
    if args.baseline_src is not None:
        n = args.baseline_companies
        pairs = [(spawn(n, args.baseline_src), spawn(n, None)) for _ in range(args.baseline_runs)]
        base = statistics.median(p[0]["cpu_ms_per_company"] for p in pairs)
        new = statistics.median(p[1]["cpu_ms_per_company"] for p in pairs)
        results["cpu_vs_baseline"] = {
            "companies": n,
            "runs": [{"baseline": b, "current": c} for b, c in pairs],
            "median_cpu_ms_baseline": base,
            "median_cpu_ms_current": new,
            "ratio": new / base,
        }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
