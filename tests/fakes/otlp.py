"""A loopback OTLP/HTTP receiver: what the real exporter sends, decoded for assertions.

Tests point the real OTLP/HTTP exporters at it (``configure_telemetry(
otlp_endpoint=receiver.url)``) and read back plain records: spans with hex ids,
kind and status names and attribute dicts, and metric points. It accepts
``POST /v1/traces`` and ``POST /v1/metrics`` with protobuf bodies (gzip or
not), decodes them with ``opentelemetry-proto`` and answers like a collector.
It runs in a background thread, so it works under asyncio and trio alike.
"""

from __future__ import annotations

import gzip
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import Metric
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

__all__ = ["OtlpReceiver", "ReceivedEvent", "ReceivedMetric", "ReceivedPoint", "ReceivedSpan"]


@dataclass(frozen=True)
class ReceivedEvent:
    name: str
    attributes: dict[str, Any]


@dataclass(frozen=True)
class ReceivedSpan:
    trace_id: str
    span_id: str
    parent_span_id: str
    """``""`` for a root span."""
    name: str
    kind: str
    """``INTERNAL``, ``SERVER``, ``CLIENT``, ``PRODUCER`` or ``CONSUMER``."""
    status: str
    """``UNSET``, ``OK`` or ``ERROR``."""
    status_message: str
    attributes: dict[str, Any]
    events: list[ReceivedEvent]
    links: list[tuple[str, str]]
    """(trace id, span id) of each linked span."""
    resource: dict[str, Any]
    scope: str


@dataclass(frozen=True)
class ReceivedPoint:
    attributes: dict[str, Any]
    value: float
    """The sum's value, or the histogram's sum."""
    count: int | None = None
    """Histograms only: how many values were recorded."""


@dataclass(frozen=True)
class ReceivedMetric:
    name: str
    unit: str
    kind: str
    """``sum``, ``gauge`` or ``histogram``."""
    points: list[ReceivedPoint] = field(default_factory=list)


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return _attributes(value.kvlist_value.values)
    return getattr(value, kind)


def _attributes(pairs: Sequence[KeyValue]) -> dict[str, Any]:
    return {pair.key: _value(pair.value) for pair in pairs}


def _span(span: Span, resource: dict[str, Any], scope: str) -> ReceivedSpan:
    return ReceivedSpan(
        trace_id=span.trace_id.hex(),
        span_id=span.span_id.hex(),
        parent_span_id=span.parent_span_id.hex(),
        name=span.name,
        kind=Span.SpanKind.Name(span.kind).removeprefix("SPAN_KIND_"),
        status=Status.StatusCode.Name(span.status.code).removeprefix("STATUS_CODE_"),
        status_message=span.status.message,
        attributes=_attributes(span.attributes),
        events=[ReceivedEvent(e.name, _attributes(e.attributes)) for e in span.events],
        links=[(link.trace_id.hex(), link.span_id.hex()) for link in span.links],
        resource=resource,
        scope=scope,
    )


def _metric(metric: Metric) -> ReceivedMetric:
    kind = metric.WhichOneof("data")
    points: list[ReceivedPoint] = []
    if kind in ("sum", "gauge"):
        for point in getattr(metric, kind).data_points:
            number = point.as_int if point.WhichOneof("value") == "as_int" else point.as_double
            points.append(ReceivedPoint(_attributes(point.attributes), float(number)))
    elif kind == "histogram":
        for hist in metric.histogram.data_points:
            points.append(ReceivedPoint(_attributes(hist.attributes), hist.sum, hist.count))
    return ReceivedMetric(metric.name, metric.unit, kind or "", points)


class OtlpReceiver:
    """``with OtlpReceiver() as receiver:`` collects what is exported to ``receiver.url``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spans: list[ReceivedSpan] = []
        self._metrics: list[ReceivedMetric] = []
        self.paths: list[str] = []
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        """The base URL, as ``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``--otlp`` takes it."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def spans(self) -> list[ReceivedSpan]:
        with self._lock:
            return list(self._spans)

    @property
    def metrics(self) -> list[ReceivedMetric]:
        """Every metric of every export, oldest first (cumulative sums repeat)."""
        with self._lock:
            return list(self._metrics)

    def latest_metric(self, name: str) -> ReceivedMetric:
        """The last export of metric ``name``: with cumulative temporality, the totals."""
        for metric in reversed(self.metrics):
            if metric.name == name:
                return metric
        raise AssertionError(f"no metric {name!r}; got {sorted({m.name for m in self.metrics})}")

    def span(self, name: str) -> ReceivedSpan:
        """The one span called ``name``."""
        matching = [s for s in self.spans if s.name == name]
        assert len(matching) == 1, f"{len(matching)} spans named {name!r}: {self.span_names()}"
        return matching[0]

    def span_names(self) -> list[str]:
        return [s.name for s in self.spans]

    def wait_for(
        self, predicate: Callable[[list[ReceivedSpan]], bool], timeout: float = 5.0
    ) -> list[ReceivedSpan]:
        """Spans once ``predicate`` holds for them (for exports from other processes)."""
        deadline = time.monotonic() + timeout
        while not predicate(spans := self.spans):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for spans; have {self.span_names()}")
            time.sleep(0.02)
        return spans

    def clear(self) -> None:
        with self._lock:
            self._spans.clear()
            self._metrics.clear()

    def _received_traces(self, body: bytes) -> bytes:
        request = ExportTraceServiceRequest.FromString(body)
        spans = []
        for resource_spans in request.resource_spans:
            resource = _attributes(resource_spans.resource.attributes)
            for scope_spans in resource_spans.scope_spans:
                scope = scope_spans.scope.name
                spans.extend(_span(span, resource, scope) for span in scope_spans.spans)
        with self._lock:
            self._spans.extend(spans)
        return ExportTraceServiceResponse().SerializeToString()

    def _received_metrics(self, body: bytes) -> bytes:
        request = ExportMetricsServiceRequest.FromString(body)
        received = [
            _metric(metric)
            for resource_metrics in request.resource_metrics
            for scope_metrics in resource_metrics.scope_metrics
            for metric in scope_metrics.metrics
        ]
        with self._lock:
            self._metrics.extend(received)
        return ExportMetricsServiceResponse().SerializeToString()

    def __enter__(self) -> OtlpReceiver:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, receiver: OtlpReceiver) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.receiver = receiver


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as the exporter's session expects

    def do_POST(self) -> None:
        receiver = self.server.receiver
        body = self._body()
        receiver.paths.append(self.path)
        routes = {
            "/v1/traces": receiver._received_traces,
            "/v1/metrics": receiver._received_metrics,
        }
        route = routes.get(self.path)
        if route is None:
            self._answer(404, b"")
            return
        try:
            answer = route(body)
        except Exception as exc:  # a malformed export is a 400, as a collector says
            self._answer(400, str(exc).encode())
            return
        self._answer(200, answer)

    def _body(self) -> bytes:
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            return gzip.decompress(raw)
        if encoding == "deflate":
            return zlib.decompress(raw)
        return raw

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test output is for the tests."""
