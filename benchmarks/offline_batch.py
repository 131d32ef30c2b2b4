"""What the offline engine and the quality checks cost inside a whole batch.

    python benchmarks/offline_batch.py [--companies 500] [--runs 3]

Runs a batch of synthetic companies through the whole pipeline — offline rules
provider, no simulated latency, a real SQLite file, the in-memory bus — and
reports its wall time (the baseline: what a user waits for), then, in the same
invocation, the time the engine's three calls and the quality checks take for
the same companies outside the pipeline, as shares of that batch. Medians of
``--runs``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline_makespan import campaign, companies, machine


async def batch_seconds(n: int) -> float:
    from salesbus.agents.providers.offline import OfflineProvider
    from salesbus.orchestrator.runner import RunSettings, run_batch
    from salesbus.orchestrator.store import open_store

    with tempfile.TemporaryDirectory() as tmp:
        async with open_store(Path(tmp) / "bench.db") as store:
            started = time.perf_counter()
            await run_batch(
                store,
                companies(n),
                campaign(),
                RunSettings(llm="offline", concurrency=50),
                provider=OfflineProvider(),
            )
            return time.perf_counter() - started


async def engine_and_checks(n: int) -> tuple[float, float]:
    """Seconds in the engine's research/analyze/personalize, and in ``check_outreach``."""
    from salesbus.agents.providers.offline import OfflineProvider
    from salesbus.agents.quality import check_outreach

    provider, chosen = OfflineProvider(), campaign()
    drafts: list[tuple[Any, Any]] = []
    started = time.perf_counter()
    for company in companies(n):
        profile = await provider.research(company, None, chosen)
        analysis = await provider.analyze(profile, chosen)
        drafts.append((await provider.personalize(profile, analysis, chosen), profile))
    engine = time.perf_counter() - started
    started = time.perf_counter()
    for draft, profile in drafts:
        check_outreach(draft, profile, chosen)
    return engine, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--companies", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    batch, engine, checks = [], [], []
    for _ in range(args.runs):
        batch.append(anyio.run(batch_seconds, args.companies))
        spent = anyio.run(engine_and_checks, args.companies)
        engine.append(spent[0])
        checks.append(spent[1])
    wall = statistics.median(batch)
    print(f"# offline batch — {time.strftime('%Y-%m-%d')} — {machine()}")
    print(f"companies: {args.companies}, medians of {args.runs}")
    print(
        f"batch wall time (baseline): {wall:.2f} s ({1000 * wall / args.companies:.2f} ms/company)"
    )
    for label, spent in (("offline engine", engine), ("quality checks", checks)):
        median = statistics.median(spent)
        print(
            f"{label}: {1000 * median / args.companies:.3f} ms/company,"
            f" {median / wall:.1%} of the batch"
        )


if __name__ == "__main__":
    main()
