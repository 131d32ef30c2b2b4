"""Header mapping: every header gets a decision, ambiguous ones by what else is in the file."""

from __future__ import annotations

import pytest

from salesbus.agents.leads import Target, map_columns

T = Target


@pytest.mark.parametrize(
    ("headers", "targets"),
    [
        (
            ["Company Name", "Website", "Sector", "Headcount", "HQ"],
            [T.NAME, T.WEBSITE, T.INDUSTRY, T.EMPLOYEES, T.LOCATION],
        ),
        (["name", "city", "country"], [T.NAME, T.CITY, T.COUNTRY]),
        (["company", "name", "email"], [T.NAME, T.CONTACT_NAME, T.CONTACT_EMAIL]),
        (["Name", "Account Name", "Title"], [T.CONTACT_NAME, T.NAME, T.CONTACT_TITLE]),
        (["Organisation", "E-mail", "LinkedIn URL"], [T.NAME, T.CONTACT_EMAIL, T.CONTACT_LINKEDIN]),
        (["Account", "# Employees", "Employee Count"], [T.NAME, T.EMPLOYEES, T.FACT]),
        (["company", "website", "url"], [T.NAME, T.WEBSITE, T.FACT]),
        (["company", "Products", ""], [T.NAME, T.FACT, T.FACT]),
        (
            ["COMPANY_NAME", "First Name", "Last Name", "Job Title"],
            [T.NAME, T.CONTACT_FIRST_NAME, T.CONTACT_LAST_NAME, T.CONTACT_TITLE],
        ),
        (["business", "state/province", "Region"], [T.NAME, T.STATE, T.REGION]),
        (["Company", "Company"], [T.NAME, T.FACT]),
    ],
)
def test_headers_map_to_fields(headers: list[str], targets: list[Target]) -> None:
    assert [m.target for m in map_columns(headers)] == targets


def test_every_decision_says_why() -> None:
    reasons = [m.reason for m in map_columns(["company", "name", "Products", "url", "website"])]
    assert reasons == [
        "known header",
        "the contact's, next to company column 'company'",
        "not a known header: kept as a fact",
        "known header",
        "kept as a fact: website comes from 'url'",
    ]


def test_an_explicit_mapping_wins_over_the_aliases() -> None:
    mapped = map_columns(["name", "HQ", "Notes"], {"name": T.CONTACT_NAME, "hq": T.NAME})
    assert [(m.target, m.reason) for m in mapped] == [
        (T.CONTACT_NAME, "as mapped"),
        (T.NAME, "as mapped"),
        (T.NOTES, "known header"),
    ]


def test_the_spellings_table_is_validated_at_load() -> None:
    from pydantic import ValidationError

    from salesbus.agents.leads.columns import _Aliases

    with pytest.raises(ValidationError, match="listed under name and website"):
        _Aliases.model_validate({"aliases": {"name": ["Site"], "website": ["site"]}})
    with pytest.raises(ValidationError, match="fact is not a field a column can fill"):
        _Aliases.model_validate({"aliases": {"fact": ["notes2"]}})
    with pytest.raises(ValidationError):
        _Aliases.model_validate({"aliases": {"ceo": ["boss"]}})
