"""Turning telemetry on (or leaving it off) from the standard OpenTelemetry settings.

:func:`configure_telemetry` reads the usual ``OTEL_*`` environment variables
plus an explicit endpoint (the CLI's ``--otlp URL``) and returns a
:class:`Telemetry` handle that every salesbus component takes its tracer and
meter from. Three situations, decided per signal (traces, metrics):

* **An application already installed a global provider** (salesbus is
  embedded): salesbus uses it and never replaces it; its spans join the
  application's traces.
* **An exporter is configured** (``--otlp``, ``OTEL_EXPORTER_OTLP_ENDPOINT`` or
  a per-signal endpoint): salesbus builds an SDK provider with a batch
  processor (traces) or a periodic reader (metrics) and installs it globally
  so other instrumentation shares it (``private=True`` keeps it to the handle).
* **Nothing is configured, or** ``OTEL_SDK_DISABLED=true``: no SDK is installed
  or even imported; the handle holds the API's proxy providers, whose spans are
  non-recording and whose instruments do nothing — until an application sets a
  real provider, which the proxies then follow.

Everything else the SDK reads itself: ``OTEL_TRACES_SAMPLER(_ARG)``,
``OTEL_BSP_*``, ``OTEL_METRIC_EXPORT_INTERVAL``, ``OTEL_EXPORTER_OTLP_HEADERS``,
``…_TIMEOUT``, ``…_COMPRESSION``, ``…_CERTIFICATE``, ``OTEL_RESOURCE_ATTRIBUTES``.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from types import TracebackType
from typing import TYPE_CHECKING, Literal, Self

from opentelemetry import metrics, trace
from opentelemetry.metrics import MeterProvider, NoOpMeterProvider
from opentelemetry.metrics._internal import _ProxyMeterProvider
from opentelemetry.trace import NoOpTracerProvider, ProxyTracerProvider, TracerProvider

from . import semconv as sc
from .metrics import SalesbusMetrics

if TYPE_CHECKING:
    from opentelemetry.sdk.metrics.export import MetricExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace.export import SpanExporter

__all__ = [
    "ExportPlan",
    "OtlpProtocol",
    "Telemetry",
    "configure_telemetry",
    "default_telemetry",
    "resolve_export_plan",
]

logger = logging.getLogger("salesbus.observability")

OtlpProtocol = Literal["http/protobuf", "grpc"]
Signal = Literal["traces", "metrics"]

_PROTOCOLS: tuple[OtlpProtocol, ...] = ("http/protobuf", "grpc")
_TRUE = frozenset({"true", "1", "yes", "on"})


@dataclass(frozen=True, slots=True)
class ExportPlan:
    """Where each signal goes; ``None`` means that signal is not exported by salesbus."""

    traces_endpoint: str | None = None
    traces_protocol: OtlpProtocol = "http/protobuf"
    metrics_endpoint: str | None = None
    metrics_protocol: OtlpProtocol = "http/protobuf"
    disabled: bool = False
    """``OTEL_SDK_DISABLED`` is set: nothing is exported whatever else says."""

    @property
    def exports_anything(self) -> bool:
        return not self.disabled and bool(self.traces_endpoint or self.metrics_endpoint)


def resolve_export_plan(
    otlp_endpoint: str | None = None,
    protocol: str | None = None,
    environ: Mapping[str, str] = os.environ,
) -> ExportPlan:
    """Decide, without side effects, what :func:`configure_telemetry` will export where.

    Precedence for each signal: the explicit ``otlp_endpoint`` (a base URL like
    ``OTEL_EXPORTER_OTLP_ENDPOINT``), then ``OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT``
    (used as given), then ``OTEL_EXPORTER_OTLP_ENDPOINT``. ``OTEL_<SIGNAL>_EXPORTER=none``
    turns a signal off; only ``otlp`` is supported besides.
    """
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() in _TRUE:
        return ExportPlan(disabled=True)
    traces_protocol = _protocol("traces", protocol, environ)
    metrics_protocol = _protocol("metrics", protocol, environ)
    return ExportPlan(
        traces_endpoint=_endpoint("traces", traces_protocol, otlp_endpoint, environ),
        traces_protocol=traces_protocol,
        metrics_endpoint=_endpoint("metrics", metrics_protocol, otlp_endpoint, environ),
        metrics_protocol=metrics_protocol,
    )


def _protocol(signal: Signal, explicit: str | None, environ: Mapping[str, str]) -> OtlpProtocol:
    chosen = (
        explicit
        or environ.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_PROTOCOL")
        or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    ).strip()
    for known in _PROTOCOLS:
        if chosen == known:
            return known
    logger.warning("OTLP protocol %r is not supported for %s; using http/protobuf", chosen, signal)
    return "http/protobuf"


def _endpoint(
    signal: Signal, protocol: OtlpProtocol, explicit: str | None, environ: Mapping[str, str]
) -> str | None:
    exporters = environ.get(f"OTEL_{signal.upper()}_EXPORTER", "otlp")
    chosen = {name.strip().lower() for name in exporters.split(",")}
    if "otlp" not in chosen:
        if chosen - {"none", ""}:
            logger.warning("OTEL_%s_EXPORTER=%s is not supported; only otlp", signal, exporters)
        return None
    if explicit:
        return _signal_url(explicit, signal, protocol)
    specific = environ.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT")
    if specific:
        return specific
    base = environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    return _signal_url(base, signal, protocol) if base else None


def _signal_url(base: str, signal: Signal, protocol: OtlpProtocol) -> str:
    """OTLP/HTTP wants ``<base>/v1/<signal>``; gRPC takes the base as it is.

    A base that already names a signal path (``…/v1/traces``) is trimmed first,
    so ``--otlp http://host:4318/v1/traces`` works as people expect.
    """
    if protocol == "grpc":
        return base
    trimmed = base.rstrip("/")
    for path in ("/v1/traces", "/v1/metrics"):
        trimmed = trimmed.removesuffix(path)
    return f"{trimmed}/v1/{signal}"


class Telemetry:
    """The tracer and meter salesbus components use, and the providers behind them.

    Pass one handle to every component (``BusTracing``, ``TracingObserver``,
    ``TracedProvider``, the workflow helpers); without one they use
    :func:`default_telemetry`, the global providers. Only providers this handle
    created are shut down by :meth:`shutdown`; an application's are left alone.
    Use it as a context manager to flush and shut down on the way out.
    """

    def __init__(
        self,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        *,
        owns_tracer_provider: bool = False,
        owns_meter_provider: bool = False,
    ) -> None:
        self.tracer_provider = (
            tracer_provider if tracer_provider is not None else trace.get_tracer_provider()
        )
        self.meter_provider = (
            meter_provider if meter_provider is not None else metrics.get_meter_provider()
        )
        self.owns_tracer_provider = owns_tracer_provider
        self.owns_meter_provider = owns_meter_provider
        self.tracer = self.tracer_provider.get_tracer(sc.INSTRUMENTATION_NAME, _version())
        self.meter = self.meter_provider.get_meter(sc.INSTRUMENTATION_NAME, _version())
        self._metrics: SalesbusMetrics | None = None

    @property
    def metrics(self) -> SalesbusMetrics:
        """The instruments, created on first use from this handle's meter."""
        if self._metrics is None:
            self._metrics = SalesbusMetrics(self.meter)
        return self._metrics

    @property
    def tracing_enabled(self) -> bool:
        """Whether a real tracer provider (salesbus's or the application's) stands behind spans."""
        provider = self.tracer_provider
        if isinstance(provider, ProxyTracerProvider):
            provider = trace.get_tracer_provider()
        return not isinstance(provider, ProxyTracerProvider | NoOpTracerProvider)

    @property
    def metrics_enabled(self) -> bool:
        provider = self.meter_provider
        if isinstance(provider, _ProxyMeterProvider):
            provider = metrics.get_meter_provider()
        return not isinstance(provider, _ProxyMeterProvider | NoOpMeterProvider)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Export what is buffered now; ``False`` if a provider did not finish in time.

        Flushes an application's providers too: harmless, and what a caller
        asking for a flush means.
        """
        flushed = True
        for provider in (self.tracer_provider, self.meter_provider):
            flush = getattr(provider, "force_flush", None)
            if callable(flush):
                flushed = bool(flush(timeout_millis)) and flushed
        return flushed

    def shutdown(self) -> None:
        """Flush and stop the providers this handle created (never an application's)."""
        if self.owns_tracer_provider:
            _shutdown(self.tracer_provider)
            self.owns_tracer_provider = False
        if self.owns_meter_provider:
            _shutdown(self.meter_provider)
            self.owns_meter_provider = False

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.shutdown()

    def __repr__(self) -> str:
        return (
            f"<Telemetry tracing={'on' if self.tracing_enabled else 'off'}"
            f" metrics={'on' if self.metrics_enabled else 'off'}"
            f" owns_tracer_provider={self.owns_tracer_provider}"
            f" owns_meter_provider={self.owns_meter_provider}>"
        )


def _shutdown(provider: object) -> None:
    """SDK providers have ``shutdown``; the API's provider types do not declare it."""
    stop = getattr(provider, "shutdown", None)
    if callable(stop):
        stop()


_default: Telemetry | None = None


def default_telemetry() -> Telemetry:
    """A handle over the global providers, for components given none.

    The API's proxies follow a provider installed later, so one handle made
    early stays right for the life of the process.
    """
    global _default
    if _default is None:
        _default = Telemetry()
    return _default


def configure_telemetry(
    otlp_endpoint: str | None = None,
    service_name: str = "salesbus",
    *,
    protocol: str | None = None,
    private: bool = False,
) -> Telemetry:
    """Set telemetry up from ``otlp_endpoint`` (the CLI's ``--otlp``) and ``OTEL_*``.

    ``service_name`` names the service unless ``OTEL_SERVICE_NAME`` or
    ``OTEL_RESOURCE_ATTRIBUTES`` already do. With ``private=True`` the global
    providers are neither used nor set: the handle's providers serve only the
    components it is given to (tests; an application that wants salesbus's
    telemetry kept apart from its own). Call :meth:`Telemetry.shutdown` (or use
    the handle as a context manager) to flush before the process exits.
    """
    plan = resolve_export_plan(otlp_endpoint, protocol)
    resource = functools.cache(lambda: _resource(service_name))

    tracer_provider = None if private else _application_tracer_provider()
    owns_tracer_provider = tracer_provider is None and plan.traces_endpoint is not None
    if tracer_provider is None and plan.traces_endpoint is not None:
        exporter = _span_exporter(plan.traces_endpoint, plan.traces_protocol)
        tracer_provider = _sdk_tracer_provider(resource(), exporter)
        if not private:
            trace.set_tracer_provider(tracer_provider)

    meter_provider = None if private else _application_meter_provider()
    owns_meter_provider = meter_provider is None and plan.metrics_endpoint is not None
    if meter_provider is None and plan.metrics_endpoint is not None:
        metric_exporter = _metric_exporter(plan.metrics_endpoint, plan.metrics_protocol)
        meter_provider = _sdk_meter_provider(resource(), metric_exporter)
        if not private:
            metrics.set_meter_provider(meter_provider)

    if private:  # off, and deaf to whatever the application installs later
        tracer_provider = tracer_provider or NoOpTracerProvider()
        meter_provider = meter_provider or NoOpMeterProvider()
    telemetry = Telemetry(
        tracer_provider,
        meter_provider,
        owns_tracer_provider=owns_tracer_provider,
        owns_meter_provider=owns_meter_provider,
    )
    logger.debug("telemetry configured: %r (plan %r)", telemetry, plan)
    return telemetry


def _application_tracer_provider() -> TracerProvider | None:
    provider = trace.get_tracer_provider()
    return None if isinstance(provider, ProxyTracerProvider) else provider


def _application_meter_provider() -> MeterProvider | None:
    provider = metrics.get_meter_provider()
    return None if isinstance(provider, _ProxyMeterProvider) else provider


def _version() -> str:
    try:
        return version("salesbus")
    except PackageNotFoundError:
        return "0"


def _resource(service_name: str) -> Resource:
    from opentelemetry.sdk.resources import Resource

    detected = Resource.create({sc.SERVICE_VERSION: _version()})
    named = str(detected.attributes.get(sc.SERVICE_NAME, ""))
    if named and not named.startswith("unknown_service"):
        return detected
    return detected.merge(Resource({sc.SERVICE_NAME: service_name}))


def _sdk_tracer_provider(resource: Resource, exporter: SpanExporter) -> TracerProvider:
    from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = SdkTracerProvider(resource=resource)  # the sampler comes from OTEL_TRACES_SAMPLER
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def _sdk_meter_provider(resource: Resource, exporter: MetricExporter) -> MeterProvider:
    from opentelemetry.sdk.metrics import MeterProvider as SdkMeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    return SdkMeterProvider(
        metric_readers=[PeriodicExportingMetricReader(exporter)], resource=resource
    )


def _span_exporter(endpoint: str, protocol: OtlpProtocol) -> SpanExporter:
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
            OTLPSpanExporter as GrpcSpanExporter,
        )

        return GrpcSpanExporter(endpoint=endpoint)  # plain text for http://, TLS otherwise
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=endpoint)


def _metric_exporter(endpoint: str, protocol: OtlpProtocol) -> MetricExporter:
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
            OTLPMetricExporter as GrpcMetricExporter,
        )

        return GrpcMetricExporter(endpoint=endpoint)
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

    return OTLPMetricExporter(endpoint=endpoint)
