"""What tracing costs: bus hops and pipeline makespan, traced and untraced, in one invocation.

    .venv/bin/python benchmarks/tracing_overhead.py [--events 50000] [--companies 2000]
        [--latency 0.2] [--concurrency 200] [--runs 3] [--only bus|pipeline]
        [--profile CONFIG]   (the bus's configuration, or the pipeline's with --only pipeline)

The targets (issue 15) are ratios to the untraced run measured in the same
invocation, so every configuration is measured in alternation with it:

Bus (one async subscriber, pre-built events that each carry a workflow's W3C
context, as every event of a traced run does):

* **A** untraced: ``EventBus()``, no interceptors.
* **B** tracing on, default mode, as a traced salesbus run sets the bus up
  (``instrumentation_for(handle).interceptors``, i.e. ``bus_tracing(handle)``:
  none, since events carry their context themselves), 100% sampling.
  Target ≤ 1.25×.
* **C** hop spans on (``bus_tracing(hops=True)``), 1% sampling the OTel way
  (``OTEL_TRACES_SAMPLER=parentbased_traceidratio``, ``_ARG=0.01``): 1% of the
  events carry a sampled context. Target ≤ 2×.
* **D** hop spans on at 100%: informational, why hop spans are off by default.
* **P** an interceptor whose two scopes only ``await call_next(event)``:
  informational, the price the bus itself charges for any interceptor (two
  coroutine layers per scope), the floor under C.

Pipeline (``run_batch`` of the offline rules with a simulated model latency):

* **A** untraced: ``instrumentation=None``.
* **B** tracing on, default mode, 100% sampling, an exporter that drops every
  batch behind the ``BatchSpanProcessor`` salesbus builds. Targets: makespan
  ≤ +10%, CPU ≤ +25%.
* **C** the same with ``configure_telemetry(receiver.url, private=True)``:
  exactly what ``--otlp`` ships, OTLP/HTTP to a loopback receiver
  (``tests/fakes/otlp.py``) running in this, the parent, process. Target
  ≤ +20%, and no span dropped by the batch processor.

Why it is built the way it is:

* **A fresh interpreter per measurement.** Tracer providers start exporter
  threads and hold global state. Each measurement is a new ``python`` child:
  its own providers, heap, event loop and (pipeline) its own SQLite file.
  Set-up and tear-down (the final flush, reported apart) stay outside the timer.
* **Alternation and medians.** ``--runs`` rounds; each round runs every
  configuration once, the order rotated by one per round, so machine noise
  falls on all of them. The tables give the median and every run.
* **Nothing hidden.** The child verifies that every event was handled exactly
  once and every company finished; a counting span processor beside the batch
  processor counts the spans ended, and the exporter (B) or the receiver (C)
  the spans that arrived, so a batch processor that dropped spans shows up.
  CPU seconds of the child (all threads, exporter included) are reported
  beside wall time.
* **The environment is scrubbed.** Children get no ``OTEL_*`` settings of the
  caller (only ``OTEL_METRICS_EXPORTER=none``, since this measures tracing,
  and the configuration's sampler) and no proxy settings, so the exporter can
  only reach 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
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


@dataclass(frozen=True, slots=True)
class Config:
    """One configuration of one benchmark."""

    what: str
    traced: bool = True
    hops: bool = False
    sampling: float = 1.0
    otlp: bool = False
    target: float | None = None
    """Highest allowed ratio to A (wall time); ``None``: informational."""
    cpu_target: float | None = None
    passthrough: bool = False
    """An interceptor whose two scopes only call on: the bus's own price for any interceptor."""
    sdk_only: bool = False
    """The SDK's share: the same spans started and ended by bare SDK calls, nothing of ours."""
    sdk_lifetimes: bool = False
    """As ``sdk_only``, but each span lives as long as what it times (pipeline L)."""
    every_event: bool = False
    """Hop spans without the ``passes`` check: every event goes through the chain (as before)."""


