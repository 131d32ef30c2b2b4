"""Soak: a batch under store errors, handler exceptions and SIGKILLs ends with every company final.

    python benchmarks/soak.py [--companies 2000] [--store-errors 0.01]
        [--handler-errors 0.05] [--kills 3] [--seed 1]

Real ``salesbus run`` processes (offline rules provider with 50 ms of simulated
latency per model call, concurrency 50) on one SQLite file, with faults
injected through ``SALESBUS_FAULT_*`` (see ``orchestrator/faults.py``): each
store statement fails with probability ``--store-errors``, each orchestrator
reaction raises with probability ``--handler-errors``. The run is SIGKILLed
``--kills`` times at evenly spaced points of progress, then run again (with
the same faults) until it exits with nothing left to run. Reported: the final
states, whether any step ran twice (a second success, or an attempt started
after the step had succeeded), interrupted attempts, failure reasons by kind,
runs needed and wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FINAL = ("completed", "disqualified", "failed", "rejected", "awaiting_approval")


def write_leads(path: Path, n: int) -> None:
    industries = ["SaaS", "Fintech", "Software", "Logistics", "Healthcare"]
    rows = ["name,domain,industry,employees,country,description"]
    rows += [
        f"Soak Company {i:05},soak{i:05}.example,{industries[i % 5]},{60 + (i * 37) % 4000},"
        f"United States,Platform {i} growing its revenue team"
        for i in range(n)
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def succeeded(db: Path) -> int:
    try:
        with sqlite3.connect(db) as conn:
            return int(
                conn.execute(
                    "SELECT COUNT(*) FROM step_attempts WHERE status = 'succeeded'"
                ).fetchone()[0]
            )
    except sqlite3.OperationalError:
        return 0


def start(tmp: Path, env: dict[str, str], run: int) -> subprocess.Popen[bytes]:
    env = {**env, "SALESBUS_FAULT_SEED": f"{env['SALESBUS_FAULT_SEED']}{run:02}"}
    command = [
        *(sys.executable, "-m", "salesbus.orchestrator.cli", "run", str(tmp / "leads.csv")),
        *("--campaign", str(ROOT / "examples" / "campaign.toml"), "--db", str(tmp / "soak.db")),
        *("--llm", "offline", "--concurrency", "50", "--simulate-latency", "0.05"),
        *("--retry-base", "0.01"),
    ]
    log = (tmp / f"run{run}.log").open("wb")  # a pipe nobody reads would block the run
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log, cwd=tmp)


def report(db: Path) -> dict[str, Any]:
    with sqlite3.connect(db) as conn:
        states = dict(conn.execute("SELECT state, COUNT(*) FROM workflows GROUP BY state"))
        twice = conn.execute(
            "SELECT COUNT(*) FROM (SELECT 1 FROM step_attempts WHERE status = 'succeeded'"
            " GROUP BY workflow_id, step HAVING COUNT(*) > 1)"
        ).fetchone()[0]
        after_success = conn.execute(
            "SELECT COUNT(*) FROM step_attempts a JOIN step_attempts s"
            " ON s.workflow_id = a.workflow_id AND s.step = a.step AND s.status = 'succeeded'"
            " WHERE a.id != s.id AND a.started_at >= s.ended_at"
        ).fetchone()[0]
        attempts = dict(conn.execute("SELECT status, COUNT(*) FROM step_attempts GROUP BY status"))
        reasons = Counter(
            _kind(r) for (r,) in conn.execute("SELECT reason FROM workflows WHERE state = 'failed'")
        )
    return {
        "states": states,
        "not_final": sum(n for s, n in states.items() if s not in FINAL),
        "steps_succeeded_twice": twice,
        "attempts_started_after_a_success": after_success,
        "attempts": attempts,
        "failed_by_kind": dict(reasons.most_common()),
    }


def _kind(reason: str | None) -> str:
    text = reason or ""
    for marker in ("internal error", "could not store", "store write failed", "interrupted"):
        if marker in text:
            return marker
    return text.split(":")[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=2000)
    parser.add_argument("--store-errors", type=float, default=0.01)
    parser.add_argument("--handler-errors", type=float, default=0.05)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "ANTHROPIC_"))}
    env.update(
        SALESBUS_FAULT_STORE_ERRORS=str(args.store_errors),
        SALESBUS_FAULT_HANDLER_ERRORS=str(args.handler_errors),
        SALESBUS_FAULT_SEED=str(args.seed),
    )
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        write_leads(tmp / "leads.csv", args.companies)
        db = tmp / "soak.db"
        started = time.perf_counter()
        total_steps = args.companies * 3
        runs = []
        for kill in range(1, args.kills + 1):
            process = start(tmp, env, len(runs))
            target = total_steps * kill // (args.kills + 2)
            while succeeded(db) < target and process.poll() is None:
                time.sleep(0.05)
            process.send_signal(signal.SIGKILL)
            process.wait()
            runs.append({"run": len(runs) + 1, "ended": "SIGKILL", "steps_done": succeeded(db)})
        while True:
            process = start(tmp, env, len(runs))
            process.wait()
            runs.append({"run": len(runs) + 1, "ended": f"exit {process.returncode}"})
            if process.returncode != 0:
                print((tmp / f"run{len(runs) - 1}.log").read_text()[-2000:], file=sys.stderr)
            figures = report(db)
            if figures["not_final"] == 0 or len(runs) > args.kills + 5:
                break
        figures["runs"] = runs
        figures["wall_s"] = round(time.perf_counter() - started, 1)
        figures["settings"] = vars(args)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
