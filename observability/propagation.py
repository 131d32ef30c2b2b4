"""Trace context in events: W3C carriers, which parent a span takes, and whether it is sampled.

Trace context travels inside events (``Event.trace_context``, W3C
``traceparent``/``tracestate``), so one company's workflow stays one trace
across queues, retries after a backoff, restarts and other processes — with or
without a span per bus hop. Which context a span about an event starts in
follows one rule (:func:`event_parent_context`): the current span when it
belongs to the trace the event carries (in process, the bus runs a handler in
its publisher's context), otherwise the context the event carries (another
process, or an orchestrator publishing on a workflow's behalf from outside it).

:func:`parent_sampled` answers "would a child of this be recorded?" from the
``traceparent``'s flags alone, without the propagator's regex or any SDK call:
the fast path for traces that were not sampled.
"""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from salesbus.bus import Event

__all__ = [
    "UNSAMPLED_LAST_DIGITS",
    "event_parent_context",
    "extract_context",
    "inject_context",
    "parent_sampled",
]

_PROPAGATOR = TraceContextTextMapPropagator()
_TRACEPARENT = "traceparent"


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


def parent_sampled(event: Event) -> bool | None:
    """Whether a span about ``event`` has a sampled parent; ``None`` when it has no parent.

    Read from the carried ``traceparent``'s flags when there is one (a span in
    the same trace has the same decision, and a different trace's current
    span is not the parent: see :func:`event_parent_context`), else from the
    current span. ``None`` means the span would be a root, which only the
    sampler can decide.
    """
    carried = event.trace_context.get(_TRACEPARENT)
    if carried is not None:
        if len(carried) == 55:  # the usual version-00 header, read without a call
            known = _COMMON_FLAGS.get(carried[53:])
            if known is not None:
                return known
        return _sampled_flag(carried)
    current = trace.get_current_span().get_span_context()
    return current.trace_flags.sampled if current.is_valid else None


_COMMON_FLAGS = {"00": False, "01": True, "02": False, "03": True}
"""Flags as the SDK writes them (bit 1 is W3C level 2's "random trace id")."""

UNSAMPLED_LAST_DIGITS = frozenset("02468aceACE")
"""The last hex digit of a version-00 ``traceparent`` (55 characters) whose trace is
not sampled: for a per-hop check that cannot afford a function call."""


def _sampled_flag(traceparent: str) -> bool | None:
    """The sampled bit of ``00-<trace id>-<span id>-<flags>``; ``None`` if malformed."""
    if len(traceparent) < 55 or traceparent[52] != "-":
        return None
    try:
        return bool(int(traceparent[53:55], 16) & 1)
    except ValueError:
        return None


def _trace_id_of(carrier: Mapping[str, str]) -> str:
    """The trace id field of a ``traceparent`` (``00-<trace id>-<span id>-<flags>``)."""
    return carrier.get(_TRACEPARENT, "")[3:35]
