"""OpenTelemetry set-up, span helpers, metrics and logging for salesbus.

Imports :mod:`salesbus.bus` and nothing else of salesbus, so the bus can be
traced by applications that use it alone. Start with
:func:`configure_telemetry` (and :func:`configure_logging`); hand the returned
:class:`Telemetry` to :class:`BusTracing` and to the agents' instrumentation.
"""

from .logs import (
    JsonFormatter,
    LogFormat,
    TextFormatter,
    TraceContextFilter,
    configure_logging,
    redact,
)
from .metrics import SalesbusMetrics
from .setup import (
    ExportPlan,
    OtlpProtocol,
    Telemetry,
    configure_telemetry,
    default_telemetry,
    resolve_export_plan,
)
from .tracing import (
    AgentRecorder,
    BusTracing,
    ChatRecorder,
    HttpRecorder,
    WorkflowTraceRef,
    agent_span,
    chat_span,
    event_parent_context,
    extract_context,
    http_span,
    inject_context,
    record_error,
    safe_url,
    start_workflow_trace,
    workflow_span,
)

__all__ = [
    "AgentRecorder",
    "BusTracing",
    "ChatRecorder",
    "ExportPlan",
    "HttpRecorder",
    "JsonFormatter",
    "LogFormat",
    "OtlpProtocol",
    "SalesbusMetrics",
    "Telemetry",
    "TextFormatter",
    "TraceContextFilter",
    "WorkflowTraceRef",
    "agent_span",
    "chat_span",
    "configure_logging",
    "configure_telemetry",
    "default_telemetry",
    "event_parent_context",
    "extract_context",
    "http_span",
    "inject_context",
    "record_error",
    "redact",
    "resolve_export_plan",
    "safe_url",
    "start_workflow_trace",
    "workflow_span",
]
