"""Bus hops become send/process spans of one trace, exported by the real OTLP exporter."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from opentelemetry import context as otel_context
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.trace import NoOpTracerProvider

from salesbus.bus import Event, EventBus, MemoryTransport, decode_event, encode_event
from salesbus.observability import BusTracing, Telemetry, extract_context, inject_context
from tests.fakes.otlp import OtlpReceiver, ReceivedSpan

pytestmark = pytest.mark.anyio


class Ordered(Event):
    type_name = "tests.obs.Ordered"
    item: str = "book"


class Packed(Event):
    type_name = "tests.obs.Packed"
    item: str = "book"


def by_name(spans: list[ReceivedSpan]) -> dict[str, ReceivedSpan]:
    named = {span.name: span for span in spans}
    assert len(named) == len(spans), [s.name for s in spans]
    return named


async def test_a_hop_is_a_producer_span_and_a_consumer_span_beneath_it(
    telemetry: Telemetry, receiver: OtlpReceiver
) -> None:
    event = Ordered(correlation_id="wf-1")
    async with EventBus(interceptors=[BusTracing(telemetry)]) as bus:
        bus.subscribe(Ordered, lambda e: None, name="packer")
        with telemetry.tracer.start_as_current_span("request") as request:
            await bus.publish(event)
    telemetry.force_flush()

    spans = by_name(receiver.spans)
    root = format(request.get_span_context().span_id, "016x")
    send, process = spans["send tests.obs.Ordered"], spans["process tests.obs.Ordered"]
    assert {span.trace_id for span in spans.values()} == {spans["request"].trace_id}
    assert (send.parent_span_id, process.parent_span_id) == (root, send.span_id)
    assert (send.kind, process.kind) == ("PRODUCER", "CONSUMER")
    for span, operation in ((send, "send"), (process, "process")):
        assert span.attributes["messaging.system"] == "salesbus"
        assert span.attributes["messaging.destination.name"] == "tests.obs.Ordered"
        assert span.attributes["messaging.message.id"] == event.event_id
        assert span.attributes["messaging.operation.type"] == operation
        assert span.attributes["salesbus.workflow.id"] == "wf-1"
    assert process.attributes["messaging.consumer.group.name"] == "packer"
    assert send.resource["service.name"] == "salesbus"


async def test_the_handler_receives_the_send_spans_context_in_the_event(
    telemetry: Telemetry, receiver: OtlpReceiver
) -> None:
    received: list[Event] = []
    async with EventBus(interceptors=[BusTracing(telemetry)]) as bus:
        bus.subscribe(Ordered, received.append)
        await bus.publish(Ordered())
    telemetry.force_flush()

    send = receiver.span("send tests.obs.Ordered")
    version, trace_id, span_id, _flags = received[0].trace_context["traceparent"].split("-")
    assert (version, trace_id, span_id) == ("00", send.trace_id, send.span_id)


async def test_a_handler_chain_stays_in_one_trace(
    telemetry: Telemetry, receiver: OtlpReceiver
) -> None:
    async with EventBus(interceptors=[BusTracing(telemetry)]) as bus:

        @bus.on(Ordered)
        async def pack(event: Ordered) -> None:
            await bus.publish(Packed(**event.caused(), item=event.item))

        bus.subscribe(Packed, lambda e: None)
        await bus.publish(Ordered(correlation_id="wf-2"))
    telemetry.force_flush()

    spans = by_name(receiver.spans)
    assert len(spans) == 4
    assert len({span.trace_id for span in spans.values()}) == 1
    chain = [
        "send tests.obs.Ordered",
        "process tests.obs.Ordered",
        "send tests.obs.Packed",
        "process tests.obs.Packed",
    ]
    assert spans[chain[0]].parent_span_id == ""
    for parent, child in itertools.pairwise(chain):
        assert spans[child].parent_span_id == spans[parent].span_id


class JsonHopTransport(MemoryTransport):
    """Delivers each event as another process would receive it from a broker.

    The event goes through JSON, and the receiving side starts with an empty
    OpenTelemetry context: only what the event carries links the two sides.
    """

    async def send(self, event: Event) -> None:
        arrived = decode_event(encode_event(event))
        token = otel_context.attach(otel_context.Context())
        try:
            await super().send(arrived)
        finally:
            otel_context.detach(token)


async def test_trace_context_survives_json_and_a_fresh_context(
    telemetry: Telemetry, receiver: OtlpReceiver
) -> None:
    async with EventBus(transport=JsonHopTransport(), interceptors=[BusTracing(telemetry)]) as bus:
        bus.subscribe(Ordered, lambda e: None)
        await bus.publish(Ordered())
    telemetry.force_flush()

    send = receiver.span("send tests.obs.Ordered")
    process = receiver.span("process tests.obs.Ordered")
    assert process.trace_id == send.trace_id
    assert process.parent_span_id == send.span_id


async def test_an_event_for_another_workflow_joins_that_workflows_trace(
    telemetry: Telemetry, receiver: OtlpReceiver
) -> None:
    """A handler of workflow A publishing for workflow B must not pull B into A's trace."""
    with telemetry.tracer.start_as_current_span("workflow B"):
        carrier_b = inject_context()
    async with EventBus(interceptors=[BusTracing(telemetry)]) as bus:

        @bus.on(Ordered)
        async def admit_next(event: Ordered) -> None:
            await bus.publish(Packed(correlation_id="B", trace_context=carrier_b))

        bus.subscribe(Packed, lambda e: None)
        with telemetry.tracer.start_as_current_span("workflow A"):
            await bus.publish(Ordered(correlation_id="A"))
    telemetry.force_flush()

    spans = by_name(receiver.spans)
    workflow_b, send_b = spans["workflow B"], spans["send tests.obs.Packed"]
    assert spans["process tests.obs.Ordered"].trace_id == spans["workflow A"].trace_id
    assert (send_b.trace_id, send_b.parent_span_id) == (workflow_b.trace_id, workflow_b.span_id)
    assert spans["process tests.obs.Packed"].parent_span_id == send_b.span_id


