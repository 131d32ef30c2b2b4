"""Unsampled traces cost no SDK call, yet their context flows; hop spans come on request."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.sampling import Decision, ParentBased, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind, TraceState
from opentelemetry.util.types import Attributes

from salesbus.bus import Event, EventBus
from salesbus.observability import (
    TRACE_BUS_ENV,
    BusTracing,
    Telemetry,
    agent_span,
    bus_tracing,
    chat_span,
    event_parent_context,
    http_span,
    inject_context,
    parent_sampled,
)
from tests.fakes.otlp import OtlpReceiver

from .test_bus_tracing import JsonHopTransport, Ordered, Packed

pytestmark = pytest.mark.anyio


class Counting(Sampler):
    """Parent-based; roots are sampled when their name starts with "sampled". Counts calls."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self._inner = ParentBased(root=_RootByName())

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
        self.calls.append(name)
        return self._inner.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return "Counting"


class _RootByName(Sampler):
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
        sampled = name.startswith("sampled")
        return SamplingResult(Decision.RECORD_AND_SAMPLE if sampled else Decision.DROP)

    def get_description(self) -> str:
        return "RootByName"


@pytest.fixture
def sampler() -> Counting:
    return Counting()


@pytest.fixture
def sampled(sampler: Counting, receiver: OtlpReceiver) -> Iterator[Telemetry]:
    """A handle whose provider asks ``sampler``, exporting each span as it ends."""
    provider = TracerProvider(sampler=sampler)
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(f"{receiver.url}/v1/traces")))
    with Telemetry(provider, NoOpMeterProvider(), owns_tracer_provider=True) as handle:
        yield handle


def test_children_of_an_unsampled_span_make_no_sdk_call_and_keep_its_context(
    sampled: Telemetry, sampler: Counting, receiver: OtlpReceiver
) -> None:
    seen: list[Any] = []
    with (
        sampled.tracer.start_as_current_span("dropped workflow") as root,
        agent_span("research", attempt=1, telemetry=sampled) as step,
    ):
        with chat_span("anthropic", "claude-x", telemetry=sampled) as chat:
            chat.record_usage(uncached_input_tokens=10, output_tokens=2)
            seen.append(trace.get_current_span().get_span_context())
        with http_span("GET", "https://acme.example/", telemetry=sampled) as fetch:
            fetch.response(200)
        step.succeeded()
    assert sampler.calls == ["dropped workflow"]
    assert not chat.span.is_recording()
    assert seen == [root.get_span_context()]  # the unsampled root stayed current
    assert receiver.spans == []


def test_an_unsampled_carried_parent_becomes_current_without_a_span(
    sampled: Telemetry, sampler: Counting
) -> None:
    with sampled.tracer.start_as_current_span("dropped workflow") as root:
        event = Ordered(trace_context=inject_context())
    seen: list[Any] = []
    with agent_span(
        "analysis", attempt=1, parent=event_parent_context(event), telemetry=sampled
    ) as step:
        seen.append(trace.get_current_span().get_span_context())
        with chat_span("offline", "rules", telemetry=sampled):
            pass
    assert not step.span.is_recording()
    assert sampler.calls == ["dropped workflow"]
    assert [(c.trace_id, c.span_id) for c in seen] == [
        (root.get_span_context().trace_id, root.get_span_context().span_id)
    ]
    assert trace.get_current_span() is trace.INVALID_SPAN  # and it is gone again


def test_a_sampled_parent_still_gets_its_children(
    sampled: Telemetry, sampler: Counting, receiver: OtlpReceiver
) -> None:
    with (
        sampled.tracer.start_as_current_span("sampled workflow"),
        agent_span("research", attempt=1, telemetry=sampled),
        chat_span("offline", "rules", telemetry=sampled),
    ):
        pass
    assert sorted(receiver.span_names()) == [
        "chat rules",
        "invoke_agent research",
        "sampled workflow",
    ]
    assert len(sampler.calls) == 3


@pytest.mark.parametrize(
    ("traceparent", "expected"),
    [
        ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", True),
        ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", False),
        ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-02", False),
        ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03", True),
        ("garbage", None),
        ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-zz", None),
    ],
)
def test_the_sampled_flag_is_read_from_the_carried_traceparent(
    traceparent: str, expected: bool | None
) -> None:
    assert parent_sampled(Ordered(trace_context={"traceparent": traceparent})) is expected


def test_without_a_carried_context_the_current_span_decides(sampled: Telemetry) -> None:
    assert parent_sampled(Ordered()) is None
    with sampled.tracer.start_as_current_span("sampled"):
        assert parent_sampled(Ordered()) is True
    with sampled.tracer.start_as_current_span("dropped"):
        assert parent_sampled(Ordered()) is False