BUS: dict[str, Config] = {
    "A": Config("untraced: no interceptors", traced=False),
    "B": Config(
        "tracing on, default, as a traced salesbus run installs it; 100% sampled", target=1.25
    ),
    "C": Config(
        "hop spans on, 1% sampling (parentbased_traceidratio 0.01)",
        hops=True,
        sampling=0.01,
        target=2.0,
    ),
    "E": Config(
        "C without BusTracing.passes: every event through both scopes, as before the"
        " bus could skip an interceptor (informational)",
        hops=True,
        sampling=0.01,
        every_event=True,
    ),
    "D": Config("hop spans on, 100% sampled (informational)", hops=True),
    "P": Config(
        "pass-through interceptor on both scopes, no tracing (informational)",
        traced=False,
        passthrough=True,
    ),
    "S": Config(
        "SDK only: C's spans by bare start_span/end, same names and attributes, 1%"
        " (informational: the SDK's share)",
        sampling=0.01,
        sdk_only=True,
    ),
}
PIPELINE: dict[str, Config] = {
    "A": Config("untraced: instrumentation=None", traced=False),
    "B": Config(
        "tracing on, default, 100% sampled, exporter drops every batch",
        target=1.10,
        cpu_target=1.25,
    ),
    "C": Config(
        "tracing on, default, 100% sampled, OTLP/HTTP (--otlp) to loopback", otlp=True, target=1.20
    ),
    "S": Config(
        "SDK only: B's 7 spans per company by bare start_span/end when the workflow starts,"
        " same names and attributes, no-op exporter (informational: the SDK's share)",
        sdk_only=True,
    ),
    "T": Config(
        "SDK only as S, OTLP/HTTP to loopback as C (informational: the SDK's and exporter's share)",
        sdk_only=True,
        otlp=True,
    ),
    "L": Config(
        "SDK only as S, but each span lives as B's does: invoke_agent across its attempt,"
        " chat across its model call; no context attached or carried (informational: the"
        " SDK's share with real span lifetimes)",
        sdk_lifetimes=True,
    ),
}
BENCHMARKS = {"bus": BUS, "pipeline": PIPELINE}
STEPS = 3
"""Model calls per company: research, analysis, personalization."""
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


def carriers(n: int, sampling: float) -> list[dict[str, str]]:
    """One W3C carrier per event, each a workflow root's, sampled as the SDK's sampler decides.

    The decision is asked of ``TraceIdRatioBased`` itself, for random trace ids
    from a fixed seed, so every configuration gets the same ids.
    """
    from opentelemetry.sdk.trace.sampling import TraceIdRatioBased

    sampler = TraceIdRatioBased(sampling)
    rng = random.Random(15)
    out = []
    for _ in range(n):
        trace_id, span_id = rng.getrandbits(128) | 1, rng.getrandbits(64) | 1
        sampled = sampler.should_sample(None, trace_id, "workflow").decision.is_sampled()
        flags = "01" if sampled else "00"
        out.append({"traceparent": f"00-{trace_id:032x}-{span_id:016x}-{flags}"})
    return out


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


def _ended_counter() -> Any:
    """A span processor counting the spans that ended: what the batch processor was handed."""
    from opentelemetry.sdk.trace import SpanProcessor

    class Ended(SpanProcessor):
        def __init__(self) -> None:
            self.count = 0

        def on_end(self, span: ReadableSpan) -> None:
            self.count += 1

    return Ended()


def make_telemetry(config: Config, otlp_url: str | None) -> tuple[Telemetry | None, Any, Any]:
    """The handle, the no-op exporter (else ``None``) and the ended-span counter.

    The no-op handle is built as ``observability/setup.py`` builds an
    exporting one (its ``_sdk_tracer_provider``: SDK provider, sampler from
    ``OTEL_TRACES_SAMPLER``, the same batch processor) with the exporter
    swapped; the meter provider is the no-op one, as the OTLP handle's is with
    ``OTEL_METRICS_EXPORTER=none``, so both measure tracing alone.
    """
    from opentelemetry.metrics import NoOpMeterProvider
    from opentelemetry.sdk.resources import Resource

    from salesbus.observability import Telemetry, configure_telemetry
    from salesbus.observability.setup import _sdk_tracer_provider

    if not config.traced:
        return None, None, None
    exporter = None
    if config.otlp:
        if not otlp_url:
            raise RuntimeError("an OTLP configuration needs the receiver's URL")
        telemetry = configure_telemetry(otlp_url, "salesbus-bench", private=True)
        if not telemetry.tracing_enabled or telemetry.metrics_enabled:
            raise RuntimeError(f"want tracing on and metrics off, got {telemetry!r}")
    else:
        exporter = _dropping_exporter()
        resource = Resource.create({"service.name": "salesbus-bench"})
        provider = _sdk_tracer_provider(resource, exporter)
        telemetry = Telemetry(provider, NoOpMeterProvider(), owns_tracer_provider=True)
    counter = _ended_counter()
    telemetry.tracer_provider.add_span_processor(counter)  # type: ignore[attr-defined]
    return telemetry, exporter, counter


