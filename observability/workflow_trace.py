"""One trace per workflow: a short root span, and the reference that resumes it.

A workflow's root is started here; every later span of the workflow finds it
through the W3C carrier its events carry (see :mod:`.propagation`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, NonRecordingSpan, Span, SpanContext, TraceFlags

from . import semconv as sc
from .propagation import inject_context
from .setup import Telemetry, default_telemetry
from .spans import record_error

__all__ = ["WorkflowTraceRef", "start_workflow_trace", "workflow_span"]


class WorkflowTraceRef(NamedTuple):
    """Where a workflow's trace is rooted: what the orchestrator stores to resume it."""

    trace_id: str
    """32 lowercase hex digits."""
    span_id: str
    """16 lowercase hex digits: the workflow's root span."""

    @classmethod
    def of(cls, context: SpanContext) -> WorkflowTraceRef:
        return cls(format(context.trace_id, "032x"), format(context.span_id, "016x"))

    @classmethod
    def parse(cls, stored: tuple[str, str] | None) -> WorkflowTraceRef | None:
        """``stored`` as a reference, or ``None`` when missing or malformed."""
        if stored is None:
            return None
        trace_id, span_id = stored
        try:
            valid = (
                len(trace_id) == 32
                and len(span_id) == 16
                and int(trace_id, 16) != 0
                and int(span_id, 16) != 0
            )
        except ValueError:
            return None
        return cls(trace_id.lower(), span_id.lower()) if valid else None

    def span_context(self) -> SpanContext:
        """The stored root as a remote parent, marked sampled (the flag is not stored)."""
        return SpanContext(
            trace_id=int(self.trace_id, 16),
            span_id=int(self.span_id, 16),
            is_remote=True,
            trace_flags=TraceFlags(TraceFlags.SAMPLED),
        )


def _workflow_attributes(workflow_id: str, batch_id: str | None, company: str) -> dict[str, Any]:
    attributes: dict[str, Any] = {sc.WORKFLOW_ID: workflow_id, sc.COMPANY: company}
    if batch_id is not None:
        attributes[sc.BATCH_ID] = batch_id
    return attributes


def _caller_links() -> list[Link]:
    """A link to whatever span started the workflow, which is not its parent."""
    caller = trace.get_current_span().get_span_context()
    return [Link(caller)] if caller.is_valid else []


def start_workflow_trace(
    workflow_id: str,
    batch_id: str | None,
    company: str,
    stored: tuple[str, str] | None = None,
    *,
    telemetry: Telemetry | None = None,
) -> tuple[WorkflowTraceRef | None, dict[str, str]]:
    """Root (or re-join) a workflow's trace; returns what to store and what the first event carries.

    Without ``stored`` a new trace begins with a ``workflow <company>`` root
    span; store the returned reference with the workflow. With ``stored`` (a
    resume after a restart, or after an approval) a ``workflow <company>
    (resumed)`` span is started under the stored root, so the trace id stays
    the same and the stored reference is returned unchanged. Put the returned
    carrier in the event that starts (or restarts) the work::

        ref, carrier = start_workflow_trace(wf.id, wf.batch_id, company.name, wf.trace_ref)
        await bus.publish(CompanySubmitted(..., trace_context=carrier))

    The span is ended at once rather than held open for the workflow's life.
    A workflow may wait hours for an approval, be retried after backoffs, or
    outlive the process that started it; a span is exported only when it
    ends, so a root held open would be lost in a crash and would leave every
    trace looking unfinished until then. A short root still parents every
    step span (a parent may end before its children), and the duration of
    the workflow is the trace's duration. Each workflow is its own trace even
    when started inside another span, which is linked instead of parenting
    thousands of workflows. With tracing off a new workflow gets ``(None, {})``
    and a resumed one its stored root as carrier, for processes that do trace.

    A new trace the sampler did not sample returns ``(None, carrier)``: the
    carrier (flags ``00``) still goes with every event, so nothing of the
    workflow is recorded anywhere, but there is no root worth storing (the
    stored reference does not keep the flag, and a resume under it would be
    recorded); a resumed unsampled workflow is sampled afresh.
    """
    tracer = (telemetry or default_telemetry()).tracer
    attributes = _workflow_attributes(workflow_id, batch_id, company)
    root = WorkflowTraceRef.parse(stored)
    if root is None:
        parent = Context()
        name = sc.workflow_span_name(company)
    else:
        parent = trace.set_span_in_context(NonRecordingSpan(root.span_context()), Context())
        name = sc.workflow_span_name(company, resumed=True)
        attributes[sc.WORKFLOW_RESUMED] = True
    span = tracer.start_span(name, context=parent, attributes=attributes, links=_caller_links())
    span.end()
    context = span.get_span_context()
    if not context.is_valid:
        return root, {}
    carrier = inject_context(trace.set_span_in_context(span))
    if root is None and not context.trace_flags.sampled:
        return None, carrier
    return (root or WorkflowTraceRef.of(context)), carrier


@contextmanager
def workflow_span(
    workflow_id: str,
    batch_id: str | None,
    company: str,
    *,
    telemetry: Telemetry | None = None,
) -> Iterator[Span]:
    """A root span held open, and current, for a workflow run within one block.

    For a workflow whose whole life is one call (a single company processed
    in the foreground, an example). Long-lived workflows use
    :func:`start_workflow_trace` instead; its docstring says why.
    """
    tracer = (telemetry or default_telemetry()).tracer
    with tracer.start_as_current_span(
        sc.workflow_span_name(company),
        context=Context(),
        attributes=_workflow_attributes(workflow_id, batch_id, company),
        links=_caller_links(),
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield span
        except Exception as exc:
            record_error(span, exc)
            raise
