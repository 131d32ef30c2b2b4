"""Log lines carry trace ids, come as text or JSON, and never show emails or keys."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from salesbus.observability import (
    JsonFormatter,
    Telemetry,
    TextFormatter,
    TraceContextFilter,
    configure_logging,
    redact,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to dana.lee@acme.example today", "write to d***@acme.example today"),
        ("<Bob@Mail.Example.co.uk>", "<B***@Mail.Example.co.uk>"),
        ("key sk-ant-api03-AbC_d-123 rejected", "key sk-ant-*** rejected"),
        ("openai sk-proj1234567890abcdefXYZ", "openai sk-***"),
        ("Authorization: Bearer abcdef123456789", "Authorization: Bearer ***"),
        ("x-api-key: sk-ant-xyz", "x-api-key: ***"),
        ("curl -H 'Authorization: Basic dXNlcjpwYXNz'", "curl -H 'Authorization: Basic ***'"),
        ('{"api_key": "hunter2hunter2"}', '{"api_key": "***"}'),
        ("https://h.example/?api_key=abc123&page=2", "https://h.example/?api_key=***&page=2"),
        ("nothing secret at acme.example", "nothing secret at acme.example"),
        ("", ""),
    ],
)
def test_redact_masks_emails_and_credentials(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_redacting_twice_changes_nothing_more() -> None:
    once = redact("dana@acme.example Bearer abcdefghijk sk-ant-zzz api_key=123")
    assert redact(once) == once


def record(message: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    made = logging.LogRecord("salesbus.test", logging.WARNING, __file__, 1, message, args, exc_info)
    TraceContextFilter().filter(made)
    return made


def test_the_filter_adds_the_current_trace_and_span_ids(telemetry: Telemetry) -> None:
    with telemetry.tracer.start_as_current_span("work") as span:
        inside = record("inside")
    outside = record("outside")

    context = span.get_span_context()
    assert inside.trace_id == format(context.trace_id, "032x")  # type: ignore[attr-defined]
    assert inside.span_id == format(context.span_id, "016x")  # type: ignore[attr-defined]
    assert (outside.trace_id, outside.span_id) == ("", "")  # type: ignore[attr-defined]


def test_the_json_formatter_writes_one_valid_redacted_object(telemetry: Telemetry) -> None:
    try:
        raise ValueError("bad key sk-ant-abc")
    except ValueError as exc:
        with telemetry.tracer.start_as_current_span("work") as span:
            entry = record("mail %s failed", "dana@acme.example", exc=exc)
    entry.company = "Acme"  # as logging's ``extra=`` sets it

    line = JsonFormatter().format(entry)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["message"] == "mail d***@acme.example failed"
    assert parsed["level"] == "WARNING"
    assert parsed["logger"] == "salesbus.test"
    assert parsed["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert parsed["company"] == "Acme"
    assert "sk-ant-***" in parsed["exception"]
    assert "sk-ant-abc" not in line
    assert parsed["timestamp"].endswith("+00:00")


def test_the_text_formatter_appends_trace_ids_only_inside_a_span(telemetry: Telemetry) -> None:
    with telemetry.tracer.start_as_current_span("work") as span:
        inside = TextFormatter().format(record("hello %s", "bo@x.example"))
    outside = TextFormatter().format(record("hello"))

    trace_id = format(span.get_span_context().trace_id, "032x")
    assert inside.endswith(f"hello b***@x.example trace_id={trace_id} span_id=" + inside[-16:])
    assert "trace_id" not in outside


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("restore_root_logger")
def test_configure_logging_installs_one_handler_and_replaces_only_its_own() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging("info", "text", stream=first)
    configure_logging(logging.DEBUG, "json", stream=second)
    logging.getLogger("salesbus.anything").debug("contact %s", "eve@corp.example")

    assert first.getvalue() == ""
    parsed = json.loads(second.getvalue())
    assert parsed["message"] == "contact e***@corp.example"
    assert (parsed["trace_id"], parsed["span_id"]) == ("", "")
