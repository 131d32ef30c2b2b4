"""The approval inbox in a real browser: headless Chromium driven by Playwright.

Debian's ``chromium`` is the browser (``.ci/run`` installs it); outside CI the
test skips, saying why, when it is missing. The screenshot is kept as a test
artifact in ``out/test-artifacts/`` (``SALESBUS_TEST_ARTIFACTS`` moves it).
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from tests.service.server import TOKEN, campaign_toml, companies, running_server, wait_for

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(os.environ.get("SALESBUS_TEST_ARTIFACTS", "out/test-artifacts"))
HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script> Evil Corp'


def _browser_or_skip() -> None:
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} is missing (apt-get install chromium; .ci/run does this)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright is not installed (pip install -e '.[dev]')")
    if missing:
        reason = "the browser test needs Chromium and Playwright: " + "; ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def test_a_reviewer_filters_edits_and_approves_with_the_keyboard(tmp_path: Path) -> None:
    _browser_or_skip()
    from playwright.sync_api import expect, sync_playwright

    leads = companies(5, "Inbox")
    leads[0]["employees"] = 20  # a low score: filtered out below
    leads[1]["name"] = HOSTILE
    with running_server(tmp_path) as server, server.client() as client:
        batch_id = client.post(
            "/batches", json={"companies": leads, "campaign_toml": campaign_toml()}
        ).json()["batch"]["id"]
        wait_for(client, batch_id)
        rows = [json.loads(x) for x in client.get(f"/batches/{batch_id}/results").text.splitlines()]
        scores = sorted(r["analysis"]["icp_score"] for r in rows)
        threshold = scores[1]
        shown = sum(score >= threshold for score in scores)
        assert 4 <= shown < 5

        dialogs: list[str] = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
            )
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.goto(f"{server.url}/")
            assert page.url.endswith("/login")
            page.fill("input[name=token]", TOKEN)
            page.click("button[type=submit]")
            expect(page.locator("article.card")).to_have_count(5)
            # Model and lead text is shown as text, never run as markup.
            assert HOSTILE in page.content().replace("&lt;", "<").replace("&gt;", ">").replace(
                "&quot;", '"'
            )
            assert page.locator("article.card img").count() == 0

            page.select_option("select[name=batch]", batch_id)
            page.fill("input[name=min_score]", str(threshold))
            page.click("#filters button[type=submit]")
            cards = page.locator("article.card")
            expect(cards).to_have_count(shown)

            first, second = cards.nth(0), cards.nth(1)
            first_id, second_id = first.get_attribute("data-id"), second.get_attribute("data-id")
            expect(first).to_have_class("card selected")
            page.keyboard.press("e")
            subject = first.locator("input[name=subject]")
            expect(subject).to_be_focused()
            subject.fill("Revenue forecasts, reviewed")
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "inbox.png"))
            page.keyboard.press("Control+Enter")
            expect(first).to_have_class("card decided")
            expect(second).to_have_class("card selected")
            page.keyboard.press("a")
            expect(second).to_have_class("card decided")
            third = cards.nth(2)
            third_id = third.get_attribute("data-id")
            expect(third).to_have_class("card selected")  # the next undecided one
            page.keyboard.press("j")
            expect(cards.nth(3)).to_have_class("card selected")
            page.keyboard.press("k")
            expect(third).to_have_class("card selected")
            page.keyboard.press("r")
            expect(third).to_have_class("card decided")
            expect(page.locator("#count")).to_have_text(f"{shown - 3} awaiting")
            page.click("#approve-all")
            expect(page.locator("#count")).to_have_text("0 awaiting")
            browser.close()
        assert dialogs == []

    with sqlite3.connect(server.db) as db:
        state = dict(db.execute("SELECT id, state FROM workflows").fetchall())
        decided = dict(db.execute("SELECT workflow_id, decision FROM decisions").fetchall())
        (edited,) = db.execute(
            "SELECT outreach_json FROM decisions WHERE workflow_id = ?", (first_id,)
        ).fetchone()
    assert (state[first_id], state[second_id], state[third_id]) == (
        "completed",
        "completed",
        "rejected",
    )
    assert {k: decided[k] for k in (first_id, second_id, third_id)} == {
        first_id: "edit",
        second_id: "approve",
        third_id: "reject",
    }
    rest = set(decided) - {first_id, second_id, third_id}
    assert len(rest) == shown - 3
    assert {decided[k] for k in rest} == {"approve"}
    assert sorted(state.values()).count("awaiting_approval") == 5 - shown  # filtered out
    assert json.loads(edited)["messages"][0]["subject"] == "Revenue forecasts, reviewed"
    assert (ARTIFACTS / "inbox.png").stat().st_size > 10_000
