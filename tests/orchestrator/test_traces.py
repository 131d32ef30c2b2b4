"""A traced batch: one trace per company in a loopback OTLP receiver, with the documented shape.

By default no bus hop makes a span; hop spans come when asked; an unsampled
company makes none at all, and its events still carry its trace context.
"""

from __future__ import annotations

import signal
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.sampling import Decision, ParentBased, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind, TraceState, get_current_span
from opentelemetry.util.types import Attributes

from salesbus.agents.campaign import Campaign
from salesbus.agents.errors import ServerError
from salesbus.agents.models import Analysis, Company, CompanyProfile
from salesbus.agents.providers.base import Draft, Provider
from salesbus.agents.providers.offline import OfflineProvider
from salesbus.agents.usage import Usage, record_usage
from salesbus.agents.website import WebPage
from salesbus.bus import Event, EventBus
from salesbus.observability import TRACE_BUS_ENV, Telemetry
from salesbus.orchestrator.runner import Instrumentation, RunSettings, run_batch
from salesbus.orchestrator.store import AttemptRecord, WorkflowRecord, open_store
from salesbus.orchestrator.telemetry import instrumentation_for
from tests.fakes.otlp import OtlpReceiver, ReceivedSpan

from .helpers import a_campaign
from .test_kill_resume import finish, start_run, wait_for_attempts

pytestmark = pytest.mark.anyio

CANARY = "sk-ant-api03-CANARY-in-the-environment-0123456789"
CALL = Usage(
    calls=1,
    input_tokens=100,
    cache_read_tokens=20,
    cache_write_tokens=5,
    output_tokens=50,
    cost_usd=0.001,
)


@dataclass
class MeteredOffline:
    """The offline rules, reporting token usage like a model would, failing once on cue."""

    fail_first_analysis_of: str
    inner: Provider = field(default_factory=OfflineProvider)
    failed: bool = False
    calls: int = 0
    name: str = "offline"
    model: str = "rules-v1"

    async def research(self, company: Company, page: WebPage | None, c: Campaign) -> CompanyProfile:
        self._count()
        return await self.inner.research(company, page, c)

    async def analyze(self, profile: CompanyProfile, c: Campaign) -> Analysis:
        self._count()
        if profile.company.name == self.fail_first_analysis_of and not self.failed:
            self.failed = True
            raise ServerError("overloaded, try again")
        return await self.inner.analyze(profile, c)

    async def personalize(
        self, profile: CompanyProfile, a: Analysis, c: Campaign, notes: list[str] | None = None
    ) -> Draft:
        self._count()
        return await self.inner.personalize(profile, a, c, notes)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def _count(self) -> None:
        self.calls += 1
        record_usage(CALL)


COMPANIES = [
    Company(
        name=f"Traced {n}",
        domain=f"traced{n}.example",
        industry="SaaS",
        employees=300,
        country="United States",
        description="Revenue platform, hiring",
    )
    for n in range(4)
]


def ancestors(span: ReceivedSpan, by_id: dict[str, ReceivedSpan]) -> list[str]:
    names = []
    while span.parent_span_id:
        span = by_id[span.parent_span_id]
        names.append(span.name)
    return names


async def traced_batch(
    tmp_path: Path, instrumentation: Instrumentation, provider: Provider
) -> tuple[str, dict[str, WorkflowRecord], list[AttemptRecord], list[Event]]:
    """Run COMPANIES with ``instrumentation``; the batch id, workflows, attempts and every event."""
    events: list[Event] = []
    watch = instrumentation.on_bus

    def on_bus(bus: EventBus) -> None:
        if watch is not None:
            watch(bus)
        bus.subscribe(Event, events.append, name="orchestrator:test-log")

    settings = RunSettings(llm="offline", concurrency=4, retry_base_delay=0.001)
    async with open_store(tmp_path / "s.db") as store:
        prepared, _ = await run_batch(
            store,
            COMPANIES,
            a_campaign(),
            settings,
            provider=provider,
            instrumentation=replace(instrumentation, on_bus=on_bus),
        )
        workflows = {w.id: w for w in await store.workflows(prepared.batch.id)}
        attempts = [a for w in workflows for a in await store.attempts(w)]
    return prepared.batch.id, workflows, attempts, events


def by_trace(spans: list[ReceivedSpan]) -> dict[str, list[ReceivedSpan]]:
    traces: dict[str, list[ReceivedSpan]] = defaultdict(list)
    for span in spans:
        traces[span.trace_id].append(span)
    return traces