async def test_a_failing_handler_marks_its_process_span_with_the_redacted_error(
    telemetry: Telemetry, receiver: OtlpReceiver
) -> None:
    def refuse(event: Ordered) -> None:
        raise ValueError("no stock for dana.lee@acme.example")

    async with EventBus(interceptors=[BusTracing(telemetry)]) as bus:
        bus.subscribe(Ordered, refuse)
        bus.on_failure(lambda failure: None)
        await bus.publish(Ordered())
    telemetry.force_flush()

    process = receiver.span("process tests.obs.Ordered")
    assert process.status == "ERROR"
    assert process.attributes["error.type"] == "ValueError"
    [exception] = process.events
    assert exception.name == "exception"
    assert exception.attributes["exception.message"] == "no stock for d***@acme.example"
    assert "dana.lee" not in exception.attributes["exception.stacktrace"]
    assert "dana.lee" not in process.status_message
    assert receiver.span("send tests.obs.Ordered").status == "UNSET"


async def test_with_tracing_off_events_pass_untouched_and_nothing_is_exported(
    receiver: OtlpReceiver,
) -> None:
    off = Telemetry(NoOpTracerProvider(), NoOpMeterProvider())
    event = Ordered()
    received: list[Event] = []
    async with EventBus(interceptors=[BusTracing(off)]) as bus:
        bus.subscribe(Ordered, received.append)
        await bus.publish(event)
    assert received[0] is event  # not even a copy
    assert event.trace_context == {}
    assert not off.tracing_enabled
    assert receiver.spans == []


async def test_with_tracing_off_a_carried_context_still_reaches_the_handler() -> None:
    """A process that does not trace keeps an upstream trace going for its logs and calls."""
    off = Telemetry(NoOpTracerProvider(), NoOpMeterProvider())
    upstream = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
    seen: list[Any] = []

    def handle(event: Ordered) -> None:
        from opentelemetry import trace

        seen.append(trace.get_current_span().get_span_context())

    async with EventBus(transport=JsonHopTransport(), interceptors=[BusTracing(off)]) as bus:
        bus.subscribe(Ordered, handle)
        await bus.publish(Ordered(trace_context=upstream))
    [context] = seen
    expected = extract_context(upstream)
    from opentelemetry import trace

    assert context == trace.get_current_span(expected).get_span_context()


async def test_hops_a_runtime_marks_as_bookkeeping_get_no_spans(
    telemetry: Telemetry, receiver: OtlpReceiver
) -> None:
    tracing = BusTracing(
        telemetry,
        events=lambda event_type: event_type is not Packed,
        consumers=lambda subscription: not subscription.name.startswith("internal:"),
    )
    async with EventBus(interceptors=[tracing]) as bus:
        bus.subscribe(Ordered, lambda e: None, name="packer")
        bus.subscribe(Ordered, lambda e: None, name="internal:log")
        bus.subscribe(Packed, lambda e: None, name="shipper")
        await bus.publish(Ordered())
        await bus.publish(Packed())
    telemetry.force_flush()

    assert sorted(receiver.span_names()) == ["process tests.obs.Ordered", "send tests.obs.Ordered"]
    assert (
        receiver.span("process tests.obs.Ordered").attributes["messaging.consumer.group.name"]
        == "packer"
    )
