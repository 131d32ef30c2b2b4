"""What tracing costs: bus throughput and pipeline makespan with tracing off and on, in one run.

    .venv/bin/python benchmarks/tracing_overhead.py [--events 50000] [--companies 300]
        [--latency 0.2] [--concurrency 100] [--runs 3] [--only bus|pipeline]
        [--profile CONFIG]

The issue's targets: tracing *off* must cost under 3% against a build without
the interceptors, tracing *on* under 25%. So every figure here is a ratio to a
baseline measured in the same run, on the same machine, in alternation:

* **A** baseline: no interceptors, no instrumentation (``EventBus()``;
  ``run_batch(..., instrumentation=None)``): "a build without the interceptors".
* **B** off, as salesbus ships it: what the CLI installs when no exporter is
  configured (``orchestrator.cli._instrumentation`` of a tracing-off handle),
  which is nothing at all. Asked of the real decision, not restated here, so the
  benchmark notices if that decision ever changes.
* **B'** off, installed anyway: ``BusTracing`` over a tracing-off handle on the
  bus, ``instrumentation_for`` that handle in the pipeline: what an embedder gets
  by wiring the instrumentation unconditionally.
* **C** on, no-op exporter: an SDK ``TracerProvider`` with the same
  ``BatchSpanProcessor`` salesbus builds, exporting to a ``SpanExporter`` that
  drops every batch. The cost of making spans, without the cost of shipping them.
* **D** on, OTLP/HTTP: ``configure_telemetry(receiver.url, private=True)``, the
  exact trace set-up ``--otlp`` ships, exporting to a loopback OTLP receiver
  (``tests/fakes/otlp.py``) that runs in this, the parent, process, as a local
  collector would run beside the measured one.

Why it is built the way it is:

* **A fresh interpreter per measurement.** Tracer providers start exporter
  threads and hold global state; a fork would inherit both. Each measurement is
  a new ``python`` child: its own providers, heap, event loop and (pipeline) its
  own SQLite file in a temporary directory. Set-up (imports, building events,
  providers) and tear-down (the final flush, reported apart) stay outside the
  timer.
* **Alternation and medians.** ``--runs`` rounds; each round runs every
  configuration once, the order rotated by one per round, so machine noise falls
  on all of them. The tables give the median and every run.
* **Nothing hidden.** The child verifies that every event was handled exactly
  once (count and sequence sum) and every company finished; spans that reached
  the exporter are counted (C in the child, D at the receiver), so a span
  processor that dropped spans under load shows up as such. CPU seconds of the
  child (all threads, exporter included) are reported beside wall time, because
  a latency-bound makespan can hide CPU that tracing burns.
* **The environment is scrubbed.** Children get no ``OTEL_*`` settings of the
  caller (only ``OTEL_METRICS_EXPORTER=none``, since this measures tracing) and
  no proxy settings, so the exporter can only reach 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline_makespan import companies  # the same synthetic leads as the makespan run

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.trace.export import SpanExportResult

    from salesbus.bus import Interceptor
    from salesbus.observability import Telemetry
    from salesbus.orchestrator.runner import Instrumentation

REPO = Path(__file__).resolve().parents[1]

CONFIGS: dict[str, str] = {
    "A": "baseline: no interceptors, no instrumentation",
    "B": "off, as shipped (CLI with nothing configured: nothing installed)",
    "B'": "off, BusTracing / instrumentation_for installed over a tracing-off handle",
    "C": "on, SDK BatchSpanProcessor, exporter drops every span",
    "D": "on, OTLP/HTTP (configure_telemetry --otlp) to a loopback receiver",
}
ORDER = tuple(CONFIGS)

OFF_TARGET = 0.03
ON_TARGET = 0.25
STEPS = 3
"""Model calls per company: research, analysis, personalization."""
BUS_SPANS_PER_EVENT = 2
"""``send <type>`` (PRODUCER) on publish, ``process <type>`` (CONSUMER) on handling."""
CHILD_TIMEOUT_S = 900


# -- the child: one measurement ---------------------------------------------------


def _make_ping_type() -> type[Any]:
    """The bus event, defined only in children (the parent never imports pydantic models)."""
    from salesbus.bus import Event

    class Ping(Event):
        """A real salesbus event (ids, timestamp, trace context field) with a sequence number."""

        type_name = "bench.TracingPing"
        seq: int

    return Ping


class Sink:
    """The one subscriber: counts events and sums their sequence numbers.

    The handler does trivial work on purpose, so that what is measured is the
    bus hop and what tracing adds to it; the count and sum catch a lost or
    duplicated event.
    """

    __slots__ = ("count", "seq_sum")

    def __init__(self) -> None:
        self.count = 0
        self.seq_sum = 0

    async def handle(self, event: Any) -> None:
        self.count += 1
        self.seq_sum += event.seq


def _dropping_exporter() -> Any:
    """A ``SpanExporter`` that accepts and discards every batch, counting the spans."""
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

    class DroppingExporter(SpanExporter):
        def __init__(self) -> None:
            self.exported = 0

        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            self.exported += len(spans)
            return SpanExportResult.SUCCESS

        def shutdown(self) -> None:
            """Nothing to release."""

    return DroppingExporter()


def make_telemetry(config: str, otlp_url: str | None) -> tuple[Telemetry | None, Any]:
    """The configuration's telemetry handle, and the no-op exporter for C (else ``None``).

    C is built the way ``observability/setup.py`` builds an exporting handle
    (SDK provider, default ``BatchSpanProcessor``, a handle that owns it), with
    the exporter swapped; the meter provider is the no-op one, as D's is with
    ``OTEL_METRICS_EXPORTER=none``, so both measure tracing alone.
    """
    from opentelemetry.metrics import NoOpMeterProvider
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from salesbus.observability import Telemetry, configure_telemetry

    if config == "A":
        return None, None
    if config in ("B", "B'"):
        telemetry = configure_telemetry(private=True)
        if telemetry.tracing_enabled or telemetry.metrics_enabled:
            raise RuntimeError(f"{config}: telemetry should be off, got {telemetry!r}")
        return telemetry, None
    if config == "C":
        exporter = _dropping_exporter()
        provider = TracerProvider(resource=Resource.create({"service.name": "salesbus-bench"}))
        provider.add_span_processor(BatchSpanProcessor(exporter))
        handle = Telemetry(provider, NoOpMeterProvider(), owns_tracer_provider=True)
        return handle, exporter
    if config == "D":
        if not otlp_url:
            raise RuntimeError("D needs the receiver's URL")
        telemetry = configure_telemetry(otlp_url, "salesbus-bench", private=True)
        if not telemetry.tracing_enabled or telemetry.metrics_enabled:
            raise RuntimeError(f"D: want tracing on and metrics off, got {telemetry!r}")
        return telemetry, None
    raise ValueError(f"unknown configuration {config!r}")


def bus_interceptors(config: str, telemetry: Telemetry | None) -> list[Interceptor]:
    """What each configuration puts on the bus."""
    from salesbus.observability import BusTracing
    from salesbus.orchestrator.cli import _instrumentation
    from salesbus.orchestrator.telemetry import instrumentation_for

    if telemetry is None:
        return []
    if config == "B":
        shipped = _instrumentation(telemetry)
        return list(shipped.interceptors) if shipped is not None else []
    if config == "B'":
        return [BusTracing(telemetry)]
    return list(instrumentation_for(telemetry).interceptors)


def pipeline_instrumentation(config: str, telemetry: Telemetry | None) -> Instrumentation | None:
    """What each configuration hands ``run_batch``."""
    from salesbus.orchestrator.cli import _instrumentation
    from salesbus.orchestrator.telemetry import instrumentation_for

    if telemetry is None:
        return None
    if config == "B":
        return _instrumentation(telemetry)
    return instrumentation_for(telemetry)


async def _settle() -> None:
    """Let the bus's workers start and park before the timer starts."""
    for _ in range(3):
        await asyncio.sleep(0)


