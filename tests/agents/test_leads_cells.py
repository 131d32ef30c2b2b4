"""Cells as vendors, CRMs and people write them: headcounts, websites, names."""

from __future__ import annotations

import contextlib
import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesbus.agents.leads import CELL_LIMIT, clean_website, company_key, parse_employees
from salesbus.agents.leads.cells import clean_cell
from salesbus.agents.leads.websites import registrable_domain
from salesbus.agents.models import Company


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("250", 250),
        ("1,200", 1200),
        ("1.200", 1200),
        ("1 200", 1200),
        ("1\u00a0200", 1200),
        ("1'200", 1200),
        ("10k", 10_000),
        ("2.5K", 2500),
        ("10k+", 10_000),
        ("500+", 500),
        ("~500", 500),
        ("1.2 million", 1_200_000),
        ("2.5m", 2_500_000),
        ("51-200", 125),
        ("51 – 200", 125),
        ("12 to 20", 16),
        ("5,001-10,000 employees", 7500),
        ("10,001+ employees", 10_001),
        ("20,000 (2023)", 20_000),
        ("c. 7,500 (2024)", 7500),
        ("c. 7,500", 7500),
        ("ca. 900", 900),
        ("25,599 ( FTE , 2024)", 25_599),
        ("approx. 3,000 staff", 3000),
        ("about 40 people", 40),
        ("over 1,000", 1000),
        ("0", 0),
    ],
)
def test_headcounts_in_the_forms_vendors_write_them(raw: str, expected: int) -> None:
    assert parse_employees(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("lots", "is not a number"),
        ("1,2", "is not a number"),
        ("1.2.3", "is not a number"),
        ("9" * 400, "is not a number"),
        ("99,000,000", "more than any company employs"),
        ("1-2-3", "is not a number"),
        ("", "is not a number"),
    ],
)
def test_unreadable_headcounts_say_why_in_one_short_line(raw: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as caught:
        parse_employees(raw)
    assert len(str(caught.value)) < 120


@given(st.integers(min_value=0, max_value=10_000_000))
def test_any_plain_or_comma_grouped_count_parses_to_itself(n: int) -> None:
    assert parse_employees(str(n)) == n
    assert parse_employees(f"{n:,}") == n


@given(st.text(max_size=60))
def test_any_text_is_a_headcount_or_a_value_error(raw: str) -> None:
    with contextlib.suppress(ValueError):
        parse_employees(raw)


@pytest.mark.parametrize(
    ("raw", "url", "domain"),
    [
        ("acme.com", "https://acme.com", "acme.com"),
        ("www.acme.com", "https://www.acme.com", "acme.com"),
        ("https://www.acme.co.uk/about", "https://www.acme.co.uk/about", "acme.co.uk"),
        ("http://shop.acme.com.au/", "https://shop.acme.com.au", "acme.com.au"),
        ("ACME.COM.", "https://acme.com", "acme.com"),
        ("{{url|resonac.com}", "https://resonac.com", "resonac.com"),
        ("[https://nikon.co.jp Nikon]", "https://nikon.co.jp", "nikon.co.jp"),
        ("Website: toyota-global.com (EN)", "https://toyota-global.com", "toyota-global.com"),
        ("acme.example", "https://acme.example", "acme.example"),
        ("info@acme.de", "https://acme.de", "acme.de"),
    ],
)
def test_a_website_is_the_first_real_hostname_in_the_cell(raw: str, url: str, domain: str) -> None:
    website = clean_website(raw)
    assert (website.url, website.domain) == (url, domain)


@pytest.mark.parametrize(
    "raw",
    [
        "Official website",
        "n/a",
        "TBD",
        "-",
        "{{url|}}",
        "localhost",
        "acme",
        "acme.notasuffix",
        "10.0.0.1",
        "see LinkedIn",
    ],
)
def test_a_cell_without_a_real_hostname_is_not_a_website(raw: str) -> None:
    with pytest.raises(ValueError, match="is not a website address"):
        clean_website(raw)


def test_public_suffixes_come_from_the_bundled_list_without_any_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    from salesbus.agents.leads import websites

    websites._extractor.cache_clear()
    assert registrable_domain("news.bbc.co.uk") == "bbc.co.uk"
    assert registrable_domain("x.y.kawasaki.jp") is not None


@pytest.mark.parametrize(
    ("company", "key"),
    [
        (Company(name="Acme", domain="acme.co.uk"), "acme.co.uk"),
        (Company(name="Acme", website="https://shop.acme.co.uk/x"), "acme.co.uk"),
        (Company(name="ACME Corp., Inc."), "name:acme"),
        (Company(name="  Nikon   Corporation "), "name:nikon"),
        (Company(name="Ｔｏｙｏｔａ"), "name:toyota"),
        (Company(name="Inc."), "name:inc."),
    ],
)
def test_the_company_key_is_the_registrable_domain_else_the_normalised_name(
    company: Company, key: str
) -> None:
    assert company_key(company) == key


@pytest.mark.parametrize(
    ("raw", "single_line", "text", "problems"),
    [
        ("Acme\x00 Corp", True, "Acme Corp", ["control characters removed"]),
        ("Acme\x1b[31m Corp", True, "Acme[31m Corp", ["control characters removed"]),
        ("evil\u202egnp.exe", True, "evilgnp.exe", ["control characters removed"]),
        ("line one\n\nline two ", False, "line one\n\nline two", []),
        ("line one\nline two", True, "line one line two", []),
    ],
)
def test_cells_lose_control_characters_and_say_so(
    raw: str, single_line: bool, text: str, problems: list[str]
) -> None:
    assert clean_cell(raw, single_line=single_line) == (text, problems)


def test_an_oversized_cell_is_cut_at_the_cap() -> None:
    text, problems = clean_cell("x" * 1_000_000, single_line=False)
    assert len(text) == CELL_LIMIT
    assert problems == [f"cut to {CELL_LIMIT:,} of 1,000,000 characters"]
