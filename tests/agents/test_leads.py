"""Lead lists: forgiving about headers and formats, exact about what was wrong and where."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesbus.agents.errors import LeadFileError
from salesbus.agents.leads import parse_employees, read_leads, read_leads_text


def test_headers_are_matched_whatever_their_case_spacing_or_alias() -> None:
    text = (
        "Company Name , Website,Sector,Headcount,HQ,About,First Name,Last Name,Job Title,E-mail\n"
        'Acme Corp,www.acme.example,SaaS,"1,200",USA,Makes anvils,Dana,Whitfield,CTO,'
        "dana@acme.example\n"
    )
    leads = read_leads_text(text)
    assert leads.errors == []
    (company,) = leads.companies
    assert company.name == "Acme Corp"
    assert company.domain == "acme.example"
    assert company.website == "https://www.acme.example"
    assert (company.industry, company.employees, company.country) == ("SaaS", 1200, "USA")
    assert company.contact is not None
    assert (company.contact.name, company.contact.title) == ("Dana Whitfield", "CTO")
    assert company.contact.email == "dana@acme.example"


def test_bad_rows_are_reported_with_their_line_and_the_rest_go_on() -> None:
    text = (
        "name,domain,employees,contact_email\n"
        "Good One,good.example,50,\n"
        ",empty.example,10,\n"
        "Lots Inc,lots.example,lots,\n"
        "Bad Mail,badmail.example,5,not-an-email\n"
        '"Multi\nLine Co",multi.example,20,\n'
        "Good One Again,good.example,60,\n"
        "Fine Ltd,fine.example,7,\n"
    )
    leads = read_leads_text(text)
    assert [c.name for c in leads.companies] == ["Good One", "Multi\nLine Co", "Fine Ltd"]
    assert [c.line for c in leads.companies] == [2, 6, 9]
    assert [(e.line, e.reason) for e in leads.errors] == [
        (3, "the company name is empty"),
        (4, "employees 'lots' is not a number (try 250, 1,200, 10k or 51-200)"),
        (5, "contact email 'not-an-email' is not an email address"),
        (8, "duplicate of line 2"),
    ]
    assert str(leads.errors[0]) == "line 3: the company name is empty"


def test_jsonl_with_nested_contacts_and_bad_lines() -> None:
    text = (
        '{"company": "Nested Co", "domain": "nested.example", '
        '"contact": {"name": "Ari Vos", "title": "VP Sales"}}\n'
        "\n"
        "{not json}\n"
        "[1, 2]\n"
        '{"name": "Flat Co", "employees": 12}\n'
    )
    leads = read_leads_text(text, kind="jsonl")
    assert [c.name for c in leads.companies] == ["Nested Co", "Flat Co"]
    assert leads.companies[0].contact is not None
    assert leads.companies[0].contact.title == "VP Sales"
    assert [e.line for e in leads.errors] == [3, 4]


def test_semicolon_separated_exports_are_detected() -> None:
    leads = read_leads_text("name;industry;employees\nA GmbH;Logistics;120\n")
    assert [(c.name, c.industry, c.employees) for c in leads.companies] == [
        ("A GmbH", "Logistics", 120)
    ]


def test_unknown_columns_are_ignored_and_listed() -> None:
    leads = read_leads_text("name,favourite_colour\nA,blue\n")
    assert leads.ignored_columns == ["favourite_colour"]
    assert [c.name for c in leads.companies] == ["A"]


def test_a_file_without_a_name_column_is_refused_as_a_whole() -> None:
    with pytest.raises(LeadFileError, match="no company name column"):
        read_leads_text("domain,industry\na.example,SaaS\n")


def test_a_missing_file_is_a_lead_file_error(tmp_path: Path) -> None:
    with pytest.raises(LeadFileError, match="cannot read"):
        read_leads(tmp_path / "nope.csv")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("250", 250),
        ("1,200", 1200),
        ("10k", 10_000),
        ("2.5K", 2500),
        ("51-200", 125),
        ("500+", 500),
    ],
)
def test_employee_counts_in_the_forms_exports_use(raw: str, expected: int) -> None:
    assert parse_employees(raw) == expected


@given(st.integers(min_value=0, max_value=10_000_000))
def test_any_plain_or_comma_grouped_count_parses_to_itself(n: int) -> None:
    assert parse_employees(str(n)) == n
    assert parse_employees(f"{n:,}") == n
