"""The results export is streamed from the store as it is read, never built whole in memory."""

from __future__ import annotations

import csv
import io
import json

from tests.service.server import Server, campaign_toml, companies, wait_for


def test_the_results_are_streamed_in_chunks_one_row_per_workflow(server: Server) -> None:
    with server.client() as client:
        batch_id = client.post(
            "/batches", json={"companies": companies(5, "Stream"), "campaign_toml": campaign_toml()}
        ).json()["batch"]["id"]
        wait_for(client, batch_id)
        with client.stream("GET", f"/batches/{batch_id}/results") as response:
            assert response.status_code == 200
            assert "content-length" not in response.headers  # not measured up front: streamed
            assert response.headers["transfer-encoding"] == "chunked"
            assert response.headers["content-type"] == "application/x-ndjson"
            rows = [json.loads(line) for line in response.iter_lines() if line]
        assert len(rows) == 5
        assert {r["state"] for r in rows} == {"awaiting_approval"}

        with client.stream(
            "GET", f"/batches/{batch_id}/results", params={"format": "csv", "excel": "true"}
        ) as response:
            assert "content-length" not in response.headers
            text = response.read().decode("utf-8")
        assert text.startswith("\ufeffworkflow_id,")
        assert len(list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))) == 5

        missing = client.get("/batches/b-nope/results")
        assert missing.status_code == 404  # checked before the first byte: a JSON error
        assert "message" in missing.json()