def bus_interceptors(config: Config, telemetry: Telemetry | None) -> list[Interceptor]:
    """What each configuration puts on the bus: what a traced run installs."""
    from salesbus.orchestrator.telemetry import instrumentation_for

    if config.passthrough:
        return [_pass_through()]
    if telemetry is None:
        return []
    if config.sdk_only:
        return [_sdk_only_hops(telemetry)]
    interceptors = list(instrumentation_for(telemetry, bus_hops=config.hops).interceptors)
    if config.every_event:
        return [_every_event(i) for i in interceptors]
    return interceptors


def _every_event(inner: Interceptor) -> Interceptor:
    """``inner``'s two scopes with no ``passes``/``consumes`` checks (bus E)."""
    from salesbus.bus import ConsumeNext, Event, Interceptor, PublishNext, Subscription

    class EveryEvent(Interceptor):
        async def publish_scope(self, call_next: PublishNext, event: Event) -> None:
            await inner.publish_scope(call_next, event)

        async def consume_scope(
            self, call_next: ConsumeNext, event: Event, subscription: Subscription[Event]
        ) -> None:
            await inner.consume_scope(call_next, event, subscription)

    return EveryEvent()


def _pass_through() -> Interceptor:
    """An interceptor that only calls on, in both scopes: what any interceptor costs a hop."""
    from salesbus.bus import ConsumeNext, Event, Interceptor, PublishNext, Subscription

    class PassThrough(Interceptor):
        async def publish_scope(self, call_next: PublishNext, event: Event) -> None:
            await call_next(event)

        async def consume_scope(
            self, call_next: ConsumeNext, event: Event, subscription: Subscription[Event]
        ) -> None:
            await call_next(event)

    return PassThrough()


def _sdk_only_hops(telemetry: Telemetry) -> Interceptor:
    """C's two hop spans for each sampled event, made by the SDK alone (bus S).

    Which events are sampled is read as ``BusTracing`` reads it (the
    ``traceparent``'s last digit, the bus skips the rest); for those a send
    and a process span with C's names and attributes are started and ended
    under one fixed sampled parent. No parent is extracted, no context is
    injected, attached or copied into the event: what is left is the SDK.
    """
    from opentelemetry import trace
    from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags

    from salesbus.bus import ConsumeNext, Event, Interceptor, PublishNext, Subscription
    from salesbus.observability import semconv as sc

    tracer = telemetry.tracer
    parent = trace.set_span_in_context(
        NonRecordingSpan(SpanContext(1, 1, is_remote=True, trace_flags=TraceFlags(1)))
    )

    def attributes(event: Event, operation: str) -> dict[str, Any]:
        name = type(event).type_name
        return {
            sc.MESSAGING_SYSTEM: sc.MESSAGING_SYSTEM_SALESBUS,
            sc.MESSAGING_DESTINATION_NAME: name,
            sc.MESSAGING_OPERATION_TYPE: operation,
            sc.MESSAGING_OPERATION_NAME: operation,
            sc.MESSAGING_MESSAGE_ID: event.event_id,
        }

    class SdkOnly(Interceptor):
        def passes(self, event: Event) -> bool:
            return event.trace_context["traceparent"][54] == "0"

        async def publish_scope(self, call_next: PublishNext, event: Event) -> None:
            if not self.passes(event):
                span = tracer.start_span(
                    sc.send_span_name(type(event).type_name),
                    context=parent,
                    kind=SpanKind.PRODUCER,
                    attributes=attributes(event, sc.OPERATION_SEND),
                )
                span.end()
            await call_next(event)

        async def consume_scope(
            self, call_next: ConsumeNext, event: Event, subscription: Subscription[Event]
        ) -> None:
            if not self.passes(event):
                attrs = attributes(event, sc.OPERATION_PROCESS)
                attrs[sc.MESSAGING_CONSUMER_GROUP_NAME] = subscription.name
                span = tracer.start_span(
                    sc.process_span_name(type(event).type_name),
                    context=parent,
                    kind=SpanKind.CONSUMER,
                    attributes=attrs,
                )
                span.end()
            await call_next(event)

    return SdkOnly()


