"""``salesbus run`` reads its lead file as a stream: peak memory does not grow with the rows.

The real CLI runs in a subprocess over generated files of 5,000 and 20,000 rows
(every step fails permanently at once, so the run is short but each company is
still read, summarised, recorded, admitted and finished). Holding every company
and warning at once (``read_leads``, as ``run`` did) added 22 MB for these
15,000 extra rows; streamed, the growth is the reader's duplicate index (a few
bytes a company) and the store's pages: 1.5 MB measured.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from .cli_support import write_inputs

GROWTH_BOUND_MB = 10.0
"""Peak RSS may grow by less than this from 5,000 to 20,000 rows (under 700 bytes a row)."""


def write_rows(path: Path, rows: int) -> None:
    """Rows like a vendor export; every tenth headcount is unreadable, a warning."""
    with path.open("w", encoding="utf-8") as out:
        out.write("company,website,industry,employees,country,description\n")
        for i in range(rows):
            employees = "a lot" if i % 10 == 0 else str(60 + i % 4000)
            out.write(
                f"Stream Company {i:06},stream{i:06}.example,SaaS,{employees},"
                f"United States,Platform {i} for revenue teams\n"
            )


def peak_rss_of_run(tmp: Path, rows: int) -> tuple[float, str]:
    """Peak RSS (MB) of ``salesbus run`` over ``rows`` generated rows, and its stderr."""
    campaign, leads = write_inputs(tmp)
    write_rows(leads, rows)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "ANTHROPIC_"))}
    command = [
        *(sys.executable, "-m", "salesbus.orchestrator.cli", "run", str(leads)),
        *("--campaign", str(campaign), "--db", str(tmp / "s.db"), "--llm", "offline"),
        *("--simulate-permanent-failures", "1", "--max-attempts", "1"),
    ]
    with (tmp / "stderr.txt").open("wb") as stderr:
        child = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=stderr, cwd=tmp
        )
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    errors = (tmp / "stderr.txt").read_text(encoding="utf-8")
    assert child.returncode == 0, errors
    with sqlite3.connect(tmp / "s.db") as conn:
        states = dict(conn.execute("SELECT state, COUNT(*) FROM workflows GROUP BY state"))
    assert states == {"failed": rows}
    return usage.ru_maxrss / 1024, errors  # ru_maxrss is in KB on Linux


def test_run_streams_its_leads_so_peak_memory_stays_flat_in_the_rows(tmp_path: Path) -> None:
    (small_dir := tmp_path / "5k").mkdir()
    (large_dir := tmp_path / "20k").mkdir()

    small, _ = peak_rss_of_run(small_dir, 5_000)
    large, summary = peak_rss_of_run(large_dir, 20_000)

    assert large - small < GROWTH_BOUND_MB, f"{small:.0f} MB at 5k rows, {large:.0f} MB at 20k"
    assert "20000 companies will run" in " ".join(summary.split())
    assert "and 1980 more: salesbus inspect" in " ".join(summary.split())
