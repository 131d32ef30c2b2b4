"""Lead lists: every row with a company name goes in; every problem is a warning on its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from salesbus.agents.errors import LeadFileError
from salesbus.agents.facts import facts_from_company
from salesbus.agents.leads import (
    LeadWarning,
    Target,
    WarningKind,
    company_key,
    open_leads,
    parse_column_map,
    read_leads,
)
from salesbus.agents.leads.reader import LeadFile
from salesbus.agents.models import Company


def leads_from(tmp_path: Path, text: str, name: str = "leads.csv", **kwargs: object) -> LeadFile:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read_leads(path, **kwargs)  # type: ignore[arg-type]


def kinds(leads: LeadFile) -> list[tuple[int, WarningKind]]:
    return [(w.line, w.kind) for w in leads.warnings]


def test_headers_are_matched_whatever_their_case_spacing_or_alias(tmp_path: Path) -> None:
    leads = leads_from(
        tmp_path,
        "Company Name , Website,Sector,Headcount,HQ,About,First Name,Last Name,Job Title,E-mail\n"
        'Acme Corp,www.acme.example,SaaS,"1,200",USA,Makes anvils,Dana,Whitfield,CTO,'
        "dana@acme.example\n",
    )
    assert leads.warnings == []
    (company,) = leads.companies
    assert company.name == "Acme Corp"
    assert company.domain == "acme.example"
    assert company.website == "https://www.acme.example"
    assert (company.industry, company.employees, company.country) == ("SaaS", 1200, "USA")
    assert company.country_code == "US"
    assert company.contact is not None
    assert (company.contact.name, company.contact.title) == ("Dana Whitfield", "CTO")
    assert company.contact.email == "dana@acme.example"


def test_a_vendor_export_keeps_every_row_that_has_a_name(tmp_path: Path) -> None:
    leads = leads_from(
        tmp_path,
        "Company Name,Website,Sector,Headcount,HQ,Products\n"
        'Resonac,{{url|resonac.com},Chemicals,"25,599 ( FTE , 2024)","Tokyo, Japan",Chips\n'
        'Hitachi,Official website,Industrials,"20,000 (2023)","Tokyo, Japan",Rail\n'
        'Toshiba,Official website,Industrials,"c. 7,500 (2024)",Japan,Storage\n'
        'Dell,dell.com,Hardware,a great many,"Austin, Texas",PCs\n'
        ",nameless.com,SaaS,10,USA,\n",
    )
    assert [c.name for c in leads.companies] == ["Resonac", "Hitachi", "Toshiba", "Dell"]
    assert [c.employees for c in leads.companies] == [25_599, 20_000, 7_500, None]
    assert [c.domain for c in leads.companies] == ["resonac.com", None, None, "dell.com"]
    assert kinds(leads) == [
        (3, WarningKind.BAD_WEBSITE),
        (4, WarningKind.BAD_WEBSITE),
        (5, WarningKind.UNREADABLE_VALUE),
        (6, WarningKind.NO_NAME),
    ]
    assert [w.line for w in leads.dropped] == [6]
    dell = leads.companies[3]
    assert dell.extra_fields == {"Products": "PCs", "Headcount": "a great many"}
    assert leads.warnings[2].column == "Headcount"


def test_unmapped_columns_become_facts_named_after_their_header(tmp_path: Path) -> None:
    leads = leads_from(
        tmp_path,
        'name,Products,Ticker,location\nAlcon,Surgical products; Contact lenses,ALC,"Geneva, CH"\n',
    )
    (company,) = leads.companies
    texts = [fact.text for fact in facts_from_company(company).facts]
    assert "Products: Surgical products; Contact lenses" in texts
    assert "Alcon is based in Geneva, CH (Switzerland)." in texts
    assert "Ticker: ALC" in texts
    assert [(m.header, m.target) for m in leads.columns] == [
        ("name", Target.NAME),
        ("Products", Target.FACT),
        ("Ticker", Target.FACT),
        ("location", Target.LOCATION),
    ]


def test_a_contact_title_without_a_contact_is_kept_as_a_fact(tmp_path: Path) -> None:
    leads = leads_from(tmp_path, "company,job title\nAcme,Head of Sales\n")
    (company,) = leads.companies
    assert company.contact is None
    assert company.extra_fields == {"job title": "Head of Sales"}


def test_name_next_to_a_company_column_is_the_contacts_name(tmp_path: Path) -> None:
    leads = leads_from(tmp_path, "company,name,email\nAcme,Dana Lee,dana@acme.com\n")
    (company,) = leads.companies
    assert company.name == "Acme"
    assert company.contact is not None
    assert (company.contact.name, company.contact.email) == ("Dana Lee", "dana@acme.com")
    name_column = leads.columns[1]
    assert name_column.target is Target.CONTACT_NAME
    assert "next to company column 'company'" in name_column.reason


def test_city_and_country_columns_make_one_location_and_the_country_is_the_country(
    tmp_path: Path,
) -> None:
    leads = leads_from(tmp_path, "name,city,country\nAcme,Lyon,France\n")
    (company,) = leads.companies
    assert (company.country, company.country_code) == ("Lyon, France", "FR")


def test_a_second_column_for_the_same_field_is_kept_as_a_fact(tmp_path: Path) -> None:
    leads = leads_from(tmp_path, "name,website,url\nAcme,acme.com,acme.co.uk\n")
    (company,) = leads.companies
    assert company.domain == "acme.com"
    assert company.extra_fields == {"url": "acme.co.uk"}
    assert "website comes from 'website'" in leads.columns[2].reason


def test_an_explicit_map_decides_and_names_only_existing_headers(tmp_path: Path) -> None:
    text = "Firm Label,Base,Internal Id\nAcme,Berlin Germany,42\n"
    leads = leads_from(
        tmp_path,
        text,
        columns=parse_column_map("Firm Label=name, Base=location, Internal Id=skip"),
    )
    (company,) = leads.companies
    assert (company.name, company.country_code, company.extra_fields) == ("Acme", "DE", {})
    with pytest.raises(LeadFileError, match="names nope, not among the columns"):
        leads_from(tmp_path, text, columns=parse_column_map("Nope=name"))
    with pytest.raises(LeadFileError, match="'ceo' is not a field"):
        parse_column_map("Firm Label=ceo")
    with pytest.raises(LeadFileError, match="is not HEADER=FIELD"):
        parse_column_map("Firm Label")


def test_bad_cells_are_warnings_and_the_row_goes_on(tmp_path: Path) -> None:
    leads = leads_from(
        tmp_path,
        "name,domain,employees,contact_email,country\n"
        "Good One,good.com,50,,Narnia\n"
        "Bad Mail,badmail.com,5,not-an-email,\n"
        '"Multi\nLine Co",multi.com,20,,\n'
        "Extra,extra.com,1,,,surplus\n",
    )
    assert [c.name for c in leads.companies] == ["Good One", "Bad Mail", "Multi Line Co", "Extra"]
    assert [c.line for c in leads.companies] == [2, 3, 4, 6]
    assert kinds(leads) == [
        (2, WarningKind.UNKNOWN_LOCATION),
        (3, WarningKind.BAD_EMAIL),
        (6, WarningKind.EXTRA_CELLS),
    ]
    assert leads.companies[1].extra_fields == {"contact_email": "not-an-email"}
    assert leads.companies[3].extra_fields == {"column 6": "surplus"}
    assert str(leads.warnings[1]).startswith("line 3, contact_email: 'not-an-email'")


def test_duplicates_are_decided_on_the_real_domain_else_the_normalised_name(
    tmp_path: Path,
) -> None:
    leads = leads_from(
        tmp_path,
        "name,website\n"
        "Acme,https://www.acme.co.uk/about\n"
        "Acme UK,shop.acme.co.uk\n"
        "Nikon,Official website\n"
        "Canon,Official website\n"
        "Canon Inc.,n/a\n",
    )
    assert [c.name for c in leads.companies] == ["Acme", "Nikon", "Canon"]
    duplicates = [w for w in leads.warnings if w.kind is WarningKind.DUPLICATE]
    assert [(w.line, w.message) for w in duplicates] == [
        (3, "same company as line 2"),
        (6, "same company as line 5"),
    ]
    assert [company_key(c) for c in leads.companies] == ["acme.co.uk", "name:nikon", "name:canon"]


def test_jsonl_is_split_only_at_newlines_and_bad_lines_are_warnings(tmp_path: Path) -> None:
    leads = leads_from(
        tmp_path,
        '{"company": "Nested Co", "domain": "nested.com", '
        '"contact": {"name": "Ari Vos", "title": "VP Sales"}}\n'
        "\n"
        "{not json}\n"
        "[1, 2]\n"
        '{"name": "Sep\u2028Co", "notes": "a\u2029b\\fc", "employees": 12}\n'
        + "[" * 100_000
        + "\n"
        + '{"name": "Huge", "employees": '
        + "9" * 400
        + "}\n"
        '{"name": "Tags", "tags": ["saas", "b2b"]}\n',
        name="leads.jsonl",
    )
    assert [c.name for c in leads.companies] == ["Nested Co", "Sep Co", "Huge", "Tags"]
    assert [c.line for c in leads.companies] == [1, 5, 7, 8]
    assert leads.companies[0].contact is not None
    assert leads.companies[0].contact.title == "VP Sales"
    assert leads.companies[1].notes == "a\u2029bc"  # the form feed is a control character
    assert leads.companies[3].extra_fields == {"tags": "saas; b2b"}
    assert kinds(leads) == [
        (3, WarningKind.BAD_JSON),
        (4, WarningKind.BAD_JSON),
        (5, WarningKind.CONTROL_CHARACTERS),
        (6, WarningKind.BAD_JSON),
        (7, WarningKind.UNREADABLE_VALUE),
    ]


def test_semicolon_separated_exports_are_detected(tmp_path: Path) -> None:
    leads = leads_from(tmp_path, "name;industry;employees\nA GmbH;Logistics;120\n")
    assert [(c.name, c.industry, c.employees) for c in leads.companies] == [
        ("A GmbH", "Logistics", 120)
    ]


def test_a_file_without_a_name_column_is_refused_as_a_whole(tmp_path: Path) -> None:
    with pytest.raises(LeadFileError, match="no company name column among domain, industry"):
        leads_from(tmp_path, "domain,industry\na.example,SaaS\n")


def test_a_missing_file_is_a_lead_file_error(tmp_path: Path) -> None:
    with pytest.raises(LeadFileError, match="cannot read"):
        read_leads(tmp_path / "nope.csv")


def test_the_stream_yields_each_company_after_its_own_warnings(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("name,employees\nA,lots\nB,5\n,7\nA,9\n", encoding="utf-8")
    with open_leads(path) as stream:
        assert [m.target for m in stream.columns] == [Target.NAME, Target.EMPLOYEES]
        items = list(stream)
    described = [
        (i.line, i.name) if isinstance(i, Company) else (i.line, i.kind.value) for i in items
    ]
    assert described == [
        (2, "unreadable_value"),
        (2, "A"),
        (3, "B"),
        (4, "no_name"),
        (5, "duplicate"),
    ]
    with open_leads(path, dedupe=False) as stream:
        names = [i.name for i in stream if isinstance(i, Company)]
    assert names == ["A", "B", "A"]
    assert all(isinstance(i, Company | LeadWarning) for i in items)
