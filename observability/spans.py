"""Span helpers for what a person opens a trace to see: agent steps, model calls, failures.

Every helper here starts its span the same way (:func:`child_span`): attributes
go in at the start in one mapping, the span is current inside the block, an
exception leaving the block marks it failed (redacted), and — the fast path —
when the parent belongs to a trace that was not sampled, no SDK call is made at
all: the unsampled parent stays current so that whatever runs inside inherits
the decision, and a non-recording span is yielded. An OpenTelemetry SDK span
costs tens of microseconds even when it is dropped; the check costs well under
one. With tracing off the tracer is the API's no-op and spans are non-recording.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import INVALID_SPAN, Span, SpanKind, Status, StatusCode

from . import semconv as sc
from .logs import redact
from .metrics import SalesbusMetrics
from .setup import Telemetry, default_telemetry

__all__ = [
    "AgentRecorder",
    "ChatRecorder",
    "agent_span",
    "chat_span",
    "child_span",
    "made_current",
    "record_error",
]


@contextmanager
def child_span(
    tracer: trace.Tracer,
    name: str,
    kind: SpanKind,
    attributes: Mapping[str, Any] | None = None,
    parent: Context | None = None,
) -> Iterator[Span]:
    """A span current inside the block, under ``parent`` (default: the current context).

    If the parent span is valid but not sampled, the SDK is skipped (no span,
    no sampler, no attributes): the parent is made current, if it is not
    already, and :data:`~opentelemetry.trace.INVALID_SPAN` is yielded. A
    missing parent makes a root span, for the sampler to decide. The SDK's own
    exception recording is off so that :func:`record_error` can set the error
    kind and redact the message.
    """
    parent_span = trace.get_current_span(parent)
    parent_context = parent_span.get_span_context()
    if parent_context.is_valid and not parent_context.trace_flags.sampled:
        if parent is None:
            yield INVALID_SPAN
            return
        token = otel_context.attach(trace.set_span_in_context(parent_span))
        try:
            yield INVALID_SPAN
        finally:
            otel_context.detach(token)
        return
    with made_current(
        tracer.start_span(name, context=parent, kind=kind, attributes=attributes)
    ) as span:
        yield span


@contextmanager
def made_current(span: Span) -> Iterator[Span]:
    """``span`` current inside the block, an escaping error recorded on it, ended after."""
    token = otel_context.attach(trace.set_span_in_context(span))
    try:
        yield span
    except Exception as exc:
        record_error(span, exc)
        raise
    finally:
        otel_context.detach(token)
        span.end()


# -- failures ----------------------------------------------------------------------


def record_error(
    span: Span,
    exc: BaseException | None,
    *,
    error_type: str | None = None,
    retryable: bool | None = None,
    message: str | None = None,
) -> None:
    """Mark ``span`` failed: ERROR status, ``error.type``, retryability and the exception.

    ``error_type`` defaults to the exception's ``kind`` (salesbus errors carry
    one) or its class name; ``retryable`` to its ``retryable`` attribute. The
    exception is recorded by hand rather than with ``Span.record_exception``
    so that its message and stack trace go through :func:`redact` first.
    """
    if not span.is_recording():
        return
    kind = error_type or _exception_kind(exc)
    if retryable is None and exc is not None:
        flag = getattr(exc, "retryable", None)
        retryable = flag if isinstance(flag, bool) else None
    description = message or (f"{type(exc).__name__}: {exc}" if exc is not None else kind)
    span.set_status(Status(StatusCode.ERROR, redact(description)))
    span.set_attribute(sc.ERROR_TYPE, kind)
    if retryable is not None:
        span.set_attribute(sc.ERROR_RETRYABLE, retryable)
    if exc is not None:
        span.add_event(
            sc.EXCEPTION_EVENT,
            {
                sc.EXCEPTION_TYPE: _qualified_name(type(exc)),
                sc.EXCEPTION_MESSAGE: redact(str(exc)),
                sc.EXCEPTION_STACKTRACE: redact("".join(traceback.format_exception(exc))),
            },
        )


def _exception_kind(exc: BaseException | None) -> str:
    if exc is None:
        return "error"
    kind = getattr(exc, "kind", None)
    return kind if isinstance(kind, str) and kind else _qualified_name(type(exc))


def _qualified_name(cls: type) -> str:
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


# -- model calls and agent steps ---------------------------------------------------


class _UsageTally:
    """Token usage added up over one span; input counts cache reads and writes."""

    __slots__ = ("cache_read", "cache_write", "calls", "cost_usd", "output", "uncached_input")

    def __init__(self) -> None:
        self.calls = 0
        self.uncached_input = 0
        self.cache_read = 0
        self.cache_write = 0
        self.output = 0
        self.cost_usd = 0.0

    def add(
        self,
        uncached_input_tokens: int,
        output_tokens: int,
        cache_read_tokens: int,
        cache_write_tokens: int,
        cost_usd: float,
        calls: int,
    ) -> None:
        self.calls += calls
        self.uncached_input += uncached_input_tokens
        self.cache_read += cache_read_tokens
        self.cache_write += cache_write_tokens
        self.output += output_tokens
        self.cost_usd += cost_usd

    @property
    def input(self) -> int:
        return self.uncached_input + self.cache_read + self.cache_write

    def attributes(self) -> dict[str, Any]:
        """The usage attributes; the cache counts only when not zero (absent means none).

        Each attribute costs the SDK a few microseconds to validate, store and
        export, and most calls read and write no cache.
        """
        attributes: dict[str, Any] = {
            sc.GEN_AI_USAGE_INPUT_TOKENS: self.input,
            sc.GEN_AI_USAGE_OUTPUT_TOKENS: self.output,
            sc.LLM_COST_USD: round(self.cost_usd, 8),
            sc.LLM_CALLS: self.calls,
        }
        if self.cache_read:
            attributes[sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = self.cache_read
        if self.cache_write:
            attributes[sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = self.cache_write
        return attributes


class _UsageRecorder:
    def __init__(self, span: Span) -> None:
        self.span = span
        self.usage = _UsageTally()

    def record_usage(
        self,
        *,
        uncached_input_tokens: int = 0,
        output_tokens: int = 0,
        cache_read_tokens: int = 0,
        cache_write_tokens: int = 0,
        cost_usd: float = 0.0,
        calls: int = 1,
    ) -> None:
        """Add one model call's usage; ``gen_ai.usage.input_tokens`` will include the cache."""
        self.usage.add(
            uncached_input_tokens,
            output_tokens,
            cache_read_tokens,
            cache_write_tokens,
            cost_usd,
            calls,
        )

    def _write_usage(self) -> None:
        if self.usage.calls and self.span.is_recording():
            self.span.set_attributes(self.usage.attributes())


