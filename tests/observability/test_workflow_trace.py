"""A workflow is one trace: rooted once, re-joined on resume, carried by its first event."""

from __future__ import annotations

import pytest
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.trace import NoOpTracerProvider

from salesbus.bus import Event, EventBus
from salesbus.observability import (
    BusTracing,
    Telemetry,
    WorkflowTraceRef,
    start_workflow_trace,
    workflow_span,
)
from tests.fakes.otlp import OtlpReceiver

pytestmark = pytest.mark.anyio


class Submitted(Event):
    type_name = "tests.obs.Submitted"


async def test_the_first_event_of_a_workflow_is_sent_under_its_root_span(
    telemetry: Telemetry, receiver: OtlpReceiver
) -> None:
    ref, carrier = start_workflow_trace("wf-1", "batch-1", "Acme", telemetry=telemetry)
    async with EventBus(interceptors=[BusTracing(telemetry)]) as bus:
        bus.subscribe(Submitted, lambda e: None)
        await bus.publish(Submitted(correlation_id="wf-1", trace_context=carrier))
    telemetry.force_flush()

    root = receiver.span("workflow Acme")
    assert ref == WorkflowTraceRef(root.trace_id, root.span_id)
    assert root.parent_span_id == ""
    assert root.attributes == {
        "salesbus.workflow.id": "wf-1",
        "salesbus.batch.id": "batch-1",
        "salesbus.company": "Acme",
    }
    send = receiver.span("send tests.obs.Submitted")
    assert (send.trace_id, send.parent_span_id) == (root.trace_id, root.span_id)


async def test_a_resumed_workflow_continues_the_same_trace(
    telemetry: Telemetry, receiver: OtlpReceiver
) -> None:
    first, _ = start_workflow_trace("wf-1", None, "Acme", telemetry=telemetry)
    assert first is not None
    stored = (first.trace_id, first.span_id)  # what the orchestrator keeps in its store

    again, carrier = start_workflow_trace("wf-1", None, "Acme", stored, telemetry=telemetry)
    assert again == first
    async with EventBus(interceptors=[BusTracing(telemetry)]) as bus:
        bus.subscribe(Submitted, lambda e: None)
        await bus.publish(Submitted(trace_context=carrier))
    telemetry.force_flush()

    resumed = receiver.span("workflow Acme (resumed)")
    assert (resumed.trace_id, resumed.parent_span_id) == stored
    assert resumed.attributes["salesbus.workflow.resumed"] is True
    assert receiver.span("process tests.obs.Submitted").trace_id == first.trace_id


def test_a_workflow_started_inside_another_span_is_its_own_trace_linked_to_it(
    telemetry: Telemetry, receiver: OtlpReceiver
) -> None:
    with telemetry.tracer.start_as_current_span("batch upload"):
        start_workflow_trace("wf-1", None, "Acme", telemetry=telemetry)
    telemetry.force_flush()

    upload, root = receiver.span("batch upload"), receiver.span("workflow Acme")
    assert root.trace_id != upload.trace_id
    assert root.links == [(upload.trace_id, upload.span_id)]


@pytest.mark.parametrize(
    "stored",
    [("nothex", "0123456789abcdef"), ("0" * 32, "0" * 16), ("abc", "def")],
)
def test_a_malformed_stored_reference_starts_a_fresh_trace(
    telemetry: Telemetry, stored: tuple[str, str]
) -> None:
    ref, carrier = start_workflow_trace("wf-1", None, "Acme", stored, telemetry=telemetry)
    assert ref is not None
    assert ref.trace_id != stored[0]
    assert carrier["traceparent"].split("-")[1] == ref.trace_id


def test_with_tracing_off_a_new_workflow_carries_nothing_and_a_resumed_one_its_root() -> None:
    off = Telemetry(NoOpTracerProvider(), NoOpMeterProvider())
    assert start_workflow_trace("wf-1", None, "Acme", telemetry=off) == (None, {})

    stored = ("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331")
    ref, carrier = start_workflow_trace("wf-1", None, "Acme", stored, telemetry=off)
    assert ref == WorkflowTraceRef(*stored)
    # Another process that does trace continues the stored trace from this carrier.
    assert carrier == {"traceparent": f"00-{stored[0]}-{stored[1]}-01"}


def test_a_workflow_span_holds_a_foreground_run_and_records_its_failure(
    telemetry: Telemetry, receiver: OtlpReceiver
) -> None:
    with (
        pytest.raises(RuntimeError),
        workflow_span("wf-9", "b", "Acme", telemetry=telemetry),
        telemetry.tracer.start_as_current_span("step"),
    ):
        raise RuntimeError("boom")
    telemetry.force_flush()

    root, step = receiver.span("workflow Acme"), receiver.span("step")
    assert step.parent_span_id == root.span_id
    assert root.status == "ERROR"
    assert root.attributes["error.type"] == "RuntimeError"
