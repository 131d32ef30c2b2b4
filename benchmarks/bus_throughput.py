"""Throughput and concurrency of ``salesbus.bus.EventBus`` against a floor and its peers.

Run it with ``make bench`` (which builds ``.venv-bench`` with the peers) or directly::

    python benchmarks/bus_throughput.py [--events N] [--runs 3] [--markdown]

Why it is built the way it is:

* **Same events for everyone.** The ``Ping`` events (a ``salesbus.bus.Event``
  subclass) are built once, in this process, before anything is timed. Every
  contender is handed those very objects; a peer that needs its own envelope type
  (bubus) gets envelopes wrapping them, also built before its timer starts.
* **Process-fresh, loop-fresh.** Each single measurement runs in a child forked
  from this process: it inherits the same event objects, but none of the garbage,
  allocator state or warm caches that an earlier contender left behind, and it
  runs its contender in a new event loop (``asyncio.run``).
* **Equivalent work.** Every contender delivers every event to the same async
  handler and the timer stops only once all of them have been handled. Each
  subscriber counts its events and sums their sequence numbers; a contender that
  lost or duplicated an event fails the whole run loudly.
* **CPU time where CPU is what is measured.** Throughput and construction are
  timed with ``time.process_time`` (this process's CPU seconds), so other jobs
  on a shared machine inflate them far less than wall time; the sleeping
  scenario (c) is timed on the wall clock.
* **Alternation and medians.** Each scenario is run ``--runs`` times, cycling
  through all contenders in every round (in a rotating order), so machine noise
  hits everyone alike; the reported figure is the median.
* **The floor.** A bare ``asyncio.Queue`` producer/consumer, bounded like a bus
  inbox (1024), is the least any asyncio bus can cost; salesbus is judged by its
  ratio to it, and against the peers (pyee, bubus, autogen-core) when installed.
* **The old code in the same run.** ``--baseline REV`` (default ``main``) copies
  that revision's ``bus/`` out of git into a temporary directory and imports it
  under another name (the bus imports nothing else of ours), so "no worse than
  before" is a ratio between two contenders of one invocation, not between two
  runs on a noisy machine.
"""

import argparse
import asyncio
import contextlib
import gc
import importlib.util
import io
import os
import pickle
import platform
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import traceback
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from typing import Any

from salesbus.bus import Event, EventBus

# autogen-core traces every publish through OpenTelemetry unless told not to; the
# other contenders trace nothing, so each one is measured without tracing.
os.environ.setdefault("AUTOGEN_DISABLE_RUNTIME_TRACING", "true")

QUEUE_BOUND = 1024
"""The floor's queue bound: the same as an EventBus inbox's default ``max_pending``."""

BUBUS_WINDOW = 40
"""Events bubus may have dispatched but unfinished (its default caps pending at 100)."""

SLEEP_SECONDS = 0.02
"""What each handler of the concurrency scenario awaits."""

CONCURRENCY_TARGET_SECONDS = 0.030
ISOLATED_RATIO_TARGET = 1.6
SHARED_RATIO_TARGET = 1.15
ROUNDTRIP_RATIO_TARGET = 1.5
CONSTRUCTION_TARGET_US = 1.5

_clock: list[Callable[[], float]] = [time.perf_counter]


def clock() -> float:
    """The timer of the current measurement (see ``_measure_here``)."""
    return _clock[0]()


NO_ISOLATION = "salesbus no-isolation"
BASELINE = "salesbus@baseline"


# -- the work ----------------------------------------------------------------------


class Ping(Event):
    """The benchmark's event: a real salesbus event, with ids and a timestamp."""

    type_name = "bench.Ping"
    seq: int


class Sink:
    """One subscriber's handler state: how many events it saw and their sequence sum.

    The count catches lost events; the sum also catches an event delivered twice in
    place of another one.
    """

    __slots__ = ("count", "seq_sum")

    def __init__(self) -> None:
        self.count = 0
        self.seq_sum = 0

    async def handle(self, event: Ping) -> None:
        """The handler every contender awaits: as cheap as an async handler can be."""
        self.count += 1
        self.seq_sum += event.seq