class ChatRecorder(_UsageRecorder):
    """What :func:`chat_span` yields: record the call's usage on it before the span ends."""


@contextmanager
def chat_span(
    provider: str,
    model: str,
    *,
    operation: str | None = None,
    telemetry: Telemetry | None = None,
) -> Iterator[ChatRecorder]:
    """A ``chat <model>`` CLIENT span around one model call, current inside the block.

    Usage recorded on the yielded recorder becomes the ``gen_ai.usage.*``
    attributes and the per-model token and cost counters (recorded even when
    tracing is off or the trace is not sampled). An exception marks the span
    failed and propagates.
    """
    handle = telemetry or default_telemetry()
    attributes: dict[str, Any] = {
        sc.GEN_AI_OPERATION_NAME: sc.OPERATION_CHAT,
        sc.GEN_AI_PROVIDER_NAME: provider,
        sc.GEN_AI_REQUEST_MODEL: model,
    }
    if operation is not None:
        attributes[sc.LLM_OPERATION] = operation
    with child_span(handle.tracer, sc.chat_span_name(model), SpanKind.CLIENT, attributes) as span:
        recorder = ChatRecorder(span)
        try:
            yield recorder
        finally:
            recorder._write_usage()
            _count_llm_usage(handle.metrics, provider, model, recorder.usage)


def _count_llm_usage(
    metrics: SalesbusMetrics, provider: str, model: str, usage: _UsageTally
) -> None:
    if usage.calls:
        metrics.llm_usage(provider, model, usage.input, usage.output, usage.cost_usd)


class AgentRecorder(_UsageRecorder):
    """What :func:`agent_span` yields: how the step attempt ended, and what it used."""

    def succeeded(self) -> None:
        if self.span.is_recording():
            self.span.set_attribute(sc.STEP_OUTCOME, "succeeded")

    def skipped(self, outcome: str) -> None:
        """The agent declined on purpose (``outcome`` like ``disqualified``): not an error."""
        if self.span.is_recording():
            self.span.set_attributes({sc.STEP_OUTCOME: "skipped", sc.STEP_SKIP_OUTCOME: outcome})

    def failed(
        self, exc: BaseException | None, *, error_type: str, retryable: bool, message: str
    ) -> None:
        if self.span.is_recording():
            self.span.set_attribute(sc.STEP_OUTCOME, "failed")
            record_error(
                self.span, exc, error_type=error_type, retryable=retryable, message=message
            )


@contextmanager
def agent_span(
    agent: str,
    *,
    attempt: int,
    workflow_id: str | None = None,
    batch_id: str | None = None,
    parent: Context | None = None,
    telemetry: Telemetry | None = None,
) -> Iterator[AgentRecorder]:
    """An ``invoke_agent <agent>`` span, current for one step attempt.

    Current, so that the model calls and fetches the agent makes nest under it.
    ``parent`` is where the step's input event puts it
    (:func:`~salesbus.observability.event_parent_context`): without hop spans
    nothing about the workflow is current in the handler, and the event's
    carried context is what ties the attempt to its workflow's trace.
    """
    tracer = (telemetry or default_telemetry()).tracer
    attributes: dict[str, Any] = {
        sc.GEN_AI_OPERATION_NAME: sc.OPERATION_INVOKE_AGENT,
        sc.GEN_AI_AGENT_NAME: agent,
        sc.STEP_ATTEMPT: attempt,
    }
    if workflow_id is not None:
        attributes[sc.WORKFLOW_ID] = workflow_id
    if batch_id is not None:
        attributes[sc.BATCH_ID] = batch_id
    with child_span(
        tracer, sc.agent_span_name(agent), SpanKind.INTERNAL, attributes, parent
    ) as span:
        recorder = AgentRecorder(span)
        try:
            yield recorder
        finally:
            recorder._write_usage()
