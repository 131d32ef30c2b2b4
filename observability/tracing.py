"""Spans for salesbus: bus hops, workflows, agent steps, model calls and web fetches.

Trace context travels inside events (``Event.trace_context``, W3C
``traceparent``/``tracestate``), so one company's workflow stays one trace
across queues, retries after a backoff, restarts and other processes. Which
context a span about an event starts in follows one rule
(:func:`event_parent_context`): the current span when it belongs to the trace
the event carries (in process, the bus runs a handler in its publisher's
context), otherwise the context the event carries (another process, or an
orchestrator publishing on a workflow's behalf from outside it).

When tracing is off the tracer is the API's no-op: spans are non-recording,
no attributes are computed and :class:`BusTracing` passes events on untouched.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    Span,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from salesbus.bus import ConsumeNext, Event, Interceptor, PublishNext, Subscription

from . import semconv as sc
from .logs import redact
from .metrics import SalesbusMetrics
from .setup import Telemetry, default_telemetry

__all__ = [
    "AgentRecorder",
    "BusTracing",
    "ChatRecorder",
    "HttpRecorder",
    "WorkflowTraceRef",
    "agent_span",
    "chat_span",
    "event_parent_context",
    "extract_context",
    "http_span",
    "inject_context",
    "record_error",
    "safe_url",
    "start_workflow_trace",
    "workflow_span",
]

_PROPAGATOR = TraceContextTextMapPropagator()
_TRACEPARENT = "traceparent"


# -- context propagation -----------------------------------------------------------


def inject_context(context: Context | None = None) -> dict[str, str]:
    """The W3C carrier (``traceparent``, ``tracestate``) of ``context`` (default: current)."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier, context)
    return carrier


def extract_context(carrier: Mapping[str, str]) -> Context:
    """A context whose current span is the (remote) span a carrier names."""
    return _PROPAGATOR.extract(carrier)


def event_parent_context(event: Event) -> Context | None:
    """The context a span about ``event`` starts in; ``None`` means the current one.

    The current span wins when it is in the trace the event carries (or the
    event carries none): in process it is the more precise parent. The
    event's own context wins otherwise — in another process nothing is
    current, and a publisher acting for a different workflow than the one it
    is handling must not pull that workflow into its own trace.
    """
    carried = event.trace_context
    if not carried:
        return None
    current = trace.get_current_span().get_span_context()
    if current.is_valid and _trace_id_of(carried) == format(current.trace_id, "032x"):
        return None
    return extract_context(carried)


def _trace_id_of(carrier: Mapping[str, str]) -> str:
    """The trace id field of a ``traceparent`` (``00-<trace id>-<span id>-<flags>``)."""
    return carrier.get(_TRACEPARENT, "")[3:35]


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


# -- the bus -----------------------------------------------------------------------


class BusTracing(Interceptor):
    """Messaging spans around every bus hop: ``send <type>`` and ``process <type>``.

    On publish it starts a PRODUCER span and, only if that span records, passes
    on a copy of the event carrying the span's context (events are immutable).
    On consume it starts a CONSUMER span, current while the handler runs, so
    whatever the handler does nests under it. ``system`` names the transport in
    ``messaging.system`` (``salesbus`` in memory, ``nats`` for the broker)::

        bus = EventBus(interceptors=[BusTracing(telemetry)])
    """

    def __init__(
        self,
        telemetry: Telemetry | None = None,
        *,
        system: str = sc.MESSAGING_SYSTEM_SALESBUS,
        events: Callable[[type[Event]], bool] | None = None,
        consumers: Callable[[Subscription[Event]], bool] | None = None,
    ) -> None:
        """``events`` and ``consumers`` choose which hops get spans (default: all).

        A runtime's own bookkeeping (status events, an event log) can be left
        out: an SDK span costs tens of microseconds, many times a bus hop, and
        those spans say nothing the step spans do not.
        """
        self._tracer = (telemetry or default_telemetry()).tracer
        self.system = system
        self._events = events
        self._consumers = consumers
        self._traced_types: dict[type[Event], bool] = {}

    def _traces(self, event_type: type[Event]) -> bool:
        traced = self._traced_types.get(event_type)
        if traced is None:
            traced = self._events is None or self._events(event_type)
            self._traced_types[event_type] = traced
        return traced

    async def publish_scope(self, call_next: PublishNext, event: Event) -> None:
        if not self._traces(type(event)):
            await call_next(event)
            return
        name = type(event).type_name
        span = self._tracer.start_span(
            sc.send_span_name(name), context=event_parent_context(event), kind=SpanKind.PRODUCER
        )
        if not span.is_recording():
            await call_next(event)
            return
        span.set_attributes(self._attributes(event, name, sc.OPERATION_SEND))
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            await call_next(event.model_copy(update={"trace_context": inject_context()}))
        except Exception as exc:
            record_error(span, exc)
            raise
        finally:
            otel_context.detach(token)
            span.end()

    async def consume_scope(
        self, call_next: ConsumeNext, event: Event, subscription: Subscription[Event]
    ) -> None:
        if not self._traces(type(event)) or (
            self._consumers is not None and not self._consumers(subscription)
        ):
            await call_next(event)
            return
        name = type(event).type_name
        span = self._tracer.start_span(
            sc.process_span_name(name), context=event_parent_context(event), kind=SpanKind.CONSUMER
        )
        if not span.get_span_context().is_valid:
            await call_next(event)
            return
        if span.is_recording():
            attributes = self._attributes(event, name, sc.OPERATION_PROCESS)
            attributes[sc.MESSAGING_CONSUMER_GROUP_NAME] = subscription.name
            span.set_attributes(attributes)
        # A valid but non-recording span (an unsampled trace) is still made
        # current, so the handler's own spans inherit the sampling decision.
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            await call_next(event)
        except Exception as exc:
            record_error(span, exc)
            raise
        finally:
            otel_context.detach(token)
            span.end()

    def _attributes(self, event: Event, name: str, operation: str) -> dict[str, Any]:
        attributes: dict[str, Any] = {
            sc.MESSAGING_SYSTEM: self.system,
            sc.MESSAGING_DESTINATION_NAME: name,
            sc.MESSAGING_OPERATION_TYPE: operation,
            sc.MESSAGING_OPERATION_NAME: operation,
            sc.MESSAGING_MESSAGE_ID: event.event_id,
        }
        if event.correlation_id is not None:
            attributes[sc.MESSAGING_MESSAGE_CONVERSATION_ID] = event.correlation_id
            attributes[sc.WORKFLOW_ID] = event.correlation_id
        return attributes


