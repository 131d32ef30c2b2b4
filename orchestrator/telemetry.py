"""Wiring observability into a run: traces per workflow, spans per step, metrics, from outside.

:func:`instrumentation_for` turns a :class:`~salesbus.observability.Telemetry`
handle into the :class:`~salesbus.orchestrator.runner.Instrumentation` a run
takes — nothing in the agents or the orchestrator's engine knows about it.
"""

from __future__ import annotations

from salesbus.agents.instrumentation import TracedFetcher, TracedProvider, TracingObserver
from salesbus.agents.providers.base import Provider
from salesbus.agents.status import StepEvent
from salesbus.bus import EventBus
from salesbus.observability import Telemetry, bus_tracing, start_workflow_trace

from .events import ApprovalRequested, WorkflowCompleted, WorkflowFailed
from .runner import Instrumentation
from .store import WorkflowRecord

__all__ = ["OtelWorkflowTracer", "instrumentation_for"]


class OtelWorkflowTracer:
    """One trace per workflow; a resumed workflow continues the trace id it stored."""

    def __init__(self, telemetry: Telemetry) -> None:
        self.telemetry = telemetry

    def begin(
        self, workflow: WorkflowRecord
    ) -> tuple[tuple[str, str] | None, dict[str, str]] | None:
        self.telemetry.metrics.workflow_started()
        stored = (
            (workflow.trace_id, workflow.span_id)
            if workflow.trace_id and workflow.span_id
            else None
        )
        ref, carrier = start_workflow_trace(
            workflow.id,
            workflow.batch_id,
            workflow.company.name,
            stored,
            telemetry=self.telemetry,
        )
        if not carrier:
            return None
        return (None if ref is None else (ref.trace_id, ref.span_id)), carrier

    def watch(self, bus: EventBus) -> None:
        """Count workflow outcomes from the orchestrator's events."""
        metrics = self.telemetry.metrics
        name = "orchestrator:metrics"
        bus.subscribe(WorkflowCompleted, lambda e: metrics.workflow_finished(e.outcome), name=name)
        bus.subscribe(WorkflowFailed, lambda e: metrics.workflow_finished("failed"), name=name)
        bus.subscribe(
            ApprovalRequested, lambda e: metrics.workflow_finished("awaiting_approval"), name=name
        )


def instrumentation_for(telemetry: Telemetry, *, bus_hops: bool | None = None) -> Instrumentation:
    """Spans for workflows, step attempts, model calls and fetches; hop spans only if asked.

    ``bus_hops`` asks for a ``send``/``process`` span pair per hop (default:
    ``SALESBUS_TRACE_BUS``); a broker transport, where events leave the
    process, should pass ``True``.
    """
    tracer = OtelWorkflowTracer(telemetry)

    def wrap(provider: Provider) -> Provider:
        return TracedProvider(provider, telemetry)

    # Without hop spans the bus needs no interceptor: every event of a workflow
    # carries its trace context by construction (the first one the root's,
    # agents' outputs and status events their cause's through ``caused()``, the
    # orchestrator's own the step's), and the step spans read it from there.
    # With hop spans: status events and the orchestrator's own subscribers
    # (store, event log, metrics) are bookkeeping the step spans already tell.
    interceptors = bus_tracing(
        telemetry,
        hops=bus_hops,
        events=lambda event_type: not issubclass(event_type, StepEvent),
        consumers=lambda subscription: not subscription.name.startswith("orchestrator:"),
    )
    return Instrumentation(
        interceptors=interceptors if telemetry.tracing_enabled else [],
        observers=[TracingObserver(telemetry)],
        tracer=tracer,
        wrap_provider=wrap,
        wrap_fetcher=lambda fetcher: TracedFetcher(fetcher, telemetry),
        on_bus=tracer.watch,
    )
