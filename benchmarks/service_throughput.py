"""Service throughput at 1, 4 and 16 concurrent batches against ``salesbus run``, and the
p99 latency of ``GET /batches/{id}`` while 16 batches run.

    python benchmarks/service_throughput.py [--companies 400] [--latency 0.2]
        [--concurrency 50] [--repeats 3] [--markdown] [--batches 1,4,16]
        [--baseline-src DIR]

Every model call sleeps ``latency`` seconds around the offline rules provider
(the same simulation as ``pipeline_makespan.py``), so the figures measure the
service's scheduling, not the rules engine. The baseline is ``salesbus run``'s
own code path (``run_batch``, as the CLI calls it) over the same leads in one
batch, in this process, timed around the run. Each service run starts a fresh
``salesbus serve`` process on a fresh database, posts the leads split into k
lead files at once, and is timed from the first POST until every batch has
nothing left to run (one batch polled
at a time, every 20 ms; the probe asks for one batch every 50 ms). Same in-flight limit everywhere.
Results are medians of ``--repeats`` runs, as ratios to the baseline.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import anyio
import httpx

ROOT = Path(__file__).resolve().parents[1]
HEADER = "name,domain,industry,employees,country,description,contact_name,contact_title\n"
INDUSTRIES = ["SaaS", "Fintech", "Software", "Logistics", "Healthcare"]


def lead_rows(n: int) -> list[str]:
    return [
        f"Bench Company {i:05},bench{i:05}.example,{INDUSTRIES[i % 5]},{60 + (i * 37) % 4000},"
        f"United States,Platform {i} growing its revenue team,Alex Doe,VP Sales\n"
        for i in range(n)
    ]


def baseline(rows: list[str], latency: float, concurrency: int, tmp: Path) -> float:
    from salesbus.agents.campaign import load_campaign
    from salesbus.agents.leads import read_leads
    from salesbus.orchestrator.runner import RunSettings, Simulation, run_batch
    from salesbus.orchestrator.store import open_store

    path = tmp / f"run-{time.monotonic_ns()}.csv"
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    companies = read_leads(path).companies
    campaign = load_campaign(ROOT / "examples" / "campaign.toml")
    settings = RunSettings(
        llm="offline", concurrency=concurrency, simulation=Simulation(latency=latency)
    )

    async def main() -> float:
        async with open_store(tmp / f"run-{time.monotonic_ns()}.db") as store:
            started = time.perf_counter()
            await run_batch(store, companies, campaign, settings, leads_path=path)
            return time.perf_counter() - started

    return anyio.run(main)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def baseline_package(src: Path, into: Path) -> Path:
    """A directory in ``into`` holding a ``salesbus`` package of symlinks into another
    checkout (first on ``PYTHONPATH``, it is imported instead of this one)."""
    pkg = into / "baseline" / "salesbus"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").touch()
    for part in ("bus", "agents", "orchestrator", "observability"):
        (pkg / part).symlink_to(src.resolve() / part)
    return pkg.parent


def service(
    rows: list[str],
    batches: int,
    latency: float,
    concurrency: int,
    tmp: Path,
    probe: bool,
    code: Path | None = None,
) -> tuple[float, list[float]]:
    """(makespan, GET /batches/{id} latencies in ms when ``probe``) of one service run;
    ``code``: a directory from :func:`baseline_package` to run instead of this checkout."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        k: v for k, v in os.environ.items() if k not in {"ANTHROPIC_API_KEY", "SALESBUS_API_TOKEN"}
    }
    if code is not None:
        env["PYTHONPATH"] = str(code)
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "salesbus.orchestrator.cli"),
            "serve",
            "--port",
            str(port),
            "--db",
            str(tmp / f"serve-{port}.db"),
            "--campaign",
            str(ROOT / "examples" / "campaign.toml"),
            "--llm",
            "offline",
            "--concurrency",
            str(concurrency),
            "--simulate-latency",
            str(latency),
            "--log-level",
            "WARNING",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            for _ in range(300):
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.05)
            size = len(rows) // batches
            files = [HEADER + "".join(rows[i * size : (i + 1) * size]) for i in range(batches)]
            started = time.perf_counter()
            ids = [
                client.post(
                    "/batches", files={"leads": (f"part{i}.csv", text.encode(), "text/csv")}
                ).json()["batch"]["id"]
                for i, text in enumerate(files)
            ]
            latencies: list[float] = []
            done = threading.Event()
            prober = threading.Thread(target=_probe, args=(url, ids, done, latencies))
            if probe:
                prober.start()
            waiting = list(ids)
            while waiting:  # one batch at a time: the poll must not load the service itself
                view = client.get(f"/batches/{waiting[0]}").json()
                if not view["running"] and view["progress"] >= 1.0:
                    waiting.pop(0)
                    continue
                time.sleep(0.02)
            elapsed = time.perf_counter() - started
            done.set()
            if probe:
                prober.join()
            return elapsed, latencies
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)


