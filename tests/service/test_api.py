"""The HTTP API against a real ``salesbus serve`` on loopback, driven with httpx."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import httpx

from tests.orchestrator.cli_support import LEADS
from tests.service.conftest import MAX_ROWS
from tests.service.server import Server, campaign_toml, companies, read_events, wait_for


def _submit_leads(
    client: httpx.Client, leads: str = LEADS, name: str = "leads.csv"
) -> httpx.Response:
    return client.post("/batches", files={"leads": (name, leads.encode(), "text/csv")})


def _batch_count(server: Server) -> int:
    with server.client() as client:
        return len(client.get("/batches").json())


def test_health_is_open_and_every_other_route_needs_the_token(server: Server) -> None:
    with server.client(token=None) as anonymous, server.client(token="wrong") as wrong:
        assert anonymous.get("/healthz").json() == {"status": "ok"}
        assert anonymous.get("/readyz").status_code == 200
        for path in ("/batches", "/metrics", "/events", "/workflows/wf-x"):
            for client in (anonymous, wrong):
                answer = client.get(path)
                assert answer.status_code == 401, path
                assert answer.json()["message"] == "a valid bearer token is required"
        assert anonymous.post("/batches", json={"companies": [{"name": "A"}]}).status_code == 401
        with server.client() as client:
            for method, path, status in (("GET", "/nope", 404), ("DELETE", "/batches", 405)):
                answer = client.request(method, path)
                assert answer.status_code == status
                assert answer.json()["message"]
        inbox = anonymous.get("/", follow_redirects=False)
        assert inbox.status_code == 303
        assert inbox.headers["location"] == "/login"


def test_a_lead_file_runs_to_approval_with_its_row_warnings_and_a_second_post_finds_it(
    server: Server,
) -> None:
    with server.client() as client:
        answer = _submit_leads(client)
        assert answer.status_code == 202, answer.text
        body = answer.json()
        assert body["created"]
        assert body["started"]
        assert any(w.startswith("leads.csv:4:") for w in body["warnings"])
        assert any(w.startswith("leads.csv:6:") and "not a number" in w for w in body["warnings"])
        batch_id = body["batch"]["id"]

        view = wait_for(client, batch_id)
        assert view["total"] == 6  # the nameless row is left out; "lots" runs, warned
        assert view["states"] == {"awaiting_approval": 6}
        assert view["calls"] == 18
        assert view["eta_seconds"] == 0.0

        again = _submit_leads(client)
        assert again.status_code == 200
        assert again.json()["batch"]["id"] == batch_id
        assert not again.json()["created"]
        assert [b["id"] for b in client.get("/batches").json()].count(batch_id) == 1


def test_events_come_in_order_and_resume_after_last_event_id(server: Server) -> None:
    with server.client() as client:
        batch_id = client.post(
            "/batches", json={"companies": companies(3, "Stream"), "campaign_toml": campaign_toml()}
        ).json()["batch"]["id"]
        wait_for(client, batch_id)
        # 3 workflows x 3 steps x (started + succeeded) + 3 approval requests.
        events = read_events(client, {"batch": batch_id}, {}, want=21)
        assert len(events) == 21
        assert [e["id"] for e in events] == sorted(e["id"] for e in events)
        assert {e["batch_id"] for e in events} == {batch_id}
        for workflow in {e["workflow_id"] for e in events}:
            mine = [(e["type"], e.get("step")) for e in events if e["workflow_id"] == workflow]
            assert mine == [
                ("StepStarted", "research"),
                ("StepSucceeded", "research"),
                ("StepStarted", "analysis"),
                ("StepSucceeded", "analysis"),
                ("StepStarted", "personalization"),
                ("StepSucceeded", "personalization"),
                ("ApprovalRequested", None),
            ]

        resumed = read_events(
            client, {"batch": batch_id}, {"Last-Event-ID": str(events[9]["id"])}, want=11
        )
        assert resumed == events[10:]


def test_the_results_export_has_every_touch_and_excel_gets_a_bom(server: Server) -> None:
    with server.client() as client:
        batch_id = client.post(
            "/batches",
            json={"companies": companies(2, "Export"), "campaign_toml": campaign_toml("never")},
        ).json()["batch"]["id"]
        wait_for(client, batch_id)
        sheet = client.get(
            f"/batches/{batch_id}/results", params={"format": "csv", "excel": "true"}
        )
        assert sheet.status_code == 200
        assert sheet.content.startswith("\ufeff".encode())
        rows = list(csv.DictReader(io.StringIO(sheet.content.decode("utf-8-sig"))))
        assert len(rows) == 2
        row = rows[0]
        assert (row["contact_first_name"], row["contact_last_name"]) == ("Ana", "María López")
        assert row["industry"] == "SaaS"
        assert row["country"] == "United States"
        for column in (
            "email_body",
            "follow_up_1_body",
            "follow_up_3_body",
            "linkedin_note",
            "top_pain_point",
        ):
            assert row[column], column
        assert "call_script" in row  # empty: the test campaign has no phone channel
        assert (
            int(row["follow_up_1_day"]) < int(row["follow_up_2_day"]) < int(row["follow_up_3_day"])
        )

        plain = client.get(
            f"/batches/{batch_id}/results", params={"format": "jsonl", "status": "completed"}
        )
        lines = [json.loads(line) for line in plain.text.splitlines()]
        assert [r["state"] for r in lines] == ["completed", "completed"]
        assert not plain.content.startswith("\ufeff".encode())


def test_approve_reject_and_edit_each_decide_one_waiting_draft(server: Server) -> None:
    with server.client() as client:
        batch_id = client.post(
            "/batches", json={"companies": companies(3, "Decide"), "campaign_toml": campaign_toml()}
        ).json()["batch"]["id"]
        wait_for(client, batch_id)
        ids = [
            r["workflow_id"]
            for r in map(json.loads, client.get(f"/batches/{batch_id}/results").text.splitlines())
        ]
        first, second, third = ids

        detail = client.get(f"/workflows/{first}").json()
        assert detail["state"] == "awaiting_approval"
        assert detail["facts"]
        assert all(f["source"]["kind"] for f in detail["facts"])
        assert detail["analysis"]["pain_points"]
        assert detail["quality"]["decision"] in {"PASS", "REVISE", "ESCALATE"}
        assert [a["step"] for a in detail["attempts"]] == [
            "research",
            "analysis",
            "personalization",
        ]

        assert (
            client.post(f"/workflows/{first}/approve", json={"note": "fine"}).json()["state"]
            == "completed"
        )
        again = client.post(f"/workflows/{first}/approve")
        assert again.status_code == 409
        assert "not awaiting approval" in again.json()["message"]
        assert client.post(f"/workflows/{second}/reject").json()["state"] == "rejected"

        spammy = client.post(f"/workflows/{third}/edit", json={"body": "Act now! {first_name}"})
        assert spammy.status_code == 422
        assert any(not c["passed"] for c in spammy.json()["quality"]["checks"])
        assert client.get(f"/workflows/{third}").json()["state"] == "awaiting_approval"

        edited = client.post(f"/workflows/{third}/edit", json={"subject": "Forecasts at Decide 3"})
        assert edited.status_code == 200, edited.text
        assert edited.json()["state"] == "completed"
        assert edited.json()["outreach"]["messages"][0]["subject"] == "Forecasts at Decide 3"
        assert client.get("/workflows/wf-nope").status_code == 404


def test_bulk_approve_decides_only_the_drafts_its_filters_select(server: Server) -> None:
    with server.client() as client:
        leads = companies(4, "Bulk")
        leads[0]["employees"] = 20  # off the ICP's size: a lower score
        leads[1]["country"] = "Japan"
        batch_id = client.post(
            "/batches", json={"companies": leads, "campaign_toml": campaign_toml()}
        ).json()["batch"]["id"]
        wait_for(client, batch_id)
        rows = [
            json.loads(line)
            for line in client.get(f"/batches/{batch_id}/results").text.splitlines()
        ]
        scores = {r["workflow_id"]: r["analysis"]["icp_score"] for r in rows}
        threshold = max(scores.values())
        assert min(scores.values()) < threshold

        result = client.post(f"/batches/{batch_id}/approve", json={"min_score": threshold}).json()
        assert sorted(result["approved"]) == sorted(w for w, s in scores.items() if s >= threshold)
        assert result["skipped"] == {}

        left = [w for w, s in scores.items() if s < threshold]
        picked = client.post(f"/batches/{batch_id}/approve", json={"ids": left[:1]}).json()
        assert picked["approved"] == left[:1]
        states = client.get(f"/batches/{batch_id}").json()["states"]
        assert states["completed"] == len(result["approved"]) + 1
        assert states.get("awaiting_approval", 0) == len(left) - 1
        assert (
            client.post(f"/batches/{batch_id}/approve", json={"min_score": 101}).status_code == 422
        )


def test_retry_runs_a_failed_workflow_again_from_its_failed_step(server: Server) -> None:
    with server.client() as client:
        batch_id = client.post(
            "/batches",
            json={
                "companies": companies(1, "Slow"),
                "campaign_toml": campaign_toml(),
                "step_timeout": 0.001,
                "max_attempts": 1,
            },
        ).json()["batch"]["id"]
        wait_for(client, batch_id)
        (row,) = [
            json.loads(line)
            for line in client.get(f"/batches/{batch_id}/results").text.splitlines()
        ]
        workflow = row["workflow_id"]
        assert row["state"] == "failed"
        assert "timeout" in row["reason"]
        assert client.post(f"/workflows/{workflow}/retry").status_code == 200

        def retried(view: dict[str, Any]) -> bool:
            detail = client.get(f"/workflows/{workflow}").json()
            return detail["state"] == "failed" and len(detail["attempts"]) == 2

        wait_for(client, batch_id, retried)
        attempts = client.get(f"/workflows/{workflow}").json()["attempts"]
        assert [(a["step"], a["attempt"], a["status"]) for a in attempts] == [
            ("research", 1, "failed"),
            ("research", 2, "failed"),
        ]
        decided = client.post(f"/workflows/{row['workflow_id']}/approve")
        assert decided.status_code == 409


def test_cancel_stops_admitting_and_in_flight_steps_finish(server: Server) -> None:
    with server.client() as client:
        batch_id = client.post(
            "/batches",
            json={
                "companies": companies(40, "Cancel"),
                "campaign_toml": campaign_toml(),
                "concurrency": 1,
            },
        ).json()["batch"]["id"]
        wait_for(client, batch_id, lambda v: v["states"].get("awaiting_approval", 0) >= 1)
        cancelled = client.post(f"/batches/{batch_id}/cancel")
        assert cancelled.status_code == 200
        assert cancelled.json()["cancelled"]
        view = wait_for(client, batch_id, lambda v: not v["running"])
        # Stop means stop (issue 10): a step running at the cancel finishes and is
        # committed, and its workflow is parked in the next step's state, unstarted.
        settled = {"awaiting_approval", "pending", "researching", "analyzing", "personalizing"}
        assert set(view["states"]) <= settled, view["states"]
        assert view["states"]["pending"] > 30
        assert client.post(f"/batches/{batch_id}/cancel").status_code == 409


def test_two_batches_at_once_both_progress(server: Server) -> None:
    with server.client() as client:
        big = client.post(
            "/batches", json={"companies": companies(50, "Big"), "campaign_toml": campaign_toml()}
        ).json()["batch"]["id"]
        small = client.post(
            "/batches", json={"companies": companies(3, "Small"), "campaign_toml": campaign_toml()}
        ).json()["batch"]["id"]
        small_done = wait_for(client, small)
        big_then = client.get(f"/batches/{big}").json()
        assert small_done["states"] == {"awaiting_approval": 3}
        # The small batch, submitted second, did not wait for the big one to finish.
        assert big_then["running"]
        assert big_then["progress"] < 1.0
        assert big_then["finished"] + big_then["awaiting_approval"] > 0
        wait_for(client, big)


def test_oversize_and_malformed_uploads_are_refused_with_nothing_stored(server: Server) -> None:
    before = _batch_count(server)
    with server.client() as client:
        huge = "name,domain\n" + "".join(f"Company {n},c{n}.example\n" for n in range(2000))
        answer = _submit_leads(client, huge)
        assert answer.status_code == 413
        assert "larger than" in answer.json()["message"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted while it arrives
            yield b"--x\r\nContent-Disposition: form-data; name=leads; filename=a.csv\r\n\r\n"
            for _ in range(100):
                yield b"name\n" + b"Acme\n" * 100

        streamed = client.post(
            "/batches",
            content=chunks(),
            headers={"content-type": "multipart/form-data; boundary=x"},
        )
        assert streamed.status_code == 413
        assert "larger than" in streamed.json()["message"]

        many = client.post("/batches", json={"companies": companies(MAX_ROWS + 1, "Many")})
        assert many.status_code == 413
        assert f"({MAX_ROWS})" in many.json()["message"]

        no_name = _submit_leads(client, "domain,industry\nx.example,SaaS\n")
        assert no_name.status_code == 422
        assert no_name.json()["message"]

        all_bad = _submit_leads(client, "name,employees\n,10\n ,20\n")
        assert all_bad.status_code == 422
        assert len(all_bad.json()["errors"]) == 2

        bad_campaign = client.post(
            "/batches", json={"companies": companies(1, "Toml"), "campaign_toml": "[seller\n"}
        )
        assert bad_campaign.status_code == 422
        assert "TOML" in bad_campaign.json()["message"]

        wrong_types = client.post("/batches", json={"companies": "Acme"})
        assert wrong_types.status_code == 422
        assert wrong_types.json()["errors"]

        not_json = client.post(
            "/batches", content=b"{", headers={"content-type": "application/json"}
        )
        assert not_json.status_code == 422
        plain = client.post(
            "/batches", content=b"name\nAcme\n", headers={"content-type": "text/csv"}
        )
        assert plain.status_code == 422
        assert "multipart" in plain.json()["message"]
    assert _batch_count(server) == before


def test_metrics_are_prometheus_text_from_the_store(server: Server) -> None:
    with server.client() as client:
        batch_id = client.post(
            "/batches", json={"companies": companies(2, "Metric"), "campaign_toml": campaign_toml()}
        ).json()["batch"]["id"]
        wait_for(client, batch_id)
        text = client.get("/metrics")
        assert text.headers["content-type"].startswith("text/plain")
        body = text.text
        assert 'salesbus_step_duration_seconds_bucket{le="+Inf",step="research"}' in body
        waiting = next(
            line
            for line in body.splitlines()
            if line.startswith('salesbus_workflows{state="awaiting_approval"}')
        )
        with sqlite3.connect(server.db) as db:
            (count,) = db.execute(
                "SELECT COUNT(*) FROM workflows WHERE state = 'awaiting_approval'"
            ).fetchone()
        assert float(waiting.split()[-1]) == count
        for name in (
            "salesbus_retries_total",
            "salesbus_tokens_total",
            "salesbus_cost_usd_total",
            "salesbus_queue_depth",
            "salesbus_step_attempts_total",
        ):
            assert name in body, name
    time.sleep(0)