async def time_bus(events: Sequence[Any], interceptors: Sequence[Interceptor]) -> dict[str, Any]:
    """Publish every event to one async subscriber; time from first publish to all handled."""
    from salesbus.bus import EventBus

    sink = Sink()
    async with EventBus(interceptors=interceptors) as bus:
        bus.subscribe(type(events[0]), sink.handle)
        await _settle()
        cpu = time.process_time()
        start = time.perf_counter()
        for event in events:
            await bus.publish(event)
        await bus.join()
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu
    expected_sum = sum(e.seq for e in events)
    if sink.count != len(events) or sink.seq_sum != expected_sum:
        raise RuntimeError(f"handled {sink.count} of {len(events)} events (sum {sink.seq_sum})")
    return {"seconds": seconds, "cpu_s": cpu, "handled": sink.count}


async def time_pipeline(
    n: int,
    concurrency: int,
    latency: float,
    db: Path,
    instrumentation: Instrumentation | None,
) -> dict[str, Any]:
    """One whole batch through ``run_batch``; time around it, as pipeline_makespan.py does.

    The provider is built by ``run_batch`` from the settings (offline rules,
    ``Simulation(latency)``), as the CLI builds it, so a tracing wrapper goes
    inside the LLM limiter, where salesbus puts it. The limiter allows every
    workflow's call at once, so latency alone paces the run.
    """
    from salesbus.agents.campaign import load_campaign
    from salesbus.orchestrator.runner import RunSettings, Simulation, run_batch
    from salesbus.orchestrator.store import open_store

    leads = companies(n)
    campaign = load_campaign(REPO / "examples" / "campaign.toml")
    settings = RunSettings(
        llm="offline",
        concurrency=concurrency,
        llm_concurrency=concurrency * STEPS,
        step_timeout=None,
        simulation=Simulation(latency=latency),
    )
    async with open_store(db) as store:
        gc.collect()
        cpu = time.process_time()
        start = time.perf_counter()
        _prepared, progress = await run_batch(
            store, leads, campaign, settings, instrumentation=instrumentation
        )
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu
    finished = progress.finished + progress.states.get("awaiting_approval", 0)
    if finished != n:
        raise RuntimeError(f"{finished} of {n} companies finished: {progress.states}")
    return {"seconds": seconds, "cpu_s": cpu, "handled": finished}