def _sdk_only_instrumentation(telemetry: Telemetry) -> Instrumentation:
    """Pipeline S: per company, B's seven spans made by bare SDK calls when it starts.

    The same names, kinds, parents and attribute sets as a traced run's root,
    ``invoke_agent`` and ``chat`` spans (usage as the offline rules report
    it), started and ended one after another: nothing of salesbus's
    instrumentation runs (no observer, no provider wrapper, no carrier). A
    lower bound of the SDK's share: these spans live microseconds, the real
    ones across a model call, so they are collected young.
    """
    from opentelemetry import trace
    from opentelemetry.context import Context
    from opentelemetry.trace import SpanKind

    from salesbus.observability import semconv as sc
    from salesbus.orchestrator.runner import Instrumentation

    tracer = telemetry.tracer
    usage = {
        sc.GEN_AI_USAGE_INPUT_TOKENS: 0,
        sc.GEN_AI_USAGE_OUTPUT_TOKENS: 0,
        sc.LLM_COST_USD: 0.0,
        sc.LLM_CALLS: 1,
    }
    steps = (("research", "research"), ("analysis", "analyze"), ("personalization", "personalize"))

    class SdkOnlyTracer:
        def begin(self, workflow: Any) -> None:
            ids = {sc.WORKFLOW_ID: workflow.id, sc.BATCH_ID: workflow.batch_id}
            root = tracer.start_span(
                sc.workflow_span_name(workflow.company.name),
                context=Context(),
                attributes={sc.WORKFLOW_ID: workflow.id, sc.COMPANY: workflow.company.name}
                | {sc.BATCH_ID: workflow.batch_id},
            )
            under_root = trace.set_span_in_context(root)
            for step, operation in steps:
                agent = tracer.start_span(
                    sc.agent_span_name(step),
                    context=under_root,
                    attributes={
                        sc.GEN_AI_OPERATION_NAME: sc.OPERATION_INVOKE_AGENT,
                        sc.GEN_AI_AGENT_NAME: step,
                        sc.STEP_ATTEMPT: 1,
                    }
                    | ids,
                )
                chat = tracer.start_span(
                    sc.chat_span_name("rules-v1"),
                    context=trace.set_span_in_context(agent),
                    kind=SpanKind.CLIENT,
                    attributes={
                        sc.GEN_AI_OPERATION_NAME: sc.OPERATION_CHAT,
                        sc.GEN_AI_PROVIDER_NAME: "offline",
                        sc.GEN_AI_REQUEST_MODEL: "rules-v1",
                        sc.LLM_OPERATION: operation,
                    },
                )
                chat.set_attributes(usage)
                chat.end()
                agent.set_attributes({sc.STEP_OUTCOME: "succeeded"} | usage)
                agent.end()
            root.end()

    return Instrumentation(tracer=SdkOnlyTracer())


