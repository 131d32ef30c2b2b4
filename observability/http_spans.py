"""HTTP CLIENT spans for website fetches, with URLs fit to export."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from opentelemetry.trace import SpanKind, Status, StatusCode

from . import semconv as sc
from .logs import redact
from .setup import Telemetry, default_telemetry
from .spans import SpanScope

__all__ = ["HttpRecorder", "http_span", "safe_url"]


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


class HttpRecorder(SpanScope):
    """An HTTP CLIENT span around one request (:func:`http_span`): tell it the response status."""

    __slots__ = ()

    def response(self, status_code: int) -> None:
        """Record ``status_code``; 4xx and 5xx mark the span failed (``error.type`` = code)."""
        if not self.span.is_recording():
            return
        self.span.set_attribute(sc.HTTP_RESPONSE_STATUS_CODE, status_code)
        if status_code >= 400:
            self.span.set_status(Status(StatusCode.ERROR))
            self.span.set_attribute(sc.ERROR_TYPE, str(status_code))


def http_span(method: str, url: str, *, telemetry: Telemetry | None = None) -> HttpRecorder:
    """An HTTP CLIENT span named after the method, around one request (one redirect hop)."""
    tracer = (telemetry or default_telemetry()).tracer
    method = method.upper()
    parts = urlsplit(url)
    attributes: dict[str, Any] = {
        sc.HTTP_REQUEST_METHOD: method,
        sc.URL_FULL: safe_url(url),
        sc.SERVER_ADDRESS: parts.hostname or "",
    }
    port = _explicit_port(url) or {"http": 80, "https": 443}.get(parts.scheme)
    if port is not None:
        attributes[sc.SERVER_PORT] = port
    return HttpRecorder(tracer, method, SpanKind.CLIENT, attributes)
