"""Telemetry set-up: OTEL_* settings, the no-op default, and an application's own providers.

Whatever touches the process-wide providers runs in a subprocess, since they can
be set only once per process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from opentelemetry.trace import NoOpTracerProvider

from salesbus.observability import ExportPlan, configure_telemetry, resolve_export_plan
from tests.fakes.otlp import OtlpReceiver

# -- what gets exported where (no side effects) --------------------------------------


def test_nothing_configured_exports_nothing() -> None:
    plan = resolve_export_plan(environ={"OTEL_SERVICE_NAME": "x"})
    assert plan == ExportPlan()
    assert not plan.exports_anything


def test_the_base_endpoint_gets_a_path_per_signal() -> None:
    plan = resolve_export_plan(environ={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318/"})
    assert (plan.traces_endpoint, plan.metrics_endpoint) == (
        "http://c:4318/v1/traces",
        "http://c:4318/v1/metrics",
    )
    assert plan.traces_protocol == plan.metrics_protocol == "http/protobuf"


def test_the_explicit_endpoint_wins_and_may_name_a_signal_path() -> None:
    environ = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://env:4318",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://env-traces:4318/custom",
    }
    plan = resolve_export_plan("http://flag:4318/v1/traces", environ=environ)
    assert (plan.traces_endpoint, plan.metrics_endpoint) == (
        "http://flag:4318/v1/traces",
        "http://flag:4318/v1/metrics",
    )


def test_a_signal_specific_endpoint_is_used_as_given() -> None:
    environ = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://env:4318",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://traces:9999/custom",
    }
    plan = resolve_export_plan(environ=environ)
    assert plan.traces_endpoint == "http://traces:9999/custom"
    assert plan.metrics_endpoint == "http://env:4318/v1/metrics"


def test_grpc_takes_the_endpoint_as_it_is() -> None:
    environ = {
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317",
    }
    plan = resolve_export_plan(environ=environ)
    assert (plan.traces_endpoint, plan.traces_protocol) == ("http://c:4317", "grpc")
    http_metrics = resolve_export_plan(
        environ={**environ, "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "http/protobuf"}
    )
    assert http_metrics.metrics_endpoint == "http://c:4317/v1/metrics"
    assert resolve_export_plan("http://flag:4317", "grpc", {}).metrics_protocol == "grpc"


def test_an_exporter_set_to_none_turns_that_signal_off() -> None:
    environ = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_METRICS_EXPORTER": "none"}
    plan = resolve_export_plan(environ=environ)
    assert plan.traces_endpoint == "http://c:4318/v1/traces"
    assert plan.metrics_endpoint is None


def test_sdk_disabled_overrides_everything() -> None:
    plan = resolve_export_plan("http://flag:4318", environ={"OTEL_SDK_DISABLED": "true"})
    assert plan.disabled
    assert not plan.exports_anything


def test_an_unsupported_protocol_falls_back_to_http_protobuf(
    caplog: pytest.LogCaptureFixture,
) -> None:
    plan = resolve_export_plan("http://c:4318", "http/json", {})
    assert plan.traces_protocol == "http/protobuf"
    assert "not supported" in caplog.text


# -- the handle ------------------------------------------------------------------------


def test_a_private_handle_with_nothing_configured_is_off_and_owns_nothing() -> None:
    with configure_telemetry(private=True) as telemetry:
        assert isinstance(telemetry.tracer_provider, NoOpTracerProvider)
        assert not telemetry.tracing_enabled
        assert not telemetry.metrics_enabled
        assert not telemetry.owns_tracer_provider
        assert not telemetry.owns_meter_provider
        with telemetry.tracer.start_as_current_span("x") as span:
            assert not span.is_recording()
        telemetry.metrics.workflow_started()  # instruments exist and do nothing


def test_a_private_handle_exports_to_the_explicit_endpoint(receiver: OtlpReceiver) -> None:
    with configure_telemetry(receiver.url, "svc-test", private=True) as telemetry:
        assert telemetry.tracing_enabled
        assert telemetry.owns_tracer_provider
        telemetry.tracer.start_span("hello").end()
    # leaving the block shut the providers down, which flushed them
    assert receiver.span("hello").resource["service.name"] == "svc-test"
    assert receiver.span("hello").scope == "salesbus"


# -- the process-wide providers (each in a fresh interpreter) ----------------------------


def run_python(script: str, **environ: str) -> Any:
    """Run ``script`` in a fresh interpreter; return the JSON it prints last."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        env={**clean, **environ},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


BUS_SCRIPT_PRELUDE = """
    import json, os, sys
    import anyio
    from opentelemetry import trace, metrics
    from salesbus.bus import Event, EventBus
    from salesbus.observability import BusTracing, configure_telemetry

    class Ping(Event):
        type_name = "tests.Ping"

    async def publish(telemetry, event, wrap=None):
        received = []
        async with EventBus(interceptors=[BusTracing(telemetry)]) as bus:
            bus.subscribe(Ping, received.append)
            if wrap is None:
                await bus.publish(event)
            else:
                with wrap:
                    await bus.publish(event)
        return received
"""


