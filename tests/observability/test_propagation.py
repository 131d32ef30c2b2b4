"""Our W3C carrier reading and writing gives exactly what the SDK's propagator gives."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from salesbus.observability import extract_context, inject_context

PROPAGATOR = TraceContextTextMapPropagator()
TRACE = "0af7651916cd43dd8448eb211c80319c"
SPAN = "b7ad6b7169203331"


@pytest.mark.parametrize(
    "carrier",
    [
        {"traceparent": f"00-{TRACE}-{SPAN}-01"},
        {"traceparent": f"00-{TRACE}-{SPAN}-00"},
        {"traceparent": f"00-{TRACE}-{SPAN}-03"},
        {"traceparent": f"00-{TRACE}-{SPAN}-01", "tracestate": "vendor=a,other=b"},
        {"traceparent": f"00-{TRACE.upper()}-{SPAN}-01"},
        {"traceparent": f"00-{'0' * 32}-{SPAN}-01"},
        {"traceparent": f"00-{TRACE}-{'0' * 16}-01"},
        {"traceparent": f"00-{TRACE}-{SPAN}-0x"},
        {"traceparent": f"00-{TRACE[:-1]}_-{SPAN}-01"},
        {"traceparent": f"01-{TRACE}-{SPAN}-01-future"},
        {"traceparent": f"ff-{TRACE}-{SPAN}-01"},
        {"traceparent": "garbage"},
        {},
    ],
    ids=lambda carrier: carrier.get("traceparent", "none")[:8] + str(len(carrier)),
)
def test_a_carrier_reads_and_writes_back_as_the_sdk_propagator_does(
    carrier: dict[str, str],
) -> None:
    ours = extract_context(carrier)
    theirs = PROPAGATOR.extract(carrier)
    mine, sdk = (trace.get_current_span(c).get_span_context() for c in (ours, theirs))
    assert (mine, mine.is_remote, mine.trace_flags, mine.trace_state) == (
        sdk,
        sdk.is_remote,
        sdk.trace_flags,
        sdk.trace_state,
    )
    written: dict[str, str] = {}
    PROPAGATOR.inject(written, theirs)
    assert inject_context(ours) == written


def test_no_valid_span_writes_an_empty_carrier() -> None:
    assert inject_context(Context()) == {}