class SleepingSink(Sink):
    """A handler that waits on I/O (a sleep), to show whether deliveries overlap."""

    __slots__ = ()

    async def handle(self, event: Ping) -> None:
        await asyncio.sleep(SLEEP_SECONDS)
        self.count += 1
        self.seq_sum += event.seq


Runner = Callable[[Sequence[Ping], Sequence[Sink], int, bool], Coroutine[Any, Any, float]]
"""``run(events, sinks, concurrency, roundtrip)``: set up, time, tear down.

Times publish-until-all-handled; with ``roundtrip``, each event is published and
waited for (until handled) before the next. Returns the timed seconds; set-up
and tear-down stay outside the timer.
"""


@dataclass(frozen=True, slots=True)
class Contender:
    """Something that can move events to handlers, and what to say about how it was run."""

    name: str
    run: Runner
    version: str
    max_events: int | None = None
    """Cap on events for the throughput scenarios, for peers too slow to run them all."""
    note: str = ""
    roundtrip: bool = True
    """Takes part in the round-trip scenario (d)."""


@dataclass(frozen=True, slots=True)
class Scenario:
    """One workload, run identically by every contender."""

    key: str
    title: str
    events: int
    subscribers: int
    concurrency: int
    sleeping: bool
    roundtrip: bool = False

    @property
    def throughput(self) -> bool:
        """Throughput scenarios report per-event figures; the concurrency one wall time."""
        return not self.sleeping


@dataclass(frozen=True, slots=True)
class Measurement:
    """What a forked child reports back: the timed seconds and what each subscriber saw."""

    seconds: float
    events: int
    tallies: tuple[tuple[int, int], ...]
    """(count, seq_sum) per subscriber."""


@dataclass(slots=True)
class Outcome:
    """All runs of one contender in one scenario."""

    contender: Contender
    events: int
    seconds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


# -- contenders ---------------------------------------------------------------------


async def _settle() -> None:
    """Let freshly created consumer tasks start and park before the timer starts."""
    for _ in range(3):
        await asyncio.sleep(0)


async def run_queue(
    events: Sequence[Ping], sinks: Sequence[Sink], concurrency: int, roundtrip: bool
) -> float:
    """The floor: one bounded ``asyncio.Queue`` per subscriber, ``concurrency`` consumers each.

    No routing, no context capture, no failure isolation: what is left is the
    cheapest way asyncio can hand an object to an awaited handler and know when
    it is done.
    """

    async def consume(
        queue: asyncio.Queue[Ping], handle: Callable[[Ping], Awaitable[None]]
    ) -> None:
        while True:
            event = await queue.get()
            try:
                await handle(event)
            finally:
                queue.task_done()

    queues: list[asyncio.Queue[Ping]] = [asyncio.Queue(maxsize=QUEUE_BOUND) for _ in sinks]
    consumers = [
        asyncio.create_task(consume(queue, sink.handle))
        for queue, sink in zip(queues, sinks, strict=True)
        for _ in range(concurrency)
    ]
    await _settle()
    start = clock()
    if roundtrip:
        for event in events:
            for queue in queues:
                await queue.put(event)
            for queue in queues:
                await queue.join()
    else:
        for event in events:
            for queue in queues:
                await queue.put(event)
        for queue in queues:
            await queue.join()
    elapsed = clock() - start
    for consumer in consumers:
        consumer.cancel()
    await asyncio.gather(*consumers, return_exceptions=True)
    return elapsed


def salesbus_runner(bus_class: type[Any], **options: Any) -> Runner:
    """salesbus as documented: one subscription per subscriber, publish, then ``join``."""

    async def run(
        events: Sequence[Ping], sinks: Sequence[Sink], concurrency: int, roundtrip: bool
    ) -> float:
        async with bus_class() as bus:
            for sink in sinks:
                bus.subscribe(Ping, sink.handle, concurrency=concurrency, **options)
            await _settle()
            start = clock()
            if roundtrip:
                for event in events:
                    await bus.publish(event)
                    await bus.join()
            else:
                for event in events:
                    await bus.publish(event)
                await bus.join()
            return clock() - start  # taken before leaving the block drains

    return run


