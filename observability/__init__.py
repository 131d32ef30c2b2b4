"""OpenTelemetry set-up, span helpers, metrics and logging for salesbus.

Imports :mod:`salesbus.bus` and nothing else of salesbus, so the bus can be
traced by applications that use it alone. Start with
:func:`configure_telemetry` (and :func:`configure_logging`); hand the returned
:class:`Telemetry` to :func:`bus_tracing` and to the agents' instrumentation.

Modules, one job each: ``setup`` (providers from ``OTEL_*``), ``propagation``
(trace context in events, sampled or not), ``spans`` (the span helper with the
unsampled fast path; agent and model-call spans), ``http_spans``,
``workflow_trace`` (a trace per workflow), ``bus_tracing`` (context on every
hop, hop spans when asked), ``metrics``, ``logs``, ``semconv``.
"""

from .bus_tracing import (
    TRACE_BUS_ENV,
    BusTracing,
    bus_tracing,
    hop_spans_wanted,
)
from .http_spans import HttpRecorder, http_span, safe_url
from .logs import (
    JsonFormatter,
    LogFormat,
    TextFormatter,
    TraceContextFilter,
    configure_logging,
    redact,
)
from .metrics import SalesbusMetrics
from .propagation import (
    event_parent_context,
    extract_context,
    inject_context,
    parent_sampled,
)
from .setup import (
    ExportPlan,
    OtlpProtocol,
    Telemetry,
    configure_telemetry,
    default_telemetry,
    resolve_export_plan,
)
from .spans import (
    AgentRecorder,
    ChatRecorder,
    SpanScope,
    agent_span,
    chat_span,
    record_error,
)
from .workflow_trace import WorkflowTraceRef, start_workflow_trace, workflow_span

__all__ = [
    "TRACE_BUS_ENV",
    "AgentRecorder",
    "BusTracing",
    "ChatRecorder",
    "ExportPlan",
    "HttpRecorder",
    "JsonFormatter",
    "LogFormat",
    "OtlpProtocol",
    "SalesbusMetrics",
    "SpanScope",
    "Telemetry",
    "TextFormatter",
    "TraceContextFilter",
    "WorkflowTraceRef",
    "agent_span",
    "bus_tracing",
    "chat_span",
    "configure_logging",
    "configure_telemetry",
    "default_telemetry",
    "event_parent_context",
    "extract_context",
    "hop_spans_wanted",
    "http_span",
    "inject_context",
    "parent_sampled",
    "record_error",
    "redact",
    "resolve_export_plan",
    "safe_url",
    "start_workflow_trace",
    "workflow_span",
]
