"""The bus and traces: context on every hop by default, hop spans when asked for.

A person reading a company's trace in Jaeger wants its steps, model calls and
fetches; an in-process hop would add two spans that say little there, and an
SDK span costs dozens of hops. So by default the bus makes no spans and has no
tracing interceptor at all: the trace context travels in the events
(``Event.trace_context``, copied by ``event.caused()``), and in process a
handler runs in its publisher's ``contextvars`` context anyway.
:class:`BusTracing` adds ``send`` / ``process`` spans with messaging
attributes; :func:`bus_tracing` gives it when asked:

* ``hops=True`` (or ``SALESBUS_TRACE_BUS=1`` with ``hops=None``) for debugging;
* a transport where events leave the process (a broker such as NATS) should
  always pass ``hops=True`` and ``system="nats"``: there the hop is a real
  boundary a person wants to see, and its consumer span is the only parent
  the other side has.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind

from salesbus.bus import ConsumeNext, Event, Interceptor, PublishNext, Subscription

from . import semconv as sc
from .propagation import (
    UNSAMPLED_LAST_DIGITS,
    event_parent_context,
    inject_context,
    parent_sampled,
)
from .setup import Telemetry, default_telemetry
from .spans import CurrentSpan

__all__ = ["TRACE_BUS_ENV", "BusTracing", "bus_tracing", "hop_spans_wanted"]

TRACE_BUS_ENV = "SALESBUS_TRACE_BUS"
"""Set to ``1`` (or ``true``) to get a ``send`` and a ``process`` span per bus hop."""

_TRUE = frozenset({"1", "true", "yes", "on"})


def hop_spans_wanted(hops: bool | None = None) -> bool:
    """``hops`` if given, else whether ``SALESBUS_TRACE_BUS`` asks for hop spans."""
    if hops is not None:
        return hops
    return os.environ.get(TRACE_BUS_ENV, "").strip().lower() in _TRUE


def bus_tracing(
    telemetry: Telemetry | None = None,
    *,
    hops: bool | None = None,
    system: str = sc.MESSAGING_SYSTEM_SALESBUS,
    events: Callable[[type[Event]], bool] | None = None,
    consumers: Callable[[Subscription[Event]], bool] | None = None,
) -> list[Interceptor]:
    """The interceptors tracing needs on a bus: ``[BusTracing]`` with hop spans, else none.

    Without hop spans the bus needs nothing: an event made with
    ``event.caused()`` carries its cause's context, a first event can be
    given ``trace_context=inject_context()``, and in process a handler runs
    in its publisher's ``contextvars`` context anyway. Any interceptor would
    cost a hop more than the target allows (the bus's fast path is for
    buses without publish interceptors)::

        bus = EventBus(interceptors=bus_tracing(telemetry))

    ``system``, ``events`` and ``consumers`` are :class:`BusTracing`'s.
    """
    if not hop_spans_wanted(hops):
        return []
    return [BusTracing(telemetry, system=system, events=events, consumers=consumers)]


class BusTracing(Interceptor):
    """Messaging spans around every bus hop: ``send <type>`` and ``process <type>``.

    On publish it starts a PRODUCER span and passes on a copy of the event
    carrying the span's context (events are immutable). On consume it starts
    a CONSUMER span, current while the handler runs, so whatever the handler
    does nests under it. ``system`` names the transport in
    ``messaging.system`` (``salesbus`` in memory, ``nats`` for the broker)::

        bus = EventBus(interceptors=[BusTracing(telemetry)])

    An event whose trace was not sampled costs no SDK call on either side: it
    passes on untouched, carrying its (unsampled) context, exactly as without
    hop spans; salesbus's step spans read it from the event
    (:func:`~salesbus.observability.event_parent_context`) and so decline too.
    Nothing is made current for it: building and attaching a context would
    cost about as much as the hop. A root send span the sampler declined still
    stamps its context on the event, so the rest of that trace is declined
    too, without asking the sampler again.
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

    def passes(self, event: Event) -> bool:
        """An unsampled event, or one of a type left out, gets no span: the bus skips us.

        Asked twice per hop (publish and delivery), so the usual case is one
        lookup: the flags' last hex digit sits at index 54 of every
        ``traceparent`` (version 00 ends there; later versions only append).
        A malformed header whose character there is even loses its hop spans,
        nothing else.
        """
        try:
            if event.trace_context["traceparent"][54] in UNSAMPLED_LAST_DIGITS:
                return True
        except (KeyError, IndexError):
            if parent_sampled(event) is False:
                return True
        traced = self._traced_types.get(type(event))
        return not (self._traces(type(event)) if traced is None else traced)

    def consumes(self, subscription: Subscription[Event]) -> bool:
        """Only the subscriptions ``consumers`` keeps get process spans (default: all)."""
        return self._consumers is None or self._consumers(subscription)

    def _traces(self, event_type: type[Event]) -> bool:
        traced = self._traced_types.get(event_type)
        if traced is None:
            traced = self._events is None or self._events(event_type)
            self._traced_types[event_type] = traced
        return traced

    async def publish_scope(self, call_next: PublishNext, event: Event) -> None:
        if _carries_unsampled(event) or not self._traces(type(event)):
            await call_next(event)
            return
        name = type(event).type_name
        span = self._tracer.start_span(
            sc.send_span_name(name),
            context=event_parent_context(event),
            kind=SpanKind.PRODUCER,
            attributes=self._attributes(event, name, sc.OPERATION_SEND),
        )
        if not span.is_recording():
            if span.get_span_context().is_valid and not event.trace_context:
                event = event.model_copy(
                    update={"trace_context": inject_context(trace.set_span_in_context(span))}
                )
            await call_next(event)
            return
        with CurrentSpan(span):
            await call_next(event.model_copy(update={"trace_context": inject_context()}))

    async def consume_scope(
        self, call_next: ConsumeNext, event: Event, subscription: Subscription[Event]
    ) -> None:
        if _carries_unsampled(event) or not self._traces(type(event)):
            await call_next(event)
            return
        name = type(event).type_name
        attributes = self._attributes(event, name, sc.OPERATION_PROCESS)
        attributes[sc.MESSAGING_CONSUMER_GROUP_NAME] = subscription.name
        span = self._tracer.start_span(
            sc.process_span_name(name),
            context=event_parent_context(event),
            kind=SpanKind.CONSUMER,
            attributes=attributes,
        )
        if not span.get_span_context().is_valid:
            await call_next(event)
            return
        # A valid but non-recording span (a root the sampler declined) is still
        # made current, so the handler's own spans inherit the decision.
        with CurrentSpan(span):
            await call_next(event)

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


def _carries_unsampled(event: Event) -> bool:
    """Whether ``event``'s parent is known not to be sampled: the per-hop fast path.

    The usual version-00 ``traceparent`` is judged by its last hex digit (no
    slicing, no parsing); anything else goes the long way.
    """
    carried = event.trace_context.get("traceparent")
    if carried is None:
        return parent_sampled(event) is False
    if len(carried) == 55:
        return carried[54] in UNSAMPLED_LAST_DIGITS
    return parent_sampled(event) is False