# -- workflows ---------------------------------------------------------------------


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
        return {
            sc.GEN_AI_USAGE_INPUT_TOKENS: self.input,
            sc.GEN_AI_USAGE_OUTPUT_TOKENS: self.output,
            sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: self.cache_read,
            sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: self.cache_write,
            sc.LLM_COST_USD: round(self.cost_usd, 8),
            sc.LLM_CALLS: self.calls,
        }


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


@contextmanager
def _recording_errors(
    tracer: trace.Tracer, name: str, kind: SpanKind, attributes: dict[str, Any] | None = None
) -> Iterator[Span]:
    """A current span that records an exception leaving it, the way our helpers all do.

    The SDK's own exception recording is off so that ``record_error`` can set
    the error kind and redact the message.
    """
    with tracer.start_as_current_span(
        name,
        kind=kind,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield span
        except Exception as exc:
            record_error(span, exc)
            raise


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
    tracing is off). An exception marks the span failed and propagates.
    """
    handle = telemetry or default_telemetry()
    attributes: dict[str, Any] = {
        sc.GEN_AI_OPERATION_NAME: sc.OPERATION_CHAT,
        sc.GEN_AI_PROVIDER_NAME: provider,
        sc.GEN_AI_REQUEST_MODEL: model,
    }
    if operation is not None:
        attributes[sc.LLM_OPERATION] = operation
    with _recording_errors(
        handle.tracer, sc.chat_span_name(model), SpanKind.CLIENT, attributes
    ) as span:
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
    telemetry: Telemetry | None = None,
) -> Iterator[AgentRecorder]:
    """An ``invoke_agent <agent>`` span, current for one step attempt.

    Current, so that the model calls and fetches the agent makes nest under it.
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
    with _recording_errors(
        tracer, sc.agent_span_name(agent), SpanKind.INTERNAL, attributes
    ) as span:
        recorder = AgentRecorder(span)
        try:
            yield recorder
        finally:
            recorder._write_usage()


# -- website fetches ---------------------------------------------------------------


def safe_url(url: str) -> str:
    """``url`` fit for ``url.full``: no credentials, query values replaced, no fragment.

    Query strings carry tokens and signatures often enough that keeping only
    their keys is the safe default; emails in the path are masked too.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = _explicit_port(url)
    netloc = f"{host}:{port}" if port is not None else host
    query = urlencode(
        [(key, "REDACTED") for key, _ in parse_qsl(parts.query, keep_blank_values=True)],
        safe="",
    )
    return redact(urlunsplit((parts.scheme, netloc, parts.path, query, "")))


def _explicit_port(url: str) -> int | None:
    try:
        return urlsplit(url).port
    except ValueError:  # a port out of range or not a number
        return None


class HttpRecorder:
    """What :func:`http_span` yields: tell it the response status."""

    def __init__(self, span: Span) -> None:
        self.span = span

    def response(self, status_code: int) -> None:
        """Record ``status_code``; 4xx and 5xx mark the span failed (``error.type`` = code)."""
        if not self.span.is_recording():
            return
        self.span.set_attribute(sc.HTTP_RESPONSE_STATUS_CODE, status_code)
        if status_code >= 400:
            self.span.set_status(Status(StatusCode.ERROR))
            self.span.set_attribute(sc.ERROR_TYPE, str(status_code))


@contextmanager
def http_span(
    method: str, url: str, *, telemetry: Telemetry | None = None
) -> Iterator[HttpRecorder]:
    """An HTTP CLIENT span named after the method, around one request (one redirect hop)."""
    tracer = (telemetry or default_telemetry()).tracer
    method = method.upper()
    with _recording_errors(tracer, method, SpanKind.CLIENT) as span:
        if span.is_recording():
            parts = urlsplit(url)
            attributes: dict[str, Any] = {
                sc.HTTP_REQUEST_METHOD: method,
                sc.URL_FULL: safe_url(url),
                sc.SERVER_ADDRESS: parts.hostname or "",
            }
            port = _explicit_port(url) or {"http": 80, "https": 443}.get(parts.scheme)
            if port is not None:
                attributes[sc.SERVER_PORT] = port
            span.set_attributes(attributes)
        yield HttpRecorder(span)
