"""Claude at full speed and low cost: rate-limit use, tokens, cache reads and cost per company.

    python benchmarks/claude_batch.py cost   [--companies 200] [--model claude-haiku-5-5]
    python benchmarks/claude_batch.py limits [--rpm 150 600] [--minutes 1] [--window 10]

Both run the whole sales pipeline (real SQLite, real bus) on the Claude provider
through the real SDK against the loopback Messages API in ``tests/fakes``, which
answers every step validly and reports ``usage`` the way the API does (cache
writes and reads of the prefix up to the last ``cache_control`` breakpoint, and
nothing cached below the model's minimum, 4,096 tokens here).

``cost``: input tokens (uncached, cache writes, cache reads), cache-read share
of input after the first call, and cost per company at the price table's rates.

``limits``: a sliding-window limit of ``rpm`` requests a minute, scaled to a
``window``-second window (``rpm * window / 60`` requests per window, reported as
``rpm`` in the headers), 50 ms answers, default flags. Reports the share of the
limit used after the first window (requests accepted ÷ what the limit allows in
that time), the 429 share, and the makespan against the limit's ideal
(calls ÷ rate). Run it on a quiet machine; it measures the pipeline's
pace, so a loaded CPU shows up as a lower share.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

API_KEY = "sk-ant-bench-0123456789"


def companies(n: int) -> list[Any]:
    from salesbus.agents.leads import read_leads

    base = read_leads(ROOT / "examples" / "leads.csv").companies
    leads = (base[i % len(base)] for i in range(n))
    return [
        lead.model_copy(update={"name": f"{lead.name} {i:04}", "domain": f"c{i:04}.example"})
        for i, lead in enumerate(leads)
    ]


async def run_batch(
    n: int, model: str, server_options: dict[str, Any], latency: float = 0.0
) -> dict[str, Any]:
    from salesbus.agents.campaign import load_campaign
    from salesbus.orchestrator.embed import Pipeline
    from salesbus.orchestrator.runner import RunSettings
    from tests.fakes.anthropic_server import FakeAnthropicServer, pipeline_responder

    answer = pipeline_responder()
    responder = (lambda request: answer(request).after(latency)) if latency else answer
    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeAnthropicServer(api_key=API_KEY, responder=responder, **server_options) as server,
    ):
        # The provider as `salesbus run` builds it (default flags), from the environment.
        os.environ.update(ANTHROPIC_API_KEY=API_KEY, ANTHROPIC_BASE_URL=server.base_url)
        settings = RunSettings(llm="anthropic", model=model, fetch_websites=False)
        db = Path(tmp) / "bench.db"
        gc.collect()
        gc.freeze()
        started = time.monotonic()
        async with Pipeline(
            load_campaign(ROOT / "examples" / "campaign.toml"),
            db=db,
            settings=settings,
        ) as pipeline:
            results = await pipeline.run(companies(n))
        makespan = time.monotonic() - started
        gc.unfreeze()
        with sqlite3.connect(db) as conn:
            rows = conn.execute(
                "SELECT calls, input_tokens, output_tokens, cache_read_tokens,"
                " cache_write_tokens, cost_usd FROM step_attempts ORDER BY started_at"
            ).fetchall()
    states: dict[str, int] = {}
    for result in results:
        states[result.state] = states.get(result.state, 0) + 1
    return {"rows": rows, "makespan": makespan, "states": states}


def cost(args: argparse.Namespace) -> None:
    from tests.fakes.anthropic_server import CacheModel

    result = asyncio.run(
        run_batch(args.companies, args.model, {"cache": CacheModel(min_tokens=4096)})
    )
    rows = result["rows"]
    calls = sum(r[0] for r in rows)
    uncached, output = sum(r[1] for r in rows), sum(r[2] for r in rows)
    reads, writes = sum(r[3] for r in rows), sum(r[4] for r in rows)
    after_first = rows[1:]
    input_after = sum(r[1] + r[3] + r[4] for r in after_first)
    reads_after = sum(r[3] for r in after_first)
    spent = sum(r[5] for r in rows)
    n = args.companies
    print(f"companies {n}, calls {calls}, states {result['states']}")
    print(
        f"input tokens per company {(uncached + reads + writes) / n:,.0f} "
        f"(uncached {uncached / n:,.0f}, cache writes {writes / n:,.0f}, "
        f"cache reads {reads / n:,.0f}); output {output / n:,.0f}"
    )
    print(f"cache-read share of input after the first call {reads_after / input_after:.1%}")
    print(f"cost per company ${spent / n:.6f} ({args.model})")


def limits(args: argparse.Namespace) -> None:
    from tests.fakes.anthropic_server import RateLimits

    for rpm in args.rpm:
        per_window = round(rpm * args.window / 60)
        rate = per_window / args.window
        n = max(10, round(rate * 60 * args.minutes / 3))
        shares, refused_shares, ratios = [], [], []
        for _ in range(args.repeat):
            window = RateLimits(per_window, window=args.window)
            result = asyncio.run(
                run_batch(n, args.model, {"rate_limits": window}, latency=args.latency)
            )
            accepted, refused = window.accepted, window.refused
            # After the first window: a client that bursts into an empty window gets
            # one window's worth free at the start, which is not a pace it can keep.
            steady = [at for at in accepted if at >= accepted[0] + args.window]
            shares.append(len(steady) / ((steady[-1] - steady[0]) * rate))
            refused_shares.append(len(refused) / (len(accepted) + len(refused)))
            ratios.append(result["makespan"] / (len(accepted) / rate))
            failed = result["states"].get("failed", 0)
            print(
                f"  rpm {rpm}: {len(accepted)} calls, share {shares[-1]:.1%}, "
                f"429s {refused_shares[-1]:.1%}, makespan/ideal {ratios[-1]:.3f}, failed {failed}"
            )
        print(
            f"rpm {rpm} (window {args.window:g} s, {n} companies) median of {args.repeat}: "
            f"share {statistics.median(shares):.1%}, 429s {statistics.median(refused_shares):.1%}, "
            f"makespan/ideal {statistics.median(ratios):.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["cost", "limits"])
    parser.add_argument("--companies", type=int, default=200)
    parser.add_argument("--model", default="claude-haiku-5-5")
    parser.add_argument("--rpm", type=int, nargs="+", default=[150, 600])
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cost(args) if args.mode == "cost" else limits(args)


if __name__ == "__main__":
    main()