def child(args: argparse.Namespace) -> None:
    """Run one measurement and print it as one JSON line."""
    telemetry, exporter = make_telemetry(args.config, args.otlp)
    result: dict[str, Any]
    if args.child == "bus":
        ping = _make_ping_type()
        events = [ping(seq=i) for i in range(args.events)]
        interceptors = bus_interceptors(args.config, telemetry)
        # Keep the prebuilt events out of the collector's way, as bus_throughput.py does.
        gc.collect()
        gc.freeze()
        run = asyncio.run
        if args.profile_out:
            import cProfile

            profiler = cProfile.Profile()
            result = profiler.runcall(run, time_bus(events, interceptors))
            profiler.dump_stats(args.profile_out)
        else:
            result = run(time_bus(events, interceptors))
        result["interceptors"] = [type(i).__name__ for i in interceptors]
    else:
        instrumentation = pipeline_instrumentation(args.config, telemetry)
        with tempfile.TemporaryDirectory(prefix="tracing-overhead-") as tmp:
            result = asyncio.run(
                time_pipeline(
                    args.companies,
                    args.concurrency,
                    args.latency,
                    Path(tmp) / "run.db",
                    instrumentation,
                )
            )
        result["interceptors"] = (
            [type(i).__name__ for i in instrumentation.interceptors] if instrumentation else []
        )
        result["instrumented"] = instrumentation is not None
    flush = time.perf_counter()
    if telemetry is not None:
        telemetry.shutdown()  # flushes what the batch processor still holds
    result["flush_s"] = time.perf_counter() - flush
    result["spans_exported"] = exporter.exported if exporter is not None else None
    print(json.dumps(result))


# -- the parent: rounds, alternation, report --------------------------------------


@dataclass(slots=True)
class Series:
    """Every run of one configuration in one benchmark."""

    config: str
    runs: list[dict[str, Any]] = field(default_factory=list)

    def median(self, key: str = "seconds") -> float:
        return statistics.median(float(r[key]) for r in self.runs)

    def seconds(self) -> list[float]:
        return [float(r["seconds"]) for r in self.runs]

    def spans(self) -> list[int | None]:
        return [r.get("spans_exported") for r in self.runs]