def test_with_nothing_configured_no_sdk_is_installed_or_imported() -> None:
    outcome = run_python(
        BUS_SCRIPT_PRELUDE
        + """
    telemetry = configure_telemetry()
    event = Ping()
    received = anyio.run(publish, telemetry, event)
    print(json.dumps({
        "proxy_tracer": type(trace.get_tracer_provider()).__name__,
        "proxy_meter": type(metrics.get_meter_provider()).__name__,
        "sdk_imported": any(name.startswith("opentelemetry.sdk") for name in sys.modules),
        "same_event": received[0] is event,
        "enabled": telemetry.tracing_enabled,
    }))
    """
    )
    assert outcome == {
        "proxy_tracer": "ProxyTracerProvider",
        "proxy_meter": "_ProxyMeterProvider",
        "sdk_imported": False,
        "same_event": True,
        "enabled": False,
    }


def test_sdk_disabled_installs_nothing_even_with_an_endpoint(receiver: OtlpReceiver) -> None:
    outcome = run_python(
        """
        import json, os
        from opentelemetry import trace
        from salesbus.observability import configure_telemetry
        telemetry = configure_telemetry(otlp_endpoint=os.environ["RECEIVER_URL"])
        print(json.dumps([type(trace.get_tracer_provider()).__name__, telemetry.tracing_enabled]))
        """,
        OTEL_SDK_DISABLED="true",
        RECEIVER_URL=receiver.url,
    )
    assert outcome == ["ProxyTracerProvider", False]


def test_configured_from_the_environment_it_installs_global_providers_once(
    receiver: OtlpReceiver,
) -> None:
    outcome = run_python(
        """
        import json
        from opentelemetry import trace, metrics
        from salesbus.observability import configure_telemetry
        first = configure_telemetry()
        second = configure_telemetry()
        trace.get_tracer("someone.else").start_span("from another library").end()
        first.tracer.start_span("from salesbus").end()
        first.metrics.workflow_finished("completed")
        report = {
            "global_is_ours": trace.get_tracer_provider() is first.tracer_provider,
            "meter_is_ours": metrics.get_meter_provider() is first.meter_provider,
            "first_owns": first.owns_tracer_provider,
            "second_adopts": second.tracer_provider is first.tracer_provider,
            "second_owns": second.owns_tracer_provider,
        }
        second.shutdown()  # does not stop the providers it merely uses
        first.tracer.start_span("after second shutdown").end()
        first.shutdown()
        print(json.dumps(report))
        """,
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url,
        OTEL_SERVICE_NAME="svc-from-env",
        OTEL_TRACES_SAMPLER="always_on",
    )
    assert outcome == {
        "global_is_ours": True,
        "meter_is_ours": True,
        "first_owns": True,
        "second_adopts": True,
        "second_owns": False,
    }
    names = {span.name for span in receiver.spans}
    assert names == {"from another library", "from salesbus", "after second shutdown"}
    assert {span.resource["service.name"] for span in receiver.spans} == {"svc-from-env"}
    finished = receiver.latest_metric("salesbus.workflow.finished")
    assert [p.attributes for p in finished.points] == [{"salesbus.workflow.outcome": "completed"}]


def test_an_application_keeps_its_own_provider_and_sees_salesbus_spans_under_its_own(
    receiver: OtlpReceiver,
) -> None:
    outcome = run_python(
        BUS_SCRIPT_PRELUDE
        + """
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    app_provider = TracerProvider()
    app_provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(app_provider)
    app_tracer = trace.get_tracer("the.app")

    telemetry = configure_telemetry(otlp_endpoint=os.environ["RECEIVER_URL"])
    anyio.run(publish, telemetry, Ping(), app_tracer.start_as_current_span("app request"))
    telemetry.shutdown()
    app_tracer.start_span("after salesbus shut down").end()

    spans = {
        s.name: {
            "trace": s.context.trace_id,
            "id": s.context.span_id,
            "parent": s.parent.span_id if s.parent else None,
        }
        for s in exporter.get_finished_spans()
    }
    print(json.dumps({
        "provider_kept": trace.get_tracer_provider() is app_provider,
        "handle_uses_it": telemetry.tracer_provider is app_provider,
        "owns": telemetry.owns_tracer_provider,
        "spans": spans,
    }))
    """,
        RECEIVER_URL=receiver.url,
    )
    assert outcome["provider_kept"]
    assert outcome["handle_uses_it"]
    assert not outcome["owns"]
    spans = outcome["spans"]
    request, send, process = (
        spans["app request"],
        spans["send tests.Ping"],
        spans["process tests.Ping"],
    )
    assert send["parent"] == request["id"]
    assert process["parent"] == send["id"]
    assert request["trace"] == send["trace"] == process["trace"]
    assert "after salesbus shut down" in spans  # the application's provider still works
    assert receiver.spans == []  # salesbus set up no exporter of its own for traces