def _sdk_lifetimes_instrumentation(telemetry: Telemetry) -> Instrumentation:
    """Pipeline L: B's seven spans per company by bare SDK calls, each as long-lived as B's.

    The root is started and ended at admission, as B's; an ``invoke_agent``
    span is started when a step attempt starts and ended when it ends (a step
    observer), a ``chat`` span around each model call (a provider wrapper).
    Same names, kinds and attributes as B. What is left out is salesbus's:
    agent and chat spans take one fixed sampled parent (no carrier extracted,
    no context attached, no meter of their own). S's spans live microseconds;
    these live across the simulated model call, as spans do in a real run.
    """
    from opentelemetry import trace
    from opentelemetry.context import Context
    from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags

    from salesbus.agents.providers.base import ProviderWrapper
    from salesbus.observability import semconv as sc
    from salesbus.orchestrator.runner import Instrumentation

    tracer = telemetry.tracer
    parent = trace.set_span_in_context(
        NonRecordingSpan(SpanContext(1, 1, is_remote=True, trace_flags=TraceFlags(1)))
    )
    usage = {
        sc.GEN_AI_USAGE_INPUT_TOKENS: 0,
        sc.GEN_AI_USAGE_OUTPUT_TOKENS: 0,
        sc.LLM_COST_USD: 0.0,
        sc.LLM_CALLS: 1,
    }

    class RootOnly:
        def begin(self, workflow: Any) -> None:
            tracer.start_span(
                sc.workflow_span_name(workflow.company.name),
                context=Context(),
                attributes={
                    sc.WORKFLOW_ID: workflow.id,
                    sc.COMPANY: workflow.company.name,
                    sc.BATCH_ID: workflow.batch_id,
                },
            ).end()

    class Attempt:
        def __init__(self, step: str, event: Any, attempt: int) -> None:
            self.span = tracer.start_span(
                sc.agent_span_name(step),
                context=parent,
                attributes={
                    sc.GEN_AI_OPERATION_NAME: sc.OPERATION_INVOKE_AGENT,
                    sc.GEN_AI_AGENT_NAME: step,
                    sc.STEP_ATTEMPT: attempt,
                    sc.WORKFLOW_ID: event.correlation_id,
                }
                | ({sc.BATCH_ID: event.batch_id} if event.batch_id else {}),
            )

        def __enter__(self) -> Any:
            return self

        def __call__(self, outcome: Any, error: Any) -> None:
            self.span.set_attributes({sc.STEP_OUTCOME: "succeeded"} | usage)

        def __exit__(self, *exc_info: object) -> None:
            self.span.end()

    class Observer:
        def observe(self, step: str, event: Any, attempt: int) -> Attempt:
            return Attempt(step, event, attempt)

    class BareChat(ProviderWrapper):
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        async def _call(self, operation: str, call: Any, *args: Any) -> Any:
            span = tracer.start_span(
                sc.chat_span_name(self.model),
                context=parent,
                kind=SpanKind.CLIENT,
                attributes={
                    sc.GEN_AI_OPERATION_NAME: sc.OPERATION_CHAT,
                    sc.GEN_AI_PROVIDER_NAME: self.name,
                    sc.GEN_AI_REQUEST_MODEL: self.model,
                    sc.LLM_OPERATION: operation,
                },
            )
            try:
                return await call(*args)
            finally:
                span.set_attributes(usage)
                span.end()

        async def research(self, *args: Any) -> Any:
            return await self._call("research", self.inner.research, *args)

        async def analyze(self, *args: Any) -> Any:
            return await self._call("analyze", self.inner.analyze, *args)

        async def personalize(self, *args: Any) -> Any:
            return await self._call("personalize", self.inner.personalize, *args)

    return Instrumentation(observers=[Observer()], tracer=RootOnly(), wrap_provider=BareChat)