# -- the bus -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hops", "environment", "expected"),
    [
        (None, None, []),
        (None, "1", [BusTracing]),
        (None, "0", []),
        (False, "1", []),
        (True, None, [BusTracing]),
    ],
)
def test_hop_spans_come_when_asked_by_argument_or_environment(
    hops: bool | None,
    environment: str | None,
    expected: list[type[Any]],
    sampled: Telemetry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if environment is None:
        monkeypatch.delenv(TRACE_BUS_ENV, raising=False)
    else:
        monkeypatch.setenv(TRACE_BUS_ENV, environment)
    assert [type(i) for i in bus_tracing(sampled, hops=hops)] == expected


async def test_by_default_a_hop_makes_no_span_and_the_context_still_flows(
    sampled: Telemetry, sampler: Counting, receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In process the handler runs in its publisher's context; a caused event carries it."""
    monkeypatch.delenv(TRACE_BUS_ENV, raising=False)
    received: list[Event] = []
    current: list[Any] = []
    async with EventBus(interceptors=bus_tracing(sampled)) as bus:

        @bus.on(Ordered)
        async def pack(event: Ordered) -> None:
            current.append(trace.get_current_span().get_span_context())
            await bus.publish(Packed(**event.caused()))

        bus.subscribe(Packed, received.append)
        with sampled.tracer.start_as_current_span("sampled request") as request:
            await bus.publish(Ordered(trace_context=inject_context()))
    assert receiver.span_names() == ["sampled request"]
    assert sampler.calls == ["sampled request"]
    assert current == [request.get_span_context()]
    [packed] = received
    assert packed.trace_context == inject_context(trace.set_span_in_context(request))


async def test_hop_spans_skip_an_unsampled_trace_whose_context_reaches_the_handler_in_the_event(
    sampled: Telemetry, sampler: Counting, receiver: OtlpReceiver
) -> None:
    """Across a broker-like hop (JSON, a fresh context): the handler's step span declines too."""
    with sampled.tracer.start_as_current_span("dropped workflow"):
        event = Ordered(trace_context=inject_context())
    recorded: list[bool] = []

    def handle(arrived: Ordered) -> None:
        parent = event_parent_context(arrived)
        with agent_span("pack", attempt=1, parent=parent, telemetry=sampled) as step:
            recorded.append(step.span.is_recording())

    transport = JsonHopTransport()
    async with EventBus(transport=transport, interceptors=[BusTracing(sampled)]) as bus:
        bus.subscribe(Ordered, handle)
        await bus.publish(event)
    assert recorded == [False]
    assert sampler.calls == ["dropped workflow"]
    assert receiver.spans == []


async def test_a_root_hop_the_sampler_declines_stamps_its_context_so_the_trace_stays_declined(
    sampled: Telemetry, sampler: Counting, receiver: OtlpReceiver
) -> None:
    received: list[Event] = []
    async with EventBus(interceptors=[BusTracing(sampled)]) as bus:

        @bus.on(Ordered)
        async def pack(event: Ordered) -> None:
            await bus.publish(Packed(**event.caused()))

        bus.subscribe(Packed, received.append)
        await bus.publish(Ordered())
    assert sampler.calls == ["send tests.obs.Ordered"]  # asked once, for the root
    assert receiver.spans == []
    [packed] = received
    assert parent_sampled(packed) is False


async def test_with_hop_spans_on_sampled_hops_get_spans_and_unsampled_ones_skip_the_interceptor(
    sampled: Telemetry, sampler: Counting, receiver: OtlpReceiver
) -> None:
    """One bus, both kinds of trace: the unsampled hop takes the bus's fast path, untouched."""
    with sampled.tracer.start_as_current_span("sampled workflow") as workflow:
        kept = Ordered(trace_context=inject_context())
    with sampled.tracer.start_as_current_span("dropped workflow"):
        dropped = Ordered(trace_context=inject_context())
    tracing = BusTracing(sampled)
    assert not tracing.passes(kept)
    assert tracing.passes(dropped)
    arrived: list[tuple[Ordered, Any]] = []

    def handle(event: Ordered) -> None:
        arrived.append((event, trace.get_current_span().get_span_context()))

    async with EventBus(interceptors=[tracing]) as bus:
        bus.subscribe(Ordered, handle, name="pack")
        await bus.publish(kept)
        await bus.publish(dropped)

    assert sorted(receiver.span_names()) == [
        "process tests.obs.Ordered",
        "sampled workflow",
        "send tests.obs.Ordered",
    ]
    process = receiver.span("process tests.obs.Ordered")
    send = receiver.span("send tests.obs.Ordered")
    assert send.parent_span_id == format(workflow.get_span_context().span_id, "016x")
    assert process.parent_span_id == send.span_id
    (kept_seen, kept_current), (dropped_seen, dropped_current) = arrived
    assert format(kept_current.span_id, "016x") == process.span_id
    assert kept_seen.trace_context["traceparent"].split("-")[2] == send.span_id
    assert dropped_seen is dropped  # passed on untouched, its unsampled context with it
    assert not dropped_current.is_valid  # nothing made current for it
    assert sampler.calls.count("send tests.obs.Ordered") == 1
