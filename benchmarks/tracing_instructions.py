"""What tracing adds per company, in instructions counted by valgrind's callgrind.

    .venv/bin/python benchmarks/tracing_instructions.py [--configs A,B,L]
        [--small 100] [--large 300] [--concurrency 100] [--latency 0.2]
    .venv/bin/python benchmarks/tracing_instructions.py --bus [--configs A,C,S]
        [--small 50000] [--large 150000]

Wall and CPU time on a shared two-core VM move by 5–10% between runs of the
same code, wider than the margins of issue 15's pipeline targets. An
instruction count does not care what else the machine is doing: the same code
and input give the same count to about 0.15%. It says nothing of cache misses
or of waiting for the GIL, so it complements ``tracing_overhead.py`` (which
runs the same children, configurations and all) rather than replacing it.

Python under callgrind runs ~50 times slower, so each configuration runs at
two small sizes, and its cost per company (per event with ``--bus``) is the
difference::

    per_company = (count(large) - count(small)) / (large - small)

which takes the interpreter's start-up, imports and tear-down out of it. Two
figures per configuration: the **loop thread** (the child's main thread, which
runs the event loop and every step: what makespan follows) and **all threads**
(adds the store's writer and, with tracing, the batch span processor's
export thread: what CPU time follows). ``PYTHONHASHSEED=0`` keeps dict and set
layouts the same run to run. With ``--bus`` the child also runs once building
its events, carriers and interceptors and publishing none (outside
``tracing_overhead.py``'s timer), and that count is taken out of every
configuration's, so what is left, and its ratio to A, is the hop. Needs
``valgrind`` (Debian: ``apt-get install -y valgrind``); 5–9 minutes per
configuration at the default sizes.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import tracing_overhead as overhead

_SUMMARY = re.compile(r"^summary:\s+(\d+)", re.MULTILINE)
_TIMEOUT_S = 3_600


def count_instructions(
    config: str, size: int, args: argparse.Namespace, otlp: str, *, build_only: bool = False
) -> list[int]:
    """Instructions per thread (the main thread first) of one child under callgrind."""
    valgrind = shutil.which("valgrind") or "valgrind"
    env = overhead.child_env(overhead.BENCHMARKS[args.benchmark][config])
    env["PYTHONHASHSEED"] = "0"
    with tempfile.TemporaryDirectory(prefix="callgrind-") as tmp:
        out = Path(tmp) / "callgrind.out"
        # --dump-line=no: only the totals are read, and line tables triple the dump.
        command = [
            valgrind,
            "--tool=callgrind",
            "--separate-threads=yes",
            "--dump-line=no",
            f"--callgrind-out-file={out}",
            sys.executable,
            overhead.__file__,
            *("--child", args.benchmark, "--config", config, "--otlp", otlp),
            *("--events" if args.bus else "--companies", str(size)),
            *("--concurrency", str(args.concurrency), "--latency", str(args.latency)),
            *(["--build-only"] if build_only else []),
        ]
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=_TIMEOUT_S)
        if done.returncode != 0:
            sys.stderr.write(done.stderr[-4_000:])
            raise RuntimeError(
                f"{args.benchmark} {config} under callgrind exited {done.returncode}"
            )
        dumps = sorted(
            Path(tmp).glob("callgrind.out-*"), key=lambda p: int(p.name.rsplit("-", 1)[1])
        )
        return [_summary(dump.read_text(errors="replace")) for dump in dumps]


def _summary(dump: str) -> int:
    match = _SUMMARY.search(dump)
    if match is None:
        raise ValueError("a callgrind dump without a summary line")
    return int(match.group(1))


def per_unit(
    config: str, args: argparse.Namespace, otlp: str, *, build_only: bool = False
) -> tuple[float, float]:
    """Instructions per company (per event with ``--bus``): (loop thread, all threads)."""
    small = count_instructions(config, args.small, args, otlp, build_only=build_only)
    large = count_instructions(config, args.large, args, otlp, build_only=build_only)
    span = args.large - args.small
    return (large[0] - small[0]) / span, (sum(large) - sum(small)) / span


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--bus", action="store_true", help="the bus hop instead of the pipeline")
    parser.add_argument("--configs", help="configurations, A first (default A,B,L; --bus: A,C,S)")
    parser.add_argument("--small", type=int, help="companies (--bus: events) in the smaller run")
    parser.add_argument("--large", type=int, help="companies (--bus: events) in the larger run")
    parser.add_argument("--concurrency", type=int, default=100, help="workflows in flight")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per model call")
    args = parser.parse_args(argv)
    args.benchmark = "bus" if args.bus else "pipeline"
    known = overhead.BENCHMARKS[args.benchmark]
    args.small = args.small or (50_000 if args.bus else 100)
    args.large = args.large or (150_000 if args.bus else 300)
    chosen = args.configs or ("A,C,S" if args.bus else "A,B,L")
    args.configs = [c.strip() for c in chosen.split(",") if c.strip()]
    if any(c not in known for c in args.configs) or not args.configs or args.configs[0] != "A":
        parser.error(f"--configs: A first, then any of {', '.join(known)}")
    if not 0 < args.small < args.large or args.concurrency < 1:
        parser.error("need 0 < --small < --large and a positive --concurrency")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("valgrind") is None:
        print(
            "error: counting instructions needs valgrind (apt-get install -y valgrind)",
            file=sys.stderr,
        )
        return 2
    counts: dict[str, tuple[float, float]] = {}
    with overhead.open_receiver() as receiver:
        if args.bus:
            print(f"  build only: {args.small} and {args.large}", file=sys.stderr, flush=True)
            built = per_unit("A", args, receiver.url, build_only=True)
        for config in args.configs:
            print(f"  {config}: {args.small} and {args.large}", file=sys.stderr, flush=True)
            receiver.clear()
            counts[config] = per_unit(config, args, receiver.url)
    if args.bus:
        # The events and their carriers are built before the timer starts:
        # what is left after taking that out is the hop itself.
        counts = {c: (loop - built[0], every - built[1]) for c, (loop, every) in counts.items()}
    unit, scale, digits = ("event", 1e3, "k") if args.bus else ("company", 1e6, "M")
    setting = (
        f"; building the events taken out ({built[0] / 1e3:.2f} k per event on the loop thread)"
        if args.bus
        else f", concurrency {args.concurrency}, {args.latency} s per model call"
    )
    print(
        f"Instructions per {unit} (callgrind): ({args.large:,} − {args.small:,})"
        f" / {args.large - args.small:,}{setting}"
    )
    print(f"machine: {overhead.machine()}")
    print()
    print(f"| config | what | loop thread, {digits} | × A | all threads, {digits} | × A |")
    print("|---|---|---|---|---|---|")
    loop_a, all_a = counts["A"]
    for config, (loop, every) in counts.items():
        print(
            f"| {config} | {overhead.BENCHMARKS[args.benchmark][config].what}"
            f" | {loop / scale:.2f} | {loop / loop_a:.3f}× | {every / scale:.2f}"
            f" | {every / all_a:.3f}× |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