def _gc_clock() -> Callable[[], str]:
    """Time the cyclic collector from now on; the call returned gives runs and seconds per gen."""
    runs = [0, 0, 0]
    seconds = [0.0, 0.0, 0.0]
    started = [0.0]

    def on_collection(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            runs[info["generation"]] += 1
            seconds[info["generation"]] += time.perf_counter() - started[0]

    gc.callbacks.append(on_collection)
    return lambda: " ".join(f"gen{g} {runs[g]} in {seconds[g]:.2f} s" for g in range(3))


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
    from salesbus.orchestrator.telemetry import instrumentation_for

    config = BENCHMARKS[args.child][args.config]
    telemetry, exporter, ended = make_telemetry(config, args.otlp)
    result: dict[str, Any]
    if args.child == "bus":
        ping = _make_ping_type()
        contexts = carriers(args.events, config.sampling)
        events = [ping(seq=i, trace_context=c) for i, c in enumerate(contexts)]
        interceptors = bus_interceptors(config, telemetry)
        # Keep the prebuilt events out of the collector's way, as bus_throughput.py does.
        gc.collect()
        gc.freeze()
        run = asyncio.run
        if args.profile_out:
            import cProfile

            profiler = cProfile.Profile()
            result = profiler.runcall(run, time_bus(events, interceptors))
            profiler.dump_stats(args.profile_out)
        elif args.build_only:
            result = {"seconds": 0.0, "cpu_s": 0.0, "handled": 0}
        else:
            result = run(time_bus(events, interceptors))
        result["interceptors"] = [type(i).__name__ for i in interceptors]
        result["sampled_events"] = sum(c["traceparent"].endswith("1") for c in contexts)
    else:
        instrumentation = (
            None
            if telemetry is None
            else _sdk_only_instrumentation(telemetry)
            if config.sdk_only
            else _sdk_lifetimes_instrumentation(telemetry)
            if config.sdk_lifetimes
            else instrumentation_for(telemetry)
        )
        with tempfile.TemporaryDirectory(prefix="tracing-overhead-") as tmp:
            db = Path(tmp) / "run.db"
            size = (args.companies, args.concurrency, args.latency)
            batch = time_pipeline(*size, db, instrumentation)
            if args.profile_out:
                import cProfile

                collections = _gc_clock()
                profiler = cProfile.Profile()
                result = profiler.runcall(asyncio.run, batch)
                profiler.dump_stats(args.profile_out)
                result["gc"] = collections()
            else:
                result = asyncio.run(batch)
        result["interceptors"] = (
            [type(i).__name__ for i in instrumentation.interceptors] if instrumentation else []
        )
    flush = time.perf_counter()
    if telemetry is not None:
        telemetry.shutdown()  # flushes what the batch processor still holds
    result["flush_s"] = time.perf_counter() - flush
    result["spans_ended"] = ended.count if ended is not None else None
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

    def values(self, key: str = "seconds") -> list[float]:
        return [float(r[key]) for r in self.runs]

    def dropped(self) -> list[int]:
        """Spans ended but never exported, per run (0 when none were made)."""
        return [
            int(r["spans_ended"] or 0) - int(r["spans_exported"] or 0)
            for r in self.runs
            if r.get("spans_ended") is not None
        ]


def child_env(config: Config) -> dict[str, str]:
    """The caller's environment without OTEL_* or proxy settings, plus the config's sampler."""
    proxies = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OTEL_", "SALESBUS_")) and key.lower() not in proxies
    }
    env["OTEL_METRICS_EXPORTER"] = "none"
    env["OTEL_TRACES_SAMPLER"] = "parentbased_traceidratio"
    env["OTEL_TRACES_SAMPLER_ARG"] = str(config.sampling)
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
    env = child_env(BENCHMARKS[benchmark][config])
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=CHILD_TIMEOUT_S)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise RuntimeError(f"{benchmark} {config} failed with exit code {done.returncode}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def run_all(benchmark: str, args: argparse.Namespace, receiver: Any) -> dict[str, Series]:
    """``args.runs`` rounds of every configuration, the order rotated by one each round."""
    order = tuple(BENCHMARKS[benchmark])
    series = {config: Series(config) for config in order}
    for round_index in range(args.runs):
        shift = round_index % len(order)
        for config in order[shift:] + order[:shift]:
            receiver.clear()
            result = spawn(benchmark, config, args, receiver.url)
            if BENCHMARKS[benchmark][config].otlp:
                result["spans_exported"] = len(receiver.spans)
            series[config].runs.append(result)
            print(
                f"  {benchmark} round {round_index + 1} {config}: {result['seconds']:.3f} s"
                f" (cpu {result['cpu_s']:.2f} s, spans {result['spans_ended']}"
                f" ended / {result['spans_exported']} exported)",
                file=sys.stderr,
                flush=True,
            )
    return series


def _ratio(series: Series, base: Series, key: str = "seconds") -> float:
    return series.median(key) / base.median(key)


def _spread(values: list[float]) -> str:
    return f"{min(values):.3g}–{max(values):.3g}"


def table(benchmark: str, results: dict[str, Series], args: argparse.Namespace) -> list[str]:
    configs = BENCHMARKS[benchmark]
    base = results["A"]
    per_event = benchmark == "bus"
    unit = "us/event" if per_event else "makespan s"
    scale = 1e6 / args.events if per_event else 1.0
    lines = [
        f"| config | what | {unit} (median) | runs | × A | CPU s | CPU × A"
        " | spans ended | spans dropped | flush s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, series in results.items():
        ratio = "—" if name == "A" else f"{_ratio(series, base):.2f}×"
        cpu_ratio = "—" if name == "A" else f"{_ratio(series, base, 'cpu_s'):.2f}×"
        ended = [r["spans_ended"] for r in series.runs]
        ended_cell = "—" if ended[0] is None else f"{statistics.median(ended):,.0f}"
        dropped = series.dropped()
        dropped_cell = "—" if not dropped else ", ".join(f"{d:,}" for d in dropped)
        lines.append(
            f"| {name} | {configs[name].what} | {series.median() * scale:.3f}"
            f" | {', '.join(f'{v * scale:.3f}' for v in series.values())} | {ratio}"
            f" | {series.median('cpu_s'):.2f} | {cpu_ratio} | {ended_cell} | {dropped_cell}"
            f" | {series.median('flush_s'):.2f} |"
        )
    return lines


def verdicts(benchmark: str, results: dict[str, Series]) -> list[str]:
    """The issue's targets, each met or not, with the number behind it."""
    lines: list[str] = []
    base = results["A"]
    for name, config in BENCHMARKS[benchmark].items():
        series = results[name]
        if config.target is not None:
            ratio = _ratio(series, base)
            verdict = "met" if ratio <= config.target else "NOT met"
            lines.append(
                f"{benchmark} {name} wall ≤ {config.target:.2f}× A: **{verdict}** ({ratio:.2f}×;"
                f" A runs {_spread(base.values())} s, {name} runs {_spread(series.values())} s)"
            )
        if config.cpu_target is not None:
            ratio = _ratio(series, base, "cpu_s")
            verdict = "met" if ratio <= config.cpu_target else "NOT met"
            lines.append(
                f"{benchmark} {name} CPU ≤ {config.cpu_target:.2f}× A: **{verdict}** ({ratio:.2f}×)"
            )
        if config.otlp:
            dropped = series.dropped()
            verdict = "met" if dropped and max(dropped) == 0 else "NOT met"
            lines.append(f"{benchmark} {name} no span dropped: **{verdict}** ({dropped})")
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
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} cores, {platform.machine()}, {cpu},"
        f" CPython {platform.python_version()}, opentelemetry-sdk"
        f" {metadata.version('opentelemetry-sdk')}; load average at the start {load}"
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
    """cProfile of one configuration (the bus, or ``--only pipeline``), for the overhead's reasons.

    The pipeline's profile is of its event loop thread only, and a collection
    is charged to whatever allocated when it ran: read ``tottime``, and the
    ``gc`` line of the result, not coroutine ``cumtime``.
    """
    import pstats

    benchmark = "pipeline" if args.only == "pipeline" else "bus"
    if args.profile not in BENCHMARKS[benchmark]:
        print(f"error: {benchmark} has no configuration {args.profile}", file=sys.stderr)
        return 2
    size = f"{args.companies:,} companies" if benchmark == "pipeline" else f"{args.events:,} events"
    with open_receiver() as receiver, tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / f"{benchmark}.prof")
        result = spawn(benchmark, args.profile, args, receiver.url, profile_out=out)
        print(f"# cProfile, {benchmark}, config {args.profile}, {size}: {result}")
        stats = pstats.Stats(out)
        stats.strip_dirs().sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(40)
    return 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=50_000, help="bus events per run")
    parser.add_argument("--companies", type=int, default=2_000, help="companies per pipeline run")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per model call")
    parser.add_argument("--concurrency", type=int, default=200, help="workflows in flight")
    parser.add_argument("--runs", type=int, default=3, help="rounds; the median counts")
    parser.add_argument(
        "--only", choices=("bus", "pipeline"), help="run one benchmark only (default: both)"
    )
    parser.add_argument(
        "--profile",
        choices=sorted({*BUS, *PIPELINE}),
        help="instead: cProfile one configuration of the bus (or of the pipeline with --only)",
    )
    parser.add_argument("--child", choices=("bus", "pipeline"), help=argparse.SUPPRESS)
    parser.add_argument("--config", choices=sorted({*BUS, *PIPELINE}), help=argparse.SUPPRESS)
    parser.add_argument("--otlp", help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", default="", help=argparse.SUPPRESS)
    # The bus child builds its events and interceptors, then publishes none:
    # tracing_instructions.py subtracts this to count the hop alone.
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
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
    out = [
        f"tracing overhead — {started:%Y-%m-%d %H:%M} UTC — median of {args.runs} runs,"
        " configurations alternating, each run in a fresh interpreter",
        f"machine: {machine()}",
    ]
    with open_receiver() as receiver:
        for benchmark in ("bus", "pipeline"):
            if args.only not in (None, benchmark):
                continue
            print(f"{benchmark}: {args.runs} rounds", file=sys.stderr)
            results = run_all(benchmark, args, receiver)
            if benchmark == "bus":
                title = f"Bus hop: one async subscriber, {args.events:,} events"
            else:
                ideal = args.companies / args.concurrency * STEPS * args.latency
                title = (
                    f"Pipeline makespan: {args.companies:,} companies, concurrency"
                    f" {args.concurrency}, {args.latency} s per model call (ideal {ideal:.2f} s)"
                )
            out += ["", f"### {title}", "", *table(benchmark, results, args), ""]
            out += [
                "installed: "
                + "; ".join(
                    f"{name}: {', '.join(s.runs[0]['interceptors']) or 'no interceptor'}"
                    for name, s in results.items()
                ),
                "",
                "targets:",
                *(f"- {line}" for line in verdicts(benchmark, results)),
            ]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
