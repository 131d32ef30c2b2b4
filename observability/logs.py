"""Logging that lines up with traces and never leaks a secret.

Every record gets ``trace_id`` and ``span_id`` from the span current when it was
logged (:class:`TraceContextFilter`), so a log line leads to its trace in Jaeger
and back. Both formatters pass their output through :func:`redact`, because log
messages quote exceptions, and exceptions quote whatever a server or a lead
file said — including contact emails and, in the worst case, an API key.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from opentelemetry import trace

from .secrets import scrub_secrets

__all__ = [
    "JsonFormatter",
    "LogFormat",
    "TextFormatter",
    "TraceContextFilter",
    "configure_logging",
    "redact",
]

LogFormat = Literal["text", "json"]

_EMAIL = re.compile(r"\b([A-Za-z0-9])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)\b")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def redact(text: str) -> str:
    """Mask contact emails and credentials in ``text``, and drop control characters.

    ``dana.lee@acme.example`` becomes ``d***@acme.example`` (the domain says
    which company, the person stays private); credentials go as
    :func:`~salesbus.observability.secrets.scrub_secrets` says. Control
    characters (escape sequences a terminal would run, NUL) are removed: a log
    line quotes what servers and lead files said. Tabs and newlines stay.
    """
    if not text:
        return text
    text = _CONTROL.sub("", scrub_secrets(text))
    return _EMAIL.sub(r"\1***@\2", text)


class TraceContextFilter(logging.Filter):
    """Adds ``trace_id`` and ``span_id`` (hex, or ``""`` outside a span) to every record.

    Attach it to a handler, not a logger: handler filters see records from
    every logger that propagates to it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            record.trace_id = format(context.trace_id, "032x")
            record.span_id = format(context.span_id, "016x")
        else:
            record.trace_id = record.span_id = ""
        return True


class TextFormatter(logging.Formatter):
    """``time level logger: message [trace_id=… span_id=…]``, redacted."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        trace_id = getattr(record, "trace_id", "")
        if trace_id:
            head, newline, rest = line.partition("\n")
            span_id = getattr(record, "span_id", "")
            line = f"{head} trace_id={trace_id} span_id={span_id}{newline}{rest}"
        return redact(line)


_RECORD_FIELDS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "trace_id", "span_id", "taskName"}
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: what log shippers parse without a grammar.

    Keys: ``timestamp`` (UTC, ISO 8601), ``level``, ``logger``, ``message``,
    ``trace_id``, ``span_id``, ``exception`` when there is one, and any
    ``extra=`` fields. Every string value is redacted.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "trace_id": getattr(record, "trace_id", ""),
            "span_id": getattr(record, "span_id", ""),
        }
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = redact(self.formatStack(record.stack_info))
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and key not in entry:
                entry[key] = _json_value(value)
        return json.dumps(entry, ensure_ascii=False)


def _json_value(value: object) -> object:
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value))


_installed: logging.Handler | None = None


def configure_logging(
    level: int | str = logging.INFO, fmt: LogFormat = "text", stream: TextIO | None = None
) -> logging.Handler:
    """Send every log record to ``stream`` (stderr) as text or JSON lines, with trace ids.

    Calling it again replaces the handler it installed before, and only that
    one: handlers an embedding application added stay.
    """
    global _installed
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.addFilter(TraceContextFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    if _installed is not None:
        root.removeHandler(_installed)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    _installed = handler
    return handler
