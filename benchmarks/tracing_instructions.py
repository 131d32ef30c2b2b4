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

_EVENTS = re.compile(r"^events:\s+(.+)$", re.MULTILINE)
_SUMMARY = re.compile(r"^summary:\s+(.+)$", re.MULTILINE)
_TIMEOUT_S = 3_600

Counts = dict[str, float]
"""callgrind's counters by name: ``Ir`` (instructions), and with ``--cache`` its misses."""


def run_callgrind(
    config: str, size: int, args: argparse.Namespace, otlp: str, *, build_only: bool = False
) -> list[Counts]:
    """callgrind's counters per thread (the main thread first) of one child."""
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
            *(["--cache-sim=yes"] if args.cache else []),
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
        return [_counters(dump.read_text(errors="replace")) for dump in dumps]


def _counters(dump: str) -> Counts:
    names, summary = _EVENTS.search(dump), _SUMMARY.search(dump)
    if names is None or summary is None:
        raise ValueError("a callgrind dump without its events and summary lines")
    return dict(zip(names.group(1).split(), map(float, summary.group(1).split()), strict=True))


def per_unit(
    config: str, args: argparse.Namespace, otlp: str, *, build_only: bool = False
) -> tuple[Counts, Counts]:
    """Counters per company (per event with ``--bus``): (loop thread, all threads)."""
    small = run_callgrind(config, args.small, args, otlp, build_only=build_only)
    large = run_callgrind(config, args.large, args, otlp, build_only=build_only)
    span = args.large - args.small

    def difference(big: Counts, little: Counts) -> Counts:
        return {name: (big[name] - little[name]) / span for name in big}

    return difference(large[0], small[0]), difference(_total(large), _total(small))


def _total(threads: list[Counts]) -> Counts:
    return {name: sum(thread[name] for thread in threads) for name in threads[0]}


def _minus(counts: Counts, base: Counts) -> Counts:
    return {name: n - base[name] for name, n in counts.items()}


def estimated_cycles(counts: Counts) -> float:
    """KCachegrind's cycle estimate without branches: Ir + 10 × L1 misses + 100 × LL misses."""
    l1 = counts["I1mr"] + counts["D1mr"] + counts["D1mw"]
    last_level = counts["ILmr"] + counts["DLmr"] + counts["DLmw"]
    return counts["Ir"] + 10 * l1 + 100 * last_level


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--bus", action="store_true", help="the bus hop instead of the pipeline")
    parser.add_argument("--configs", help="configurations, A first (default A,B,L; --bus: A,C,S)")
    parser.add_argument("--small", type=int, help="companies (--bus: events) in the smaller run")
    parser.add_argument("--large", type=int, help="companies (--bus: events) in the larger run")
    parser.add_argument("--concurrency", type=int, default=100, help="workflows in flight")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per model call")
    parser.add_argument(
        "--cache",
        action="store_true",
        help="also simulate the caches (callgrind --cache-sim=yes): misses and estimated cycles",
    )
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
    counts: dict[str, tuple[Counts, Counts]] = {}
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
        counts = {
            config: (_minus(loop, built[0]), _minus(every, built[1]))
            for config, (loop, every) in counts.items()
        }
    unit, scale, digits = ("event", 1e3, "k") if args.bus else ("company", 1e6, "M")
    setting = (
        "; building the events taken out"
        f" ({built[0]['Ir'] / 1e3:.2f} k per event on the loop thread)"
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
    loop_a, all_a = (counts["A"][0]["Ir"], counts["A"][1]["Ir"])
    for config, (loop, every) in counts.items():
        print(
            f"| {config} | {overhead.BENCHMARKS[args.benchmark][config].what}"
            f" | {loop['Ir'] / scale:.2f} | {loop['Ir'] / loop_a:.3f}×"
            f" | {every['Ir'] / scale:.2f} | {every['Ir'] / all_a:.3f}× |"
        )
    if args.cache:
        print()
        print(f"Simulated caches, loop thread, per {unit}:")
        print()
        print("| config | instructions | I1 misses | D1 misses | LL misses | est. cycles | × A |")
        print("|---|---|---|---|---|---|---|")
        cycles_a = estimated_cycles(counts["A"][0])
        for config, (loop, _every) in counts.items():
            cycles = estimated_cycles(loop)
            print(
                f"| {config} | {loop['Ir']:,.0f} | {loop['I1mr']:,.1f}"
                f" | {loop['D1mr'] + loop['D1mw']:,.1f}"
                f" | {loop['ILmr'] + loop['DLmr'] + loop['DLmw']:,.1f}"
                f" | {cycles:,.0f} | {cycles / cycles_a:.3f}× |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