def _probe(url: str, ids: list[str], done: threading.Event, out: list[float]) -> None:
    with httpx.Client(base_url=url, timeout=60) as client:
        n = 0
        while not done.is_set():
            started = time.perf_counter()
            client.get(f"/batches/{ids[n % len(ids)]}").raise_for_status()
            out.append((time.perf_counter() - started) * 1000)
            n += 1
            time.sleep(0.05)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--companies", type=int, default=400)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument(
        "--baseline-src",
        type=Path,
        help="Another checkout (e.g. `git archive main | tar -x -C DIR`): its service's"
        " p99 while 16 batches run is measured too, interleaved with this one's.",
    )
    parser.add_argument(
        "--batches",
        default="1,4,16",
        help="Concurrent batch counts to run, comma-separated (16 measures the p99 too).",
    )
    args = parser.parse_args()
    rows = lead_rows(args.companies)
    counts = [int(n) for n in args.batches.split(",") if n.strip()]
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="salesbus-service-bench-") as scratch:
        tmp = Path(scratch)
        runs = [baseline(rows, args.latency, args.concurrency, tmp) for _ in range(args.repeats)]
        results["run"] = statistics.median(runs)
        latencies: list[float] = []
        before: list[float] = []
        code = baseline_package(args.baseline_src, tmp) if args.baseline_src else None
        for batches in counts:
            spans = []
            for _ in range(args.repeats):
                span, probed = service(
                    rows, batches, args.latency, args.concurrency, tmp, probe=batches == 16
                )
                spans.append(span)
                latencies.extend(probed)
                if code is not None and batches == 16:
                    before.extend(
                        service(rows, 16, args.latency, args.concurrency, tmp, True, code)[1]
                    )
            results[batches] = statistics.median(spans)
    base = results["run"]
    ideal = args.companies / args.concurrency * 3 * args.latency
    lines = [
        f"{args.companies} companies, {args.latency}s per model call, {args.concurrency} in flight;"
        f" ideal {ideal:.2f}s; medians of {args.repeats}",
        "| run | makespan s | companies/s | vs `salesbus run` |",
        "|---|---|---|---|",
        f"| `salesbus run` (baseline) | {base:.2f} | {args.companies / base:.1f} | 1.00 |",
    ]
    for batches in counts:
        span = results[batches]
        lines.append(
            f"| serve, {batches} batch{'es' if batches > 1 else ''} | {span:.2f} |"
            f" {args.companies / span:.1f} | {span / base:.3f} |"
        )
    if latencies:
        lines.append(
            f"GET /batches/{{id}} while 16 batches run: {len(latencies)} requests,"
            f" p50 {percentile(latencies, 50):.1f} ms, p99 {percentile(latencies, 99):.1f} ms,"
            f" max {max(latencies):.1f} ms"
        )
    if before:
        lines.append(
            f"the same, --baseline-src {args.baseline_src}: {len(before)} requests,"
            f" p50 {percentile(before, 50):.1f} ms, p99 {percentile(before, 99):.1f} ms,"
            f" max {max(before):.1f} ms; p99 ratio (this / baseline)"
            f" {percentile(latencies, 99) / percentile(before, 99):.2f}"
        )
    print("\n".join(lines) if args.markdown else "\n".join(lines).replace("|", " "))


if __name__ == "__main__":
    main()
