"""Website fetches as HTTP client spans, with URLs that keep no secrets."""

from __future__ import annotations

import pytest

from salesbus.observability import Telemetry, http_span, safe_url
from tests.fakes.otlp import OtlpReceiver


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://acme.example/about", "https://acme.example/about"),
        (
            "https://user:pw@acme.example:8443/p?token=abc&page=2#top",
            "https://acme.example:8443/p?token=REDACTED&page=REDACTED",
        ),
        (
            "http://acme.example/team/dana@acme.example",
            "http://acme.example/team/d***@acme.example",
        ),
        ("http://[::1]:8080/x", "http://[::1]:8080/x"),
        ("http://acme.example:99999/", "http://acme.example/"),
    ],
)
def test_safe_url_drops_credentials_query_values_and_fragments(url: str, expected: str) -> None:
    assert safe_url(url) == expected


def test_a_fetch_is_a_client_span_with_method_url_and_status(
    telemetry: Telemetry, receiver: OtlpReceiver
) -> None:
    with http_span("get", "https://acme.example/?key=secret", telemetry=telemetry) as fetch:
        fetch.response(200)
    with http_span("GET", "http://acme.example/missing", telemetry=telemetry) as fetch:
        fetch.response(404)
    telemetry.force_flush()

    found, missing = receiver.spans
    assert (found.name, found.kind, found.status) == ("GET", "CLIENT", "UNSET")
    assert found.attributes == {
        "http.request.method": "GET",
        "url.full": "https://acme.example/?key=REDACTED",
        "server.address": "acme.example",
        "server.port": 443,
        "http.response.status_code": 200,
    }
    assert missing.status == "ERROR"
    assert missing.attributes["error.type"] == "404"
    assert missing.attributes["server.port"] == 80


def test_a_fetch_that_raises_records_the_error_kind(
    telemetry: Telemetry, receiver: OtlpReceiver
) -> None:
    class WebsiteError(Exception):
        kind = "website_error"

    with (
        pytest.raises(WebsiteError),
        http_span("GET", "http://acme.example/", telemetry=telemetry),
    ):
        raise WebsiteError("refused: private address")
    telemetry.force_flush()

    [span] = receiver.spans
    assert span.status == "ERROR"
    assert span.attributes["error.type"] == "website_error"
    assert "http.response.status_code" not in span.attributes
