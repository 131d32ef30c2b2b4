"""What reading a lead file costs per row, against the csv module reading the same file.

    .venv/bin/python benchmarks/lead_reading.py [--rows 20000] [--runs 3]

The file is a vendor-style export (``Company Name, Website, Sector, Headcount,
HQ, Products``; headcounts like ``20,000 (2023)``, locations like ``Austin,
Texas``), written once to a temporary directory. In each round, in alternation:

* **baseline**: ``csv.DictReader`` over the file opened as UTF-8: decoding and
  splitting only, what any reader pays.
* **stream**: ``open_leads(path)``: detection, mapping, cleaning, headcounts,
  websites under the public-suffix list, locations, duplicates, a validated
  ``Company`` per row.

It prints the median and every run of µs per row, the ratio of the medians, and
the peak traced memory of the stream (duplicates index on and off), a separate
pass so that tracemalloc does not slow the timed ones.
"""

from __future__ import annotations

import argparse
import csv
import gc
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

from salesbus.agents.leads import open_leads
from salesbus.agents.models import Company

CITIES = ("Austin, Texas", "Tokyo, Japan", "Charlotte NC", "Munich, Germany", "Wilmington, DE")


def write_export(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Company Name", "Website", "Sector", "Headcount", "HQ", "Products"])
        for i in range(rows):
            writer.writerow(
                [
                    f"Company {i} Holdings",
                    f"https://www.company{i}.co.uk/about" if i % 7 else "Official website",
                    "Industrials",
                    f"{(i * 37) % 90_000:,} ({2020 + i % 5})",
                    CITIES[i % len(CITIES)],
                    f"Product line {i}; services; spare parts",
                ]
            )


def baseline(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.DictReader(handle))


def stream(path: Path, *, dedupe: bool = True) -> int:
    with open_leads(path, dedupe=dedupe) as leads:
        return sum(isinstance(item, Company) for item in leads)


def timed(read: object, path: Path) -> float:
    assert callable(read)
    gc.collect()
    started = time.perf_counter()
    read(path)
    return time.perf_counter() - started


def peak(path: Path, *, dedupe: bool) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        stream(path, dedupe=dedupe)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.csv"
        write_export(path, args.rows)
        assert stream(path) == args.rows  # warm: suffix list, ISO data, caches
        runs: dict[str, list[float]] = {"baseline": [], "stream": []}
        for round_index in range(args.runs):
            order = ["baseline", "stream"] if round_index % 2 == 0 else ["stream", "baseline"]
            for name in order:
                read = baseline if name == "baseline" else stream
                runs[name].append(timed(read, path) / args.rows * 1e6)
        peaks = {dedupe: peak(path, dedupe=dedupe) for dedupe in (False, True)}
    medians = {name: statistics.median(values) for name, values in runs.items()}
    print(f"{args.rows:,} rows, {args.runs} runs, µs per row (median; every run)")
    for name, values in runs.items():
        every = ", ".join(f"{v:.1f}" for v in values)
        print(f"  {name:<9} {medians[name]:8.1f}   ({every})")
    print(f"  ratio     {medians['stream'] / medians['baseline']:8.1f}x the baseline")
    print(
        f"peak traced memory of the stream: {peaks[False] / 1e6:.1f} MB without the"
        f" duplicates index, {peaks[True] / 1e6:.1f} MB with it"
    )


if __name__ == "__main__":
    main()