async def test_each_company_is_one_trace_of_steps_model_calls_and_no_bus_hops(
    tmp_path: Path, receiver: OtlpReceiver, telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", CANARY)
    monkeypatch.delenv(TRACE_BUS_ENV, raising=False)
    provider = MeteredOffline(fail_first_analysis_of="Traced 2")
    batch_id, workflows, attempts, events = await traced_batch(
        tmp_path, instrumentation_for(telemetry), provider
    )
    telemetry.force_flush()

    spans = receiver.spans
    by_id = {s.span_id: s for s in spans}
    traces = by_trace(spans)
    roots = [s for s in spans if s.name.startswith("workflow ")]

    # One trace per company, its id stored with the workflow.
    assert sorted(r.attributes["salesbus.company"] for r in roots) == [c.name for c in COMPANIES]
    assert len(traces) == len(COMPANIES)
    assert not [s.name for s in spans if s.name.startswith(("send ", "process "))]
    for root in roots:
        workflow = workflows[root.attributes["salesbus.workflow.id"]]
        assert workflow.trace_id == root.trace_id
        assert root.attributes["salesbus.batch.id"] == batch_id
        in_trace = traces[root.trace_id]
        steps = [s for s in in_trace if s.name.startswith("invoke_agent ")]
        assert {s.attributes["gen_ai.agent.name"] for s in steps} >= {"research", "analysis"}
        for span in in_trace:
            assert span is root or ancestors(span, by_id)[-1] == root.name
        for step in steps:  # every attempt straight under the root: siblings
            assert step.parent_span_id == root.span_id
        for chat in (s for s in in_trace if s.name.startswith("chat ")):
            assert chat.kind == "CLIENT"
            assert by_id[chat.parent_span_id].name.startswith("invoke_agent ")
            assert chat.attributes["gen_ai.usage.input_tokens"] == 125  # cache included
            assert chat.attributes["gen_ai.usage.output_tokens"] == 50

    # Every event of a company, the orchestrator's own included, carries its trace.
    for event in events:
        trace_id = event.trace_context["traceparent"].split("-")[1]
        assert trace_id == workflows[str(event.correlation_id)].trace_id, type(event).__name__

    # The forced retry: two analysis attempt spans, the first an error.
    retried = next(r for r in roots if r.attributes["salesbus.company"] == "Traced 2")
    analysis = sorted(
        (s for s in traces[retried.trace_id] if s.name == "invoke_agent analysis"),
        key=lambda s: s.attributes["salesbus.step.attempt"],
    )
    assert [(s.attributes["salesbus.step.attempt"], s.status) for s in analysis] == [
        (1, "ERROR"),
        (2, "UNSET"),
    ]
    assert analysis[0].attributes["error.type"] == "server_error"
    assert analysis[0].attributes["salesbus.error.retryable"] is True

    # Token counts on spans match what the provider reported and the store recorded.
    chat_input = sum(
        s.attributes["gen_ai.usage.input_tokens"] for s in spans if s.name.startswith("chat ")
    )
    stored_input = sum(
        a.input_tokens + a.cache_read_tokens + a.cache_write_tokens for a in attempts
    )
    assert chat_input == stored_input == 125 * provider.calls

    # No secret anywhere in what was exported.
    assert all(CANARY not in repr(s.attributes) and CANARY not in repr(s.events) for s in spans)


@pytest.mark.parametrize("asked", ["argument", "environment"])
async def test_hop_spans_when_asked_put_each_step_under_its_send_and_process_spans(
    asked: str,
    tmp_path: Path,
    receiver: OtlpReceiver,
    telemetry: Telemetry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if asked == "environment":
        monkeypatch.setenv(TRACE_BUS_ENV, "1")
        instrumentation = instrumentation_for(telemetry)
    else:
        monkeypatch.delenv(TRACE_BUS_ENV, raising=False)
        instrumentation = instrumentation_for(telemetry, bus_hops=True)
    await traced_batch(tmp_path, instrumentation, MeteredOffline(fail_first_analysis_of="-"))
    telemetry.force_flush()

    spans = receiver.spans
    by_id = {s.span_id: s for s in spans}
    assert len(by_trace(spans)) == len(COMPANIES)
    steps = [s for s in spans if s.name.startswith("invoke_agent ")]
    assert len(steps) >= 2 * len(COMPANIES)
    for step in steps:
        process = by_id[step.parent_span_id]
        assert process.name.startswith("process salesbus.")
        assert process.kind == "CONSUMER"
        assert process.attributes["messaging.system"] == "salesbus"
        send = by_id[process.parent_span_id]
        assert send.name.startswith("send salesbus.")
        assert send.kind == "PRODUCER"
        assert ancestors(step, by_id)[-1].startswith("workflow ")
    # Bookkeeping hops (status events, the orchestrator's subscribers) stay spanless.
    assert not [s.name for s in spans if "Step" in s.name]


class SkipOneCompany(Sampler):
    """Parent-based sampling that declines one company's root; records every decision asked."""

    def __init__(self, company: str) -> None:
        self.company = company
        self.asked: list[tuple[str, bool | None]] = []
        self.parent_based = ParentBased(root=self)

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        """The root decision: everyone but ``company``."""
        sampled = (attributes or {}).get("salesbus.company") != self.company
        return SamplingResult(Decision.RECORD_AND_SAMPLE if sampled else Decision.DROP)

    def get_description(self) -> str:
        return f"SkipOneCompany({self.company})"


class Asking(Sampler):
    """The provider's sampler: :class:`SkipOneCompany` behind ParentBased, calls counted."""

    def __init__(self, inner: SkipOneCompany) -> None:
        self.inner = inner

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        parent = get_current_span(parent_context).get_span_context()
        self.inner.asked.append((name, parent.trace_flags.sampled if parent.is_valid else None))
        return self.inner.parent_based.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return "Asking"


async def test_an_unsampled_company_makes_no_spans_and_its_events_still_carry_its_trace(
    tmp_path: Path, receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TRACE_BUS_ENV, raising=False)
    skip = SkipOneCompany("Traced 1")
    provider = TracerProvider(sampler=Asking(skip))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(f"{receiver.url}/v1/traces")))
    with Telemetry(provider, NoOpMeterProvider(), owns_tracer_provider=True) as telemetry:
        _, workflows, _, events = await traced_batch(
            tmp_path, instrumentation_for(telemetry), MeteredOffline(fail_first_analysis_of="-")
        )

    unsampled = next(w for w in workflows.values() if w.company.name == "Traced 1")
    assert unsampled.trace_id is None  # nothing in Jaeger to link to
    exported = receiver.spans
    assert len(by_trace(exported)) == len(COMPANIES) - 1
    assert all(s.attributes.get("salesbus.workflow.id") != unsampled.id for s in exported)
    assert all(s.attributes.get("salesbus.company") != "Traced 1" for s in exported)

    # Its events carry one unsampled trace from the first event to the last.
    carried = {
        tuple(e.trace_context["traceparent"].split("-")[1::2])
        for e in events
        if e.correlation_id == unsampled.id
    }
    assert len(events) > len(COMPANIES) * 6
    [(trace_id, flags)] = carried
    assert int(flags, 16) & 1 == 0  # not sampled (the SDK may set the "random id" bit)
    assert int(trace_id, 16) != 0

    # The fast path: only its root was put to the sampler; no child asked about it.
    assert [asked for asked in skip.asked if asked[1] is False] == []
    roots = [name for name, parent in skip.asked if parent is None]
    assert sorted(roots) == sorted(f"workflow {c.name}" for c in COMPANIES)