def load_baseline(revision: str) -> tuple[Any, str]:
    """``bus/`` as it was at ``revision``, imported as ``salesbus_baseline_bus``; and its commit.

    :raises ImportError: git could not produce it.
    """
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", revision],
            capture_output=True,
            text=True,
            check=True,
            cwd=here,
        ).stdout.strip()
        archive = subprocess.run(
            ["git", "archive", "--format=tar", commit, "bus"],
            capture_output=True,
            check=True,
            cwd=os.path.dirname(here),
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise ImportError(f"git could not export bus/ at {revision!r}: {exc}") from exc
    target = tempfile.mkdtemp(prefix="salesbus-baseline-")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    package = os.path.join(target, "bus")
    spec = importlib.util.spec_from_file_location(
        "salesbus_baseline_bus",
        os.path.join(package, "__init__.py"),
        submodule_search_locations=[package],
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module, commit


def load_pyee() -> Contender:
    """pyee's ``AsyncIOEventEmitter``: ``emit`` schedules each async listener as a task."""
    from pyee.asyncio import AsyncIOEventEmitter

    async def run(
        events: Sequence[Ping], sinks: Sequence[Sink], concurrency: int, roundtrip: bool
    ) -> float:
        emitter = AsyncIOEventEmitter()
        for sink in sinks:
            emitter.add_listener("ping", sink.handle)
        await _settle()
        start = clock()
        for event in events:
            emitter.emit("ping", event)
            if roundtrip:
                await emitter.wait_for_complete()
        await emitter.wait_for_complete()
        elapsed = clock() - start
        emitter.remove_all_listeners()
        return elapsed

    return Contender(
        "pyee",
        run,
        metadata.version("pyee"),
        note="a task per listener per emit; no bound, no concurrency limit",
    )


def load_bubus(max_events: int | None) -> Contender:
    """bubus's ``EventBus``: events must be its own ``BaseEvent``s, so each wraps a Ping."""
    from bubus import BaseEvent
    from bubus import EventBus as BubusBus

    class PingEnvelope(BaseEvent[None]):
        """Carries the shared Ping object (not a copy) through bubus."""

        payload: Ping

    def deliver_to(sink: Sink, index: int) -> Callable[[PingEnvelope], Awaitable[None]]:
        async def deliver(envelope: PingEnvelope) -> None:
            await sink.handle(envelope.payload)

        # bubus warns when two handlers of one event share a name.
        deliver.__name__ = deliver.__qualname__ = f"sink_{index}"
        return deliver

    async def run(
        events: Sequence[Ping], sinks: Sequence[Sink], concurrency: int, roundtrip: bool
    ) -> float:
        # Default settings: bounded history (50) and queue (50), which make dispatch
        # refuse more than 100 unfinished events; so the publisher keeps a window of
        # BUBUS_WINDOW in flight, awaiting the oldest before dispatching past it. With
        # an unbounded history instead, bubus grows superlinearly with the backlog.
        bus = BubusBus(name="bench")  # serial handlers: faster than parallel here
        for index, sink in enumerate(sinks):
            bus.on(PingEnvelope, deliver_to(sink, index))
        envelopes = [PingEnvelope(payload=event) for event in events]
        if any(e.payload is not o for e, o in zip(envelopes, events, strict=True)):
            raise AssertionError("bubus copied the events instead of carrying them")
        await _settle()
        start = clock()
        window: deque[PingEnvelope] = deque()
        for envelope in envelopes:
            if roundtrip:
                await bus.dispatch(envelope)
                continue
            if len(window) >= BUBUS_WINDOW:
                await window.popleft()
            window.append(bus.dispatch(envelope))
        while window:
            await window.popleft()
        elapsed = clock() - start
        await bus.stop(clear=True)
        return elapsed

    return Contender(
        "bubus",
        run,
        metadata.version("bubus"),
        max_events=max_events,
        note=(
            f"default (bounded) history, {BUBUS_WINDOW} events in flight; handles one event"
            " at a time, its handlers one after another (the default; faster than parallel)"
        ),
    )


def load_autogen(max_events: int | None) -> Contender:
    """autogen-core's ``SingleThreadedAgentRuntime``: one ``RoutedAgent`` type per subscriber."""
    from autogen_core import (
        AgentId,
        MessageContext,
        RoutedAgent,
        SingleThreadedAgentRuntime,
        TopicId,
        TypeSubscription,
        message_handler,
    )

    class PingAgent(RoutedAgent):
        """Routes Ping messages to a Sink's handler."""

        def __init__(self, sink: Sink) -> None:
            super().__init__("benchmark sink")
            self._sink = sink

        @message_handler
        async def on_ping(self, message: Ping, ctx: MessageContext) -> None:
            await self._sink.handle(message)

    def factory(sink: Sink) -> Callable[[], PingAgent]:
        return lambda: PingAgent(sink)

    async def run(
        events: Sequence[Ping], sinks: Sequence[Sink], concurrency: int, roundtrip: bool
    ) -> float:
        runtime = SingleThreadedAgentRuntime()
        topic = TopicId("bench", "default")
        for index, sink in enumerate(sinks):
            agent_type = f"sink{index}"
            await PingAgent.register(runtime, agent_type, factory(sink))
            await runtime.add_subscription(TypeSubscription("bench", agent_type))
        runtime.start()
        for index in range(len(sinks)):  # instantiate the agents before the timer
            await runtime.try_get_underlying_agent_instance(AgentId(f"sink{index}", "default"))
        await _settle()
        start = clock()
        for event in events:
            await runtime.publish_message(event, topic)
        await runtime.stop_when_idle()
        elapsed = clock() - start
        await runtime.close()
        return elapsed

    return Contender(
        "autogen-core",
        run,
        metadata.version("autogen-core"),
        max_events=max_events,
        note="publish_message to a topic; a task per published message; tracing off",
        roundtrip=False,
    )


def load_contenders(
    bubus_events: int | None, autogen_events: int | None, baseline: str
) -> tuple[list[Contender], list[str]]:
    """The floor, salesbus (as now and at ``baseline``), and whichever peers import."""
    contenders = [
        Contender(
            "asyncio.Queue",
            run_queue,
            platform.python_version(),
            note=f"floor: bounded queue ({QUEUE_BOUND}) per subscriber, awaiting consumers",
        ),
        Contender(
            "salesbus",
            salesbus_runner(EventBus),
            metadata.version("salesbus"),
            note="EventBus defaults (inbox 1024, in-memory transport, no interceptors,"
            " context isolated per delivery)",
        ),
        Contender(
            NO_ISOLATION,
            salesbus_runner(EventBus, isolate_context=False),
            metadata.version("salesbus"),
            note="the same with isolate_context=False (handlers run in the worker's context)",
        ),
    ]
    skipped: list[str] = []
    if baseline:
        try:
            module, commit = load_baseline(baseline)
        except ImportError as exc:
            skipped.append(f"salesbus@{baseline} skipped: {exc}")
        else:
            contenders.insert(
                3,
                Contender(
                    BASELINE,
                    salesbus_runner(module.EventBus),
                    commit,
                    note=f"bus/ as of {baseline} ({commit}), defaults, same events and handlers",
                ),
            )
    loaders: list[tuple[str, Callable[[], Contender]]] = [
        ("pyee", load_pyee),
        ("bubus", lambda: load_bubus(bubus_events)),
        ("autogen-core", lambda: load_autogen(autogen_events)),
    ]
    for name, load in loaders:
        try:
            contenders.append(load())
        except ImportError as exc:
            skipped.append(f"{name} skipped: not importable ({exc}); `make bench` installs it")
    return contenders, skipped


# -- running ------------------------------------------------------------------------


def _measure_here(contender: Contender, scenario: Scenario, events: Sequence[Ping]) -> Measurement:
    """One timed run in this process, in a new event loop."""
    sink_type = SleepingSink if scenario.sleeping else Sink
    # CPU-bound scenarios are timed in CPU seconds of this (single-threaded)
    # process: on a shared machine wall time also counts the time other
    # processes held the CPU. The sleeping scenario is about wall time.
    _clock[0] = time.process_time if scenario.throughput else time.perf_counter
    sinks = [sink_type() for _ in range(scenario.subscribers)]
    # Touch every event once so copy-on-write page faults after the fork are not timed.
    sum(event.seq for event in events)
    seconds = asyncio.run(contender.run(events, sinks, scenario.concurrency, scenario.roundtrip))
    return Measurement(seconds, len(events), tuple((s.count, s.seq_sum) for s in sinks))


def measure(contender: Contender, scenario: Scenario, events: Sequence[Ping]) -> Measurement:
    """One timed run in a forked child: same event objects, fresh heap and event loop."""
    if not hasattr(os, "fork"):
        return _measure_here(contender, scenario, events)
    sys.stdout.flush()
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: measure, report, and leave without running exit hooks
        os.close(read_end)
        status = 0
        try:
            payload: object = _measure_here(contender, scenario, events)
        except BaseException:
            payload = traceback.format_exc()
            status = 1
        with os.fdopen(write_end, "wb") as out:
            pickle.dump(payload, out)
        os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as result:
        data = result.read()
    os.waitpid(pid, 0)
    try:
        outcome = pickle.loads(data)
    except Exception as exc:
        raise RuntimeError(f"{contender.name} crashed in {scenario.title}") from exc
    if isinstance(outcome, str):
        raise RuntimeError(f"{contender.name} failed in {scenario.title}:\n{outcome}")
    assert isinstance(outcome, Measurement)
    return outcome


def verify(contender: Contender, scenario: Scenario, measurement: Measurement) -> None:
    """Fail loudly unless every subscriber handled every event exactly once."""
    n = measurement.events
    expected = (n, n * (n - 1) // 2)
    for index, tally in enumerate(measurement.tallies):
        if tally != expected:
            raise SystemExit(
                f"FAIL: {contender.name} in {scenario.title}: subscriber {index} handled"
                f" {tally[0]} events (seq sum {tally[1]}), expected {expected[0]}"
                f" (seq sum {expected[1]}): events were lost or duplicated"
            )


def run_scenario(
    scenario: Scenario, contenders: Sequence[Contender], events: Sequence[Ping], runs: int
) -> list[Outcome]:
    outcomes = [
        Outcome(c, min(scenario.events, c.max_events or scenario.events))
        if scenario.throughput
        else Outcome(c, scenario.events)
        for c in contenders
        if c.roundtrip or not scenario.roundtrip
    ]
    for round_index in range(runs):
        shift = round_index % len(outcomes)
        for outcome in outcomes[shift:] + outcomes[:shift]:
            measurement = measure(outcome.contender, scenario, events[: outcome.events])
            verify(outcome.contender, scenario, measurement)
            outcome.seconds.append(measurement.seconds)
            print(
                f"  {scenario.key} round {round_index + 1}/{runs} {outcome.contender.name:<13}"
                f" {outcome.events:>7} events {measurement.seconds * 1e3:>10.1f} ms",
                file=sys.stderr,
                flush=True,
            )
    return outcomes


# -- reporting ----------------------------------------------------------------------


def machine() -> dict[str, str]:
    """What the figures were measured on, in the terms of ``date``, ``nproc``, ``uname -m``."""
    cpu = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    try:
        nproc = str(len(os.sched_getaffinity(0)))
    except AttributeError:
        nproc = str(os.cpu_count())
    try:
        revision = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
            cwd=os.path.dirname(os.path.abspath(__file__)),
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        revision = "unknown"
    return {
        "date": datetime.now().astimezone().strftime("%a %d %b %Y %H:%M:%S %Z"),
        "nproc": nproc,
        "uname -m": platform.machine(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "cpu": cpu,
        "revision": revision,
    }


Row = tuple[str, ...]
"""One table row, already formatted."""


def _ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}x"


def throughput_rows(scenario: Scenario, outcomes: Sequence[Outcome]) -> tuple[list[str], list[Row]]:
    """Per-event figures; with several subscribers, per delivered and per published event."""
    floor = _find(outcomes, "asyncio.Queue")
    ours = _find(outcomes, "salesbus")
    fanout = scenario.subscribers > 1
    header = ["contender", "events"]
    header += ["us/delivery", "us/publish", "deliveries/s"] if fanout else ["us/event", "events/s"]
    header += [
        "vs asyncio.Queue",
        "salesbus speed-up",
        "runs (us/delivery)" if fanout else "runs (us/event)",
    ]
    rows: list[Row] = []
    for outcome in outcomes:
        deliveries = outcome.events * scenario.subscribers
        per_delivery = outcome.median / deliveries * 1e6
        cells = [outcome.contender.name, _events_cell(outcome, scenario)]
        if fanout:
            cells += [
                f"{per_delivery:.2f}",
                f"{outcome.median / outcome.events * 1e6:.2f}",
                f"{deliveries / outcome.median:,.0f}",
            ]
        else:
            cells += [f"{per_delivery:.2f}", f"{deliveries / outcome.median:,.0f}"]
        cells.append(_ratio(per_delivery, _per_delivery(floor, scenario)) if floor else "n/a")
        if ours is None or outcome is ours:
            cells.append("—")
        else:
            cells.append(_ratio(per_delivery, _per_delivery(ours, scenario)))
        cells.append(", ".join(f"{s / deliveries * 1e6:.2f}" for s in outcome.seconds))
        rows.append(tuple(cells))
    return header, rows


def concurrency_rows(
    scenario: Scenario, outcomes: Sequence[Outcome]
) -> tuple[list[str], list[Row]]:
    """Wall time for all sleeping handlers: near one sleep if they overlap, N sleeps if not."""
    ours = _find(outcomes, "salesbus")
    header = ["contender", "events", "wall ms", "target < 30 ms", "salesbus speed-up", "runs (ms)"]
    rows: list[Row] = []
    for outcome in outcomes:
        speedup = "—" if ours is None or outcome is ours else _ratio(outcome.median, ours.median)
        rows.append(
            (
                outcome.contender.name,
                str(outcome.events),
                f"{outcome.median * 1e3:.1f}",
                "met" if outcome.median < CONCURRENCY_TARGET_SECONDS else "not met",
                speedup,
                ", ".join(f"{s * 1e3:.1f}" for s in outcome.seconds),
            )
        )
    return header, rows


def _find(outcomes: Sequence[Outcome], name: str) -> Outcome | None:
    return next((o for o in outcomes if o.contender.name == name), None)


def _per_delivery(outcome: Outcome, scenario: Scenario) -> float:
    return outcome.median / (outcome.events * scenario.subscribers) * 1e6


def _events_cell(outcome: Outcome, scenario: Scenario) -> str:
    capped = outcome.events < scenario.events
    return f"{outcome.events:,}{' (capped)' if capped else ''}"


def render(header: Sequence[str], rows: Sequence[Row], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*row) for row in rows]
    return "\n".join(lines)


RATIO_TARGETS: list[tuple[str, str, str, float, str]] = [
    ("a", "salesbus", "asyncio.Queue", ISOLATED_RATIO_TARGET, "fire-and-forget, context isolated"),
    ("a", NO_ISOLATION, "asyncio.Queue", SHARED_RATIO_TARGET, "fire-and-forget, no isolation"),
    ("d", "salesbus", "asyncio.Queue", ROUNDTRIP_RATIO_TARGET, "awaited round trip"),
    ("d", NO_ISOLATION, "asyncio.Queue", ROUNDTRIP_RATIO_TARGET, "round trip, no isolation"),
    ("a", "salesbus", BASELINE, 1.0, "one subscriber, against the baseline"),
    ("b", "salesbus", BASELINE, 1.0, "fan-out, no worse than the baseline"),
    ("c", "salesbus", BASELINE, 1.0, "40 x 20 ms handlers, no worse than the baseline"),
    ("d", "salesbus", BASELINE, 1.0, "round trip, against the baseline"),
]
"""(scenario, contender, compared with, at most this ratio, what it means)."""


def targets(
    results: dict[str, tuple[Scenario, list[Outcome]]], construction: dict[str, list[float]]
) -> list[str]:
    """The issue's targets, each said to be met or not, with the numbers behind it."""
    lines: list[str] = []
    for key, name, base_name, limit, what in RATIO_TARGETS:
        if key not in results:
            continue
        scenario, outcomes = results[key]
        ours, base = _find(outcomes, name), _find(outcomes, base_name)
        if ours is None or base is None:
            continue
        ratio = _per_delivery(ours, scenario) / _per_delivery(base, scenario)
        verdict = "met" if ratio <= limit else "NOT met"
        lines.append(
            f"({key}) {what}: {name} / {base_name} = {ratio:.2f}x (target <= {limit:g}x): {verdict}"
        )
    for key in ("a", "b"):
        if key not in results:
            continue
        scenario, outcomes = results[key]
        ours = _find(outcomes, "salesbus")
        peers = [o for o in outcomes if o.contender.name in ("pyee", "bubus", "autogen-core")]
        if ours is None:
            continue
        for peer in peers:
            speedup = _per_delivery(peer, scenario) / _per_delivery(ours, scenario)
            verdict = "met" if speedup > 1 else "NOT met"
            lines.append(
                f"({key}) salesbus faster than {peer.contender.name}: {verdict}"
                f" ({speedup:.2f}x, per delivered event)"
            )
    if "c" in results:
        scenario, outcomes = results["c"]
        ours = _find(outcomes, "salesbus")
        if ours:
            verdict = "met" if ours.median < CONCURRENCY_TARGET_SECONDS else "NOT met"
            lines.append(
                f"(c) salesbus handles {scenario.events} x {SLEEP_SECONDS * 1e3:g} ms handlers"
                f" in < {CONCURRENCY_TARGET_SECONDS * 1e3:g} ms: {verdict}"
                f" ({ours.median * 1e3:.1f} ms)"
            )
    for name, runs in construction.items():
        if name.startswith("salesbus "):
            median = statistics.median(runs)
            verdict = "met" if median <= CONSTRUCTION_TARGET_US else "NOT met"
            lines.append(
                f"(e) {name}: {median:.2f} us (target <= {CONSTRUCTION_TARGET_US:g} us): {verdict}"
            )
    return lines


# -- event construction -------------------------------------------------------------


def construction_makers(baseline: Any | None) -> dict[str, Callable[[int], object]]:
    """Ways to build a three-field event: validated and trusted now, validated at the baseline."""

    class Order(Event):
        type_name = "bench.Order"
        order_id: str
        quantity: int
        price: float

    makers: dict[str, Callable[[int], object]] = {
        "salesbus Order(...) validated": lambda i: Order(order_id="o", quantity=i, price=9.5),
        "salesbus Order.trusted(...)": lambda i: Order.trusted(order_id="o", quantity=i, price=9.5),
    }
    if baseline is not None:

        class BaselineOrder(baseline.Event):  # type: ignore[name-defined,misc]
            type_name = "bench.Order"
            order_id: str
            quantity: int
            price: float

        makers["baseline Order(...) validated"] = lambda i: BaselineOrder(
            order_id="o", quantity=i, price=9.5
        )
    return makers


def measure_construction(
    makers: dict[str, Callable[[int], object]], runs: int, count: int = 20_000
) -> dict[str, list[float]]:
    """CPU microseconds per event (loop included), each way ``runs`` times, interleaved."""
    _clock[0] = time.process_time
    results: dict[str, list[float]] = {name: [] for name in makers}
    for _ in range(runs):
        for name, make in makers.items():
            start = clock()
            for i in range(count):
                make(i)
            results[name].append((clock() - start) / count * 1e6)
    return results


def construction_rows(results: dict[str, list[float]]) -> tuple[list[str], list[Row]]:
    header = ["how", "us/event (median)", "runs (us/event)"]
    rows = [
        (name, f"{statistics.median(runs):.2f}", ", ".join(f"{r:.2f}" for r in runs))
        for name, runs in results.items()
    ]
    return header, rows


# -- entry point --------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--events", type=int, default=100_000, help="events for (a); (b) publishes a fifth of them"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per contender; the median counts")
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    parser.add_argument(
        "--bubus-events",
        type=int,
        default=2_000,
        help="cap on bubus's events in (a) and (b), ~2 ms each; 0: no cap",
    )
    parser.add_argument(
        "--autogen-events",
        type=int,
        default=20_000,
        help="cap on autogen-core's events in (a) and (b), ~0.2 ms each; 0: no cap",
    )
    parser.add_argument(
        "--scenarios",
        default="abcde",
        help="which scenarios to run, e.g. 'ab' (default: abcde; e is event construction)",
    )
    parser.add_argument(
        "--only", default="", help="comma-separated contender names to run (default: all)"
    )
    parser.add_argument(
        "--baseline",
        default="main",
        help="git revision whose bus/ runs as salesbus@baseline ('' to skip; default: main)",
    )
    args = parser.parse_args(argv)
    if args.events < 10 or args.runs < 1:
        parser.error("--events must be at least 10 and --runs at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    contenders, skipped = load_contenders(
        args.bubus_events or None, args.autogen_events or None, args.baseline
    )
    if args.only:
        wanted = {name.strip() for name in args.only.split(",")}
        contenders = [c for c in contenders if c.name in wanted]
    scenarios = [
        Scenario("a", "(a) one async subscriber", args.events, 1, 1, sleeping=False),
        Scenario(
            "b", "(b) fan-out to 10 async subscribers", args.events // 5, 10, 1, sleeping=False
        ),
        Scenario(
            "c", "(c) 40 events, handler sleeps 20 ms, concurrency 40", 40, 1, 40, sleeping=True
        ),
        Scenario(
            "d",
            "(d) awaited round trip: publish, wait until handled, next",
            args.events // 10,
            1,
            1,
            sleeping=False,
            roundtrip=True,
        ),
    ]
    scenarios = [s for s in scenarios if s.key in args.scenarios]
    if not contenders or not (scenarios or "e" in args.scenarios):
        print("nothing to run: check --only and --scenarios", file=sys.stderr)
        return 2

    # Build the events once, before any timing, and move them out of the garbage
    # collector's way so that no contender pays for scanning them.
    events = [Ping(seq=i) for i in range(max((s.events for s in scenarios), default=0))]
    gc.collect()
    gc.freeze()

    results: dict[str, tuple[Scenario, list[Outcome]]] = {}
    for scenario in scenarios:
        print(f"{scenario.title} ...", file=sys.stderr, flush=True)
        results[scenario.key] = (scenario, run_scenario(scenario, contenders, events, args.runs))

    construction: dict[str, list[float]] = {}
    if "e" in args.scenarios:
        print("(e) event construction ...", file=sys.stderr, flush=True)
        baseline = sys.modules.get("salesbus_baseline_bus")
        construction = measure_construction(construction_makers(baseline), max(args.runs, 3))

    info = machine()
    out: list[str] = []
    out.append(f"salesbus bus benchmark — median of {args.runs} runs, alternating contenders")
    out.append("; ".join(f"{k}: {v}" for k, v in info.items()))
    out.append("versions: " + ", ".join(f"{c.name} {c.version}" for c in contenders))
    for note in skipped:
        out.append(f"note: {note}")
    for scenario, outcomes in results.values():
        out.append("")
        heading = scenario.title
        if scenario.key == "b":
            heading += (
                f": {scenario.events:,} events x {scenario.subscribers} subscribers;"
                " us/delivery = per delivered event, us/publish = per published event"
            )
        elif scenario.key == "a":
            heading += f": {scenario.events:,} events"
        out.append(f"### {heading}" if args.markdown else heading)
        out.append("")
        header, rows = (
            throughput_rows(scenario, outcomes)
            if scenario.throughput
            else concurrency_rows(scenario, outcomes)
        )
        out.append(render(header, rows, args.markdown))
        capped = [o for o in outcomes if o.events < scenario.events]
        for outcome in capped:
            out.append(
                f"\n{outcome.contender.name} ran on {outcome.events:,} of {scenario.events:,}"
                " events (too slow for all); its figures are per event all the same."
            )
    if construction:
        out.append("")
        title = "(e) event construction: a three-field event, 20,000 in a loop"
        out.append(f"### {title}" if args.markdown else title)
        out.append("")
        out.append(render(*construction_rows(construction), args.markdown))
    out.append("")
    out.append("contenders:")
    out.extend(f"- {c.name}: {c.note}" for c in contenders)
    out.append("")
    out.append("targets:")
    out.extend(f"- {line}" for line in targets(results, construction))
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