def child_env() -> dict[str, str]:
    """The caller's environment without OTEL_* or proxy settings: loopback only, tracing only."""
    proxies = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("OTEL_") and key.lower() not in proxies
    }
    env["OTEL_METRICS_EXPORTER"] = "none"
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def spawn(
    benchmark: str, config: str, args: argparse.Namespace, otlp_url: str, profile_out: str = ""
) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--child",
        benchmark,
        "--config",
        config,
        "--events",
        str(args.events),
        "--companies",
        str(args.companies),
        "--latency",
        str(args.latency),
        "--concurrency",
        str(args.concurrency),
        "--otlp",
        otlp_url,
    ]
    if profile_out:
        command += ["--profile-out", profile_out]
    done = subprocess.run(
        command, capture_output=True, text=True, env=child_env(), timeout=CHILD_TIMEOUT_S
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise RuntimeError(f"{benchmark} {config} failed with exit code {done.returncode}")
    result = dict(json.loads(done.stdout.strip().splitlines()[-1]))
    result["drop_warnings"] = done.stderr.count("Queue full, dropping")
    return result


def run_all(benchmark: str, args: argparse.Namespace, receiver: Any) -> dict[str, Series]:
    """``args.runs`` rounds of every configuration, the order rotated by one each round."""
    series = {config: Series(config) for config in ORDER}
    for round_index in range(args.runs):
        shift = round_index % len(ORDER)
        for config in ORDER[shift:] + ORDER[:shift]:
            receiver.clear()
            result = spawn(benchmark, config, args, receiver.url)
            if config == "D":
                result["spans_exported"] = len(receiver.spans)
            series[config].runs.append(result)
            print(
                f"  {benchmark} round {round_index + 1} {config}: {result['seconds']:.3f} s"
                f" (cpu {result['cpu_s']:.2f} s, spans {result['spans_exported']})",
                file=sys.stderr,
                flush=True,
            )
    return series


def _overhead(series: Series, base: Series, key: str = "seconds") -> float:
    return series.median(key) / base.median(key) - 1


def _spans_cell(series: Series, expected: int | None) -> str:
    counts = series.spans()
    if all(c is None for c in counts):
        return "—"
    cell = ", ".join("—" if c is None else f"{c:,}" for c in counts)
    if expected is not None:
        cell += f" of {expected:,}"
    return cell


def installed(results: dict[str, Series], benchmark: str) -> list[str]:
    """What each configuration actually put in place, as its children reported it.

    Proves B is the bare build (nothing installed) rather than asserting it.
    """
    lines: list[str] = []
    for config, series in results.items():
        first = series.runs[0]
        interceptors = ", ".join(first["interceptors"]) or "none"
        what = f"bus interceptors: {interceptors}"
        if benchmark == "pipeline":
            what = f"instrumentation: {'yes' if first['instrumented'] else 'none'}; " + what
        lines.append(f"- {config}: {what}")
    return lines


def dropped(results: dict[str, Series], expected: int) -> list[str]:
    """Spans the batch processor discarded (its queue was full): cost it did not pay."""
    lines: list[str] = []
    for config, series in results.items():
        counts = [c for c in series.spans() if c is not None]
        if counts and min(counts) < expected:
            share = 1 - statistics.median(counts) / expected
            warnings = statistics.median(int(r["drop_warnings"]) for r in series.runs)
            lines.append(
                f"- {config}: the BatchSpanProcessor dropped {share:.0%} of the spans (median;"
                f" queue full, {warnings:,.0f} 'Queue full' warnings logged per run), so the"
                " exporter's share of the cost is understated"
            )
    return lines


def bus_table(results: dict[str, Series], events: int) -> list[str]:
    base = results["A"]
    lines = [
        "| config | what | us/event | events/s | overhead vs A | CPU s | spans exported"
        " | flush s | runs (us/event) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for config, series in results.items():
        per_event = series.median() / events * 1e6
        overhead = "—" if config == "A" else f"{_overhead(series, base):+.1%}"
        expected = events * BUS_SPANS_PER_EVENT if config in ("C", "D") else None
        lines.append(
            f"| {config} | {CONFIGS[config]} | {per_event:.2f} | {events / series.median():,.0f}"
            f" | {overhead} | {series.median('cpu_s'):.2f} | {_spans_cell(series, expected)}"
            f" | {series.median('flush_s'):.2f}"
            f" | {', '.join(f'{s / events * 1e6:.2f}' for s in series.seconds())} |"
        )
    return lines


def pipeline_table(results: dict[str, Series], args: argparse.Namespace) -> list[str]:
    base = results["A"]
    ideal = args.companies / args.concurrency * STEPS * args.latency
    lines = [
        "| config | what | makespan s | overhead vs A | over ideal | CPU s | CPU vs A"
        " | spans exported | flush s | runs (s) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for config, series in results.items():
        overhead = "—" if config == "A" else f"{_overhead(series, base):+.1%}"
        cpu_overhead = "—" if config == "A" else f"{_overhead(series, base, 'cpu_s'):+.1%}"
        lines.append(
            f"| {config} | {CONFIGS[config]} | {series.median():.3f} | {overhead}"
            f" | {series.median() / ideal - 1:+.1%} | {series.median('cpu_s'):.2f}"
            f" | {cpu_overhead} | {_spans_cell(series, None)} | {series.median('flush_s'):.2f}"
            f" | {', '.join(f'{s:.3f}' for s in series.seconds())} |"
        )
    return lines


def verdicts(bus: dict[str, Series], pipeline: dict[str, Series]) -> list[str]:
    """The issue's targets, each met or not, with the number behind it."""
    lines: list[str] = []
    for name, results in (("bus throughput", bus), ("pipeline makespan", pipeline)):
        base = results["A"]
        targets = (("B", OFF_TARGET), ("B'", OFF_TARGET), ("C", ON_TARGET), ("D", ON_TARGET))
        for config, target in targets:
            overhead = _overhead(results[config], base)
            verdict = "met" if overhead < target else "NOT met"
            extra = " (informational: not what ships)" if config == "B'" else ""
            first = results[config].runs[0]
            if not first["interceptors"] and not first.get("instrumented", False):
                seconds = base.seconds()
                extra = (
                    f" (nothing installed, the same code as A: the difference is noise;"
                    f" A's own runs spread {max(seconds) / min(seconds) - 1:.0%})"
                )
            lines.append(f"{name}, {config} < {target:.0%}: **{verdict}** ({overhead:+.1%}){extra}")
    return lines


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
        f"{os.cpu_count()} cores, {platform.machine()}, {cpu},"
        f" CPython {platform.python_version()}, opentelemetry-sdk"
        f" {metadata.version('opentelemetry-sdk')}"
    )


def open_receiver() -> Any:
    """The loopback OTLP/HTTP receiver from the test fakes (127.0.0.1, ephemeral port)."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    # Imported by name: tests/ is not one of the type-checked packages, so mypy
    # should not follow into it from here.
    fakes = importlib.import_module("tests.fakes.otlp")
    return fakes.OtlpReceiver()


def profile(args: argparse.Namespace) -> int:
    """cProfile of the bus hot path under one configuration, for the overhead's reasons."""
    import pstats

    with open_receiver() as receiver, tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "bus.prof")
        result = spawn("bus", args.profile, args, receiver.url, profile_out=out)
        print(f"# cProfile, bus, config {args.profile}, {args.events:,} events: {result}")
        stats = pstats.Stats(out)
        stats.strip_dirs().sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(40)
    return 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=50_000, help="bus events per run")
    parser.add_argument("--companies", type=int, default=300, help="companies per pipeline run")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per model call")
    parser.add_argument("--concurrency", type=int, default=100, help="workflows in flight")
    parser.add_argument("--runs", type=int, default=3, help="rounds; the median counts")
    parser.add_argument(
        "--only", choices=("bus", "pipeline"), help="run one benchmark only (default: both)"
    )
    parser.add_argument(
        "--profile", choices=ORDER, help="instead: cProfile the bus under one configuration"
    )
    parser.add_argument("--child", choices=("bus", "pipeline"), help=argparse.SUPPRESS)
    parser.add_argument("--config", choices=ORDER, help=argparse.SUPPRESS)
    parser.add_argument("--otlp", help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.events < 1 or args.companies < 1 or args.runs < 1 or args.concurrency < 1:
        parser.error("--events, --companies, --concurrency and --runs must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        child(args)
        return 0
    if args.profile:
        return profile(args)
    started = datetime.now(UTC)
    bus: dict[str, Series] = {}
    pipeline: dict[str, Series] = {}
    with open_receiver() as receiver:
        if args.only in (None, "bus"):
            print(f"bus: {args.events:,} events x {args.runs} rounds", file=sys.stderr)
            bus = run_all("bus", args, receiver)
        if args.only in (None, "pipeline"):
            print(f"pipeline: {args.companies} companies x {args.runs} rounds", file=sys.stderr)
            pipeline = run_all("pipeline", args, receiver)
    out = [
        f"tracing overhead — {started:%Y-%m-%d %H:%M} UTC — median of {args.runs} runs,"
        " configurations alternating, each run in a fresh interpreter",
        f"machine: {machine()}",
    ]
    if bus:
        out += ["", f"### Bus throughput: one async subscriber, {args.events:,} events", ""]
        out += bus_table(bus, args.events)
        out += ["", "installed:", *installed(bus, "bus")]
        out += dropped(bus, args.events * BUS_SPANS_PER_EVENT)
    if pipeline:
        ideal = args.companies / args.concurrency * STEPS * args.latency
        out += [
            "",
            f"### Pipeline makespan: {args.companies} companies, concurrency"
            f" {args.concurrency}, {args.latency} s per model call (ideal {ideal:.2f} s)",
            "",
        ]
        out += pipeline_table(pipeline, args)
        out += ["", "installed:", *installed(pipeline, "pipeline")]
    if bus and pipeline:
        out += ["", "targets:"] + [f"- {line}" for line in verdicts(bus, pipeline)]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
