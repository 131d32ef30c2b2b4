"""Span helpers for what a person opens a trace to see: agent steps, model calls, failures.

Every span here starts the same way (:class:`SpanScope`): attributes go in at
the start in one mapping, the span is current inside the ``with`` block, an
exception leaving the block marks it failed (redacted), and — the fast path —
when the parent belongs to a trace that was not sampled, no SDK call is made at
all: the unsampled parent stays current so that whatever runs inside inherits
the decision, and a non-recording span is used. An OpenTelemetry SDK span
costs tens of microseconds even when it is dropped; the check costs well under
one. With tracing off the tracer is the API's no-op and spans are non-recording.

The scopes are plain slotted classes, not generator-based context managers:
one is open around every step attempt and every model call in flight, across
the seconds a model takes, so whatever it allocates survives into the
collector's older generations. Four nested generator scopes per step made a
traced batch run twice as many full collections as an untraced one
(benchmarks/README.md, "Tracing overhead").
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

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
    "CurrentSpan",
    "SpanScope",
    "agent_span",
    "chat_span",
    "record_error",
]


class SpanScope:
    """A span started on entering the ``with`` block, current inside it, ended on leaving.

    Its parent is ``parent`` (default: the current context). If the parent
    span is valid but not sampled, the SDK is skipped (no span, no sampler, no
    attributes): the parent is made current, if it is not already, and
    :attr:`span` is :data:`~opentelemetry.trace.INVALID_SPAN`. A missing
    parent makes a root span, for the sampler to decide. The SDK's own
    exception recording is off so that :func:`record_error` can set the error
    kind and redact the message. Subclasses add what they record before the
    span ends in :meth:`_before_end`.
    """

    __slots__ = ("_attributes", "_kind", "_name", "_parent", "_token", "_tracer", "span")

    def __init__(
        self,
        tracer: trace.Tracer,
        name: str,
        kind: SpanKind,
        attributes: Mapping[str, Any] | None = None,
        parent: Context | None = None,
    ) -> None:
        self._tracer = tracer
        self._name = name
        self._kind = kind
        self._attributes = attributes
        self._parent = parent
        self._token: object = None
        self.span: Span = INVALID_SPAN

    def __enter__(self) -> Self:
        parent, attributes = self._parent, self._attributes
        self._parent = self._attributes = None  # not held across the block (see the module)
        parent_span = trace.get_current_span(parent)
        parent_context = parent_span.get_span_context()
        if parent_context.is_valid and not parent_context.trace_flags.sampled:
            if parent is not None:
                self._token = otel_context.attach(trace.set_span_in_context(parent_span))
            return self
        self.span = self._tracer.start_span(
            self._name, context=parent, kind=self._kind, attributes=attributes
        )
        self._token = otel_context.attach(trace.set_span_in_context(self.span))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        span = self.span
        try:
            if isinstance(exc, Exception):
                record_error(span, exc)
            self._before_end()
        finally:
            if self._token is not None:
                otel_context.detach(self._token)  # type: ignore[arg-type]
                self._token = None
            span.end()

    def _before_end(self) -> None:
        """What the scope records just before its span ends (nothing here)."""


class CurrentSpan:
    """``span`` current inside the block, an escaping error recorded on it, ended after.

    For a span started elsewhere (the bus's hop spans, which decide for
    themselves whether to start one); a class for the reason the module gives.
    """

    __slots__ = ("_token", "span")

    def __init__(self, span: Span) -> None:
        self.span = span
        self._token: object = None

    def __enter__(self) -> Span:
        self._token = otel_context.attach(trace.set_span_in_context(self.span))
        return self.span

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if isinstance(exc, Exception):
                record_error(self.span, exc)
        finally:
            otel_context.detach(self._token)  # type: ignore[arg-type]
            self.span.end()


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


class _UsageScope(SpanScope):
    """A span that adds up token usage and puts it on the span before it ends.

    Input counts cache reads and writes (``gen_ai.usage.input_tokens``); the
    cache counts are set only when not zero (absent means none): each
    attribute costs the SDK a few microseconds to validate, store and export,
    and most calls read and write no cache.
    """

    __slots__ = ("cache_read", "cache_write", "calls", "cost_usd", "output", "uncached_input")

    def _no_usage_yet(self) -> None:
        """Zero the tally; each subclass's ``__init__`` calls it after the scope's."""
        self.calls = 0
        self.uncached_input = 0
        self.cache_read = 0
        self.cache_write = 0
        self.output = 0
        self.cost_usd = 0.0

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
        self.calls += calls
        self.uncached_input += uncached_input_tokens
        self.cache_read += cache_read_tokens
        self.cache_write += cache_write_tokens
        self.output += output_tokens
        self.cost_usd += cost_usd

    @property
    def input_tokens(self) -> int:
        return self.uncached_input + self.cache_read + self.cache_write

    def _before_end(self) -> None:
        if not self.calls or not self.span.is_recording():
            return
        attributes: dict[str, Any] = {
            sc.GEN_AI_USAGE_INPUT_TOKENS: self.input_tokens,
            sc.GEN_AI_USAGE_OUTPUT_TOKENS: self.output,
            sc.LLM_COST_USD: round(self.cost_usd, 8),
            sc.LLM_CALLS: self.calls,
        }
        if self.cache_read:
            attributes[sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = self.cache_read
        if self.cache_write:
            attributes[sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = self.cache_write
        self.span.set_attributes(attributes)


class ChatRecorder(_UsageScope):
    """A ``chat <model>`` CLIENT span around one model call, current inside the block.

    Record the call's usage on it before the block ends: it becomes the
    ``gen_ai.usage.*`` attributes and the per-model token and cost counters
    (counted even when tracing is off or the trace is not sampled). An
    exception marks the span failed and propagates.
    """

    __slots__ = ("_metrics", "model", "provider")

    def __init__(
        self,
        provider: str,
        model: str,
        *,
        operation: str | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        handle = telemetry or default_telemetry()
        attributes: dict[str, Any] = {
            sc.GEN_AI_OPERATION_NAME: sc.OPERATION_CHAT,
            sc.GEN_AI_PROVIDER_NAME: provider,
            sc.GEN_AI_REQUEST_MODEL: model,
        }
        if operation is not None:
            attributes[sc.LLM_OPERATION] = operation
        super().__init__(handle.tracer, sc.chat_span_name(model), SpanKind.CLIENT, attributes)
        self._no_usage_yet()
        self._metrics: SalesbusMetrics = handle.metrics
        self.provider = provider
        self.model = model

    def _before_end(self) -> None:
        super()._before_end()
        if self.calls:
            self._metrics.llm_usage(
                self.provider, self.model, self.input_tokens, self.output, self.cost_usd
            )


chat_span = ChatRecorder
"""A ``chat <model>`` CLIENT span around one model call: ``with chat_span(provider, model):``."""


class AgentRecorder(_UsageScope):
    """An ``invoke_agent <agent>`` span, current for one step attempt.

    Current, so that the model calls and fetches the agent makes nest under
    it. ``parent`` is where the step's input event puts it
    (:func:`~salesbus.observability.event_parent_context`): without hop spans
    nothing about the workflow is current in the handler, and the event's
    carried context is what ties the attempt to its workflow's trace. Tell it
    how the attempt ended, and what it used, before the block ends.
    """

    __slots__ = ()

    def __init__(
        self,
        agent: str,
        *,
        attempt: int,
        workflow_id: str | None = None,
        batch_id: str | None = None,
        parent: Context | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        attributes: dict[str, Any] = {
            sc.GEN_AI_OPERATION_NAME: sc.OPERATION_INVOKE_AGENT,
            sc.GEN_AI_AGENT_NAME: agent,
            sc.STEP_ATTEMPT: attempt,
        }
        if workflow_id is not None:
            attributes[sc.WORKFLOW_ID] = workflow_id
        if batch_id is not None:
            attributes[sc.BATCH_ID] = batch_id
        tracer = (telemetry or default_telemetry()).tracer
        super().__init__(tracer, sc.agent_span_name(agent), SpanKind.INTERNAL, attributes, parent)
        self._no_usage_yet()

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


agent_span = AgentRecorder
"""An ``invoke_agent <agent>`` span for one step attempt: ``with agent_span(step, attempt=1):``."""