def test_a_killed_and_resumed_batch_keeps_one_trace_id_per_company(
    tmp_path: Path, receiver: OtlpReceiver
) -> None:
    otel = {"OTEL_BSP_SCHEDULE_DELAY": "50"}
    first = start_run(tmp_path, otel, ("--otlp", receiver.url))
    try:
        wait_for_attempts(tmp_path / "s.db", 30)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finish(tmp_path, otel, "--otlp", receiver.url)

    with sqlite3.connect(tmp_path / "s.db") as conn:
        stored = dict(conn.execute("SELECT id, trace_id FROM workflows").fetchall())
    resumed = [s for s in receiver.spans if s.attributes.get("salesbus.workflow.resumed")]
    assert resumed, "the rerun resumed some workflows"
    for span in resumed:
        assert span.trace_id == stored[span.attributes["salesbus.workflow.id"]]
    for span in receiver.spans:
        workflow = span.attributes.get("salesbus.workflow.id")
        if workflow:
            assert span.trace_id == stored[workflow]
    by_trace: dict[str, set[str]] = defaultdict(set)
    for span in receiver.spans:
        if span.name.startswith("workflow "):
            by_trace[span.trace_id].add(span.attributes["salesbus.workflow.id"])
    assert all(len(ids) == 1 for ids in by_trace.values())
