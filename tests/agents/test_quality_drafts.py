"""Two rules about what a draft may contain: no untrusted links or markup, and no seams."""

from __future__ import annotations

from dataclasses import replace

import pytest

from salesbus.agents.models import Fact, FactSource, QualityDecision
from salesbus.agents.quality import check_outreach
from salesbus.agents.untrusted import links_in, sanitise_quote
from tests.agents.test_quality import CAMPAIGN, FOOTER, GOOD, PROFILE, check, with_body

SELLER_SITE = CAMPAIGN.model_copy(
    update={
        "seller": CAMPAIGN.seller.model_copy(
            update={"website": "https://northwind-analytics.test", "sender_email": "dana@nwa.test"}
        )
    }
)


def body(text: str) -> str:
    return f"Hi Sam,\n\n{text}{FOOTER}"


# -- no_untrusted_links --------------------------------------------------------------


@pytest.mark.parametrize(
    "lure",
    [
        "Please re-verify billing at https://evil.example/verify before Friday.",
        "Details: www.evil.example/offer",
        "Write to billing@evil.example with your details.",
        "See evil.example/login for the report.",
        "Read [the report](https://evil.example/r) first.",
        'Here it is: <a href="https://acme.test">the report</a>.',
        "<img src=x onerror=alert(1)> Worth a look?",
    ],
)
def test_a_link_address_or_markup_the_seller_did_not_write_escalates(lure: str) -> None:
    draft = with_body(0, body(lure))

    result = check("no_untrusted_links", draft, SELLER_SITE)

    assert not result.passed
    assert "message 1 (email initial) links outside the seller and company" in result.detail
    assert check_outreach(draft, PROFILE, SELLER_SITE).decision is QualityDecision.ESCALATE


@pytest.mark.parametrize(
    "own",
    [
        "Our one-page summary is at https://northwind-analytics.test/pick-paths.",
        "Or write to me at dana@nwa.test.",
        "Your careers page at https://www.acme.test/careers mentions the new site.",
        "I read acme.test/news this morning.",
    ],
)
def test_the_sellers_own_and_the_companys_own_links_pass(own: str) -> None:
    result = check("no_untrusted_links", with_body(0, body(own)), SELLER_SITE)

    assert result.passed, result.detail


def test_a_technology_research_found_may_be_named_even_when_it_reads_as_a_domain() -> None:
    profile = PROFILE.model_copy(update={"technologies": ["Outreach.io"]})
    draft = with_body(0, body("Your team runs Outreach.io for sequences."))

    report = check_outreach(draft, profile, SELLER_SITE)

    assert next(c for c in report.checks if c.rule == "no_untrusted_links").passed


def test_quoted_untrusted_text_loses_links_addresses_and_markup_and_is_capped() -> None:
    text = (
        "Customers must re-verify billing at https://evil.example/verify. Mail ceo@evil.example, "
        "see [this](http://evil.example/x) <img src=x onerror=alert(1)> {company} " + "word " * 100
    )

    quoted = sanitise_quote(text, limit=120)

    assert links_in(quoted) == []
    assert not any(mark in quoted for mark in "<>{}[]")
    assert len(quoted) <= 120
    assert quoted.startswith("Customers must re-verify billing.")


# -- draft_linter ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seam"),
    [
        ("We met the team at N-able, Inc.. It went well.", "doubled punctuation"),
        ("Teams around Robinhood Markets's size do this.", "'s after a final s"),
        ("Your products () are strong.", "empty brackets or quotes"),
        ("I liked “” on your site.", "empty brackets or quotes"),
        ("I saw the the news.", "a doubled word"),
        ("Pick rates dip for a quarter. Pick rates dip for a quarter.", "a repeated sentence"),
        ("You sell Trucks, Vans, Buses, Trailers today.", "a raw list"),
        ("Our view , with data.", "a space before punctuation"),
    ],
)
def test_the_linter_names_each_seam(text: str, seam: str) -> None:
    result = check("draft_linter", with_body(0, body(text)))

    assert not result.passed
    assert seam in result.detail
    assert result.on_fail == "revise"


def test_text_copied_verbatim_from_the_companys_page_is_a_seam() -> None:
    page = "We are the leading provider of autonomous picking robots for cold-chain warehouses."
    fact = Fact(
        id="f9", topic="news", text=page, source=FactSource(kind="website", url="https://acme.test")
    )
    profile = PROFILE.model_copy(update={"facts": [*PROFILE.facts, fact]})
    draft = with_body(0, body(f"You say you are {page[7:]}"))

    report = check_outreach(draft, profile, CAMPAIGN)

    linter = next(c for c in report.checks if c.rule == "draft_linter")
    assert not linter.passed
    assert "copied from the company's own words" in linter.detail


def test_a_well_written_draft_has_no_seams() -> None:
    possessives = replace(
        GOOD.messages[0], body=body("Siemens' plants and Acme's warehouse, Leeds and Hull.")
    )
    draft = GOOD.model_copy(update={"messages": [possessives, *GOOD.messages[1:]]})

    assert check("draft_linter", draft).passed
    assert check("draft_linter", GOOD).passed


def test_the_postal_address_is_not_read_as_a_raw_list() -> None:
    address = "Northwind Inc., 100 Example Way, Suite 200, Springfield, OR 97477, USA"
    campaign = CAMPAIGN.model_copy(
        update={"seller": CAMPAIGN.seller.model_copy(update={"postal_address": address})}
    )
    messages = [
        replace(m, body=m.body.replace(CAMPAIGN.seller.postal_address or "", address))
        for m in GOOD.messages
    ]

    result = check("draft_linter", GOOD.model_copy(update={"messages": messages}), campaign)

    assert result.passed, result.detail
