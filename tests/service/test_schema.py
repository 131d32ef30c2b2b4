"""schemathesis against the service's own OpenAPI schema: whatever it sends, no 5xx.

Bounded to a few examples per operation (a few dozen in all); the event
stream, which never ends by design, is left out.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.service.server import TOKEN, Server, running_server


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("schema"), "--max-rows", "50") as server:
        yield server


def test_no_request_the_schema_allows_gets_a_server_error(live: Server) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    raw = httpx.get(f"{live.url}/openapi.json", headers=headers).json()
    loaded = schemathesis.openapi.from_dict(raw).exclude(path="/events")
    tried: list[str] = []
    calls: list[str] = []
    for result in loaded.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=3,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def probe(case: schemathesis.Case) -> None:
            response = case.call(base_url=live.url, headers=headers, timeout=30)
            assert response.status_code < 500, (case.method, case.path, response.text)
            kind = response.headers.get("content-type", [""])[0].split(";")[0]
            assert kind in {"application/json", "text/csv", "application/x-ndjson", "text/plain"}
            calls.append(case.method)

        probe()
        tried.append(operation.label)
    assert len(tried) >= 14  # every operation but the endless event stream
    assert 20 <= len(calls) <= 100


def test_the_schema_documents_every_route(live: Server, tmp_path: Path) -> None:
    assert httpx.get(f"{live.url}/openapi.json").status_code == 401
    assert httpx.get(f"{live.url}/docs").status_code == 401
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.get(f"{live.url}/docs", headers=headers).status_code == 200
    paths = httpx.get(f"{live.url}/openapi.json", headers=headers).json()["paths"]
    for path in (
        "/batches",
        "/batches/{batch_id}",
        "/batches/{batch_id}/results",
        "/batches/{batch_id}/approve",
        "/batches/{batch_id}/cancel",
        "/workflows/{workflow_id}",
        "/workflows/{workflow_id}/edit",
        "/workflows/{workflow_id}/retry",
        "/events",
        "/metrics",
        "/healthz",
        "/readyz",
    ):
        assert path in paths, path
