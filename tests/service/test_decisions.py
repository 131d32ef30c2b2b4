"""Decisions race safely: two reviewers at once, one wins each draft, the other is told who."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.service.server import Server, campaign_toml, companies, wait_for


def _waiting_batch(server: Server, prefix: str, count: int) -> tuple[str, list[str]]:
    with server.client() as client:
        batch_id = client.post(
            "/batches",
            json={"companies": companies(count, prefix), "campaign_toml": campaign_toml()},
        ).json()["batch"]["id"]
        wait_for(client, batch_id)
        lines = client.get(f"/batches/{batch_id}/results").text.splitlines()
    return batch_id, [json.loads(line)["workflow_id"] for line in lines]


def _post(server: Server, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    with server.client() as client:
        response = client.post(path, json=body)
        return response.status_code, response.json()


def test_two_reviewers_approving_one_draft_at_once_one_wins_and_the_other_gets_409_naming_them(
    server: Server,
) -> None:
    _, (workflow,) = _waiting_batch(server, "Race One", 1)
    path = f"/workflows/{workflow}/approve"
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda who: _post(server, path, {"reviewer": who}), ["ana", "ben"]))
    codes = sorted(code for code, _ in answers)
    assert codes == [200, 409], answers
    (winner,) = [who for who, (code, _) in zip(["ana", "ben"], answers, strict=True) if code == 200]
    (lost,) = [body for code, body in answers if code == 409]
    assert f"decided first: approve by {winner}" in lost["message"]


def test_two_bulk_approvals_at_once_approve_each_draft_once_and_report_who_won_the_others(
    server: Server,
) -> None:
    batch_id, ids = _waiting_batch(server, "Race Bulk", 6)
    path = f"/batches/{batch_id}/approve"
    with ThreadPoolExecutor(2) as pool:
        (_, ana), (_, ben) = pool.map(
            lambda who: _post(server, path, {"reviewer": who}), ["ana", "ben"]
        )
    assert sorted(ana["approved"] + ben["approved"]) == sorted(ids)  # each exactly once
    assert set(ana["skipped"]) <= set(ben["approved"])  # lost only to the other reviewer
    assert set(ben["skipped"]) <= set(ana["approved"])
    for reviewer, other in ((ana, "ben"), (ben, "ana")):
        for message in reviewer["skipped"].values():
            assert f"decided first: approve by {other}" in message

    with server.client() as client:
        again = client.post(path, json={"ids": ids[:2], "reviewer": "cy"}).json()
        assert again["approved"] == []
        assert set(again["skipped"]) == set(ids[:2])  # named ids already decided: who did it
        assert all("decided first: approve by" in m for m in again["skipped"].values())
        assert client.get(f"/batches/{batch_id}").json()["states"] == {"completed": 6}
