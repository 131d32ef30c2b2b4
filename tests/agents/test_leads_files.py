"""Whole files: encodings, bad bytes, huge cells, NULs, binaries, empties, and length."""

from __future__ import annotations

import csv
import gc
import tempfile
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salesbus.agents.errors import LeadFileError
from salesbus.agents.leads import CELL_LIMIT, WarningKind, open_leads, read_leads
from salesbus.agents.models import Company

ROWS = (
    "name,location,description\n"
    "Café Zürich,Zürich Schweiz,Kaffee für Büros\n"
    'Naïve SA,"Genève, Suisse",Crème\n'
)


@pytest.mark.parametrize(
    ("encoding", "data", "detected"),
    [
        ("utf-8", ROWS.encode("utf-8"), "utf-8"),
        ("utf-8 with BOM", ROWS.encode("utf-8-sig"), "utf-8-sig"),
        ("utf-16 with BOM", ROWS.encode("utf-16"), "utf-16"),
        ("utf-16-le without BOM", ROWS.encode("utf-16-le"), "utf-16-le"),
        ("utf-16-be without BOM", ROWS.encode("utf-16-be"), "utf-16-be"),
        ("windows-1252", ROWS.encode("cp1252"), None),
        ("latin-1", ROWS.encode("latin-1"), None),
    ],
)
def test_files_in_each_encoding_read_the_same(
    tmp_path: Path, encoding: str, data: bytes, detected: str | None
) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(data)
    leads = read_leads(path)
    assert leads.warnings == [], encoding
    assert [(c.name, c.country_code, c.description) for c in leads.companies] == [
        ("Café Zürich", "CH", "Kaffee für Büros"),
        ("Naïve SA", "CH", "Crème"),
    ]
    if detected is not None:
        assert leads.encoding == detected


def test_a_japanese_legacy_file_is_not_read_as_western(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(
        'name,location\n株式会社トヨタ,東京\nソニー株式会社,"東京, Japan"\n'.encode("shift_jis")
    )
    leads = read_leads(path)
    assert [(c.name, c.country_code) for c in leads.companies] == [
        ("株式会社トヨタ", None),
        ("ソニー株式会社", "JP"),
    ]


def test_old_mac_files_with_bare_carriage_returns_read_line_by_line(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(b'name,notes\rAcme,"two\rlines"\rBeta,x\r,nameless\r')
    leads = read_leads(path)
    assert [(c.name, c.notes, c.line) for c in leads.companies] == [
        ("Acme", "two\rlines", 2),
        ("Beta", "x", 4),
    ]
    assert [(w.line, w.kind) for w in leads.warnings] == [(5, WarningKind.NO_NAME)]


def test_a_bad_byte_spoils_its_own_line_not_the_file(tmp_path: Path) -> None:
    lines = ["name,description"] + [f"Firma {i},Größe {i} für Kunden" for i in range(40)]
    data = bytearray("\n".join(lines).encode("utf-8") + b"\n")
    spoiled = data.index(b"Firma 7,") + len(b"Firma 7,")
    data[spoiled : spoiled + 1] = b"\xff"
    path = tmp_path / "leads.csv"
    path.write_bytes(bytes(data))
    leads = read_leads(path)
    assert len(leads.companies) == 40
    assert leads.encoding == "utf-8"
    assert [(w.line, w.kind) for w in leads.warnings] == [(9, WarningKind.BAD_ENCODING)]
    assert leads.companies[7].description == "\ufffdröße 7 für Kunden"
    assert leads.companies[8].description == "Größe 8 für Kunden"


def test_a_bad_code_unit_in_utf16_spoils_its_own_line(tmp_path: Path) -> None:
    data = "name,notes\nAcme,fine\nBeta,XY\nGamma,fine\n".encode("utf-16")
    lone_surrogate = "\ud800".encode("utf-16-le", "surrogatepass")
    data = data.replace("XY".encode("utf-16-le"), lone_surrogate + "Y".encode("utf-16-le"))
    path = tmp_path / "leads.csv"
    path.write_bytes(data)
    leads = read_leads(path)
    assert [(c.name, c.notes) for c in leads.companies] == [
        ("Acme", "fine"),
        ("Beta", "\ufffdY"),
        ("Gamma", "fine"),
    ]
    assert [(w.line, w.kind) for w in leads.warnings] == [(3, WarningKind.BAD_ENCODING)]


def test_a_one_megabyte_cell_is_cut_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(f'name,description\nBig,"{"x" * 1_000_000}"\nSmall,ok\n', encoding="utf-8")
    leads = read_leads(path)
    assert [c.name for c in leads.companies] == ["Big", "Small"]
    assert len(leads.companies[0].description or "") == CELL_LIMIT
    assert [(w.line, w.column, w.kind) for w in leads.warnings] == [
        (2, "description", WarningKind.CELL_TOO_LARGE)
    ]


def test_an_unclosed_quote_is_reported_where_it_opens(tmp_path: Path) -> None:
    rows = "".join(f"Firm {i},Retail\n" for i in range(200))
    path = tmp_path / "leads.csv"
    path.write_text(f'name,industry\nAcme,"SaaS\n{rows}', encoding="utf-8")
    leads = read_leads(path)
    assert [c.name for c in leads.companies] == ["Acme"]
    assert [(w.line, w.kind) for w in leads.warnings] == [(2, WarningKind.LONG_ROW)]
    assert "one row runs from line 2 to 202" in leads.warnings[0].message


def test_a_row_past_the_csv_field_guard_is_left_out_and_the_next_rows_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from salesbus.agents.leads import reader

    monkeypatch.setattr(reader, "_FIELD_LIMIT", 1000)
    previous = csv.field_size_limit(1000)
    try:
        path = tmp_path / "leads.csv"
        path.write_text(f"name,notes\nBig,{'x' * 5000}\nSmall,ok\n", encoding="utf-8")
        leads = read_leads(path)
    finally:
        csv.field_size_limit(previous)
    assert [c.name for c in leads.companies] == ["Small"]
    assert [(w.line, w.kind, w.dropped) for w in leads.warnings] == [
        (2, WarningKind.UNREADABLE_ROW, True)
    ]


def test_nul_bytes_are_removed_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    rows = "".join(f"Firm {i},Retail\n" for i in range(20)).encode()
    path.write_bytes(b"name,industry\nAc\x00me,Saa\x00S\n" + rows)
    leads = read_leads(path)
    assert [(c.name, c.industry) for c in leads.companies[:2]] == [
        ("Acme", "SaaS"),
        ("Firm 0", "Retail"),
    ]
    assert [(w.line, w.column, w.kind) for w in leads.warnings] == [
        (2, "name", WarningKind.CONTROL_CHARACTERS),
        (2, "industry", WarningKind.CONTROL_CHARACTERS),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty"),
        (bytes(range(256)) * 64, "is a binary file"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" * 200, "is a binary file"),
        (b"\n\n", "has no header row"),
        (b"domain,industry\nacme.com,SaaS\n", "no company name column"),
    ],
)
def test_files_that_cannot_run_at_all_are_one_clear_error(
    tmp_path: Path, data: bytes, message: str
) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(data)
    with pytest.raises(LeadFileError, match=message):
        read_leads(path)


def test_a_header_only_file_has_no_companies_and_no_warnings(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("Company Name,Website\n", encoding="utf-8")
    leads = read_leads(path)
    assert (leads.companies, leads.warnings) == ([], [])


def _write_rows(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("Company Name,Website,Headcount,HQ,Products\n")
        for i in range(rows):
            handle.write(
                f'Company {i},company{i}.com,"{i:,} (2024)","Austin, Texas",'
                f"Product line {i}; services\n"
            )


def _warm(path: Path) -> None:
    """Load the suffix list, ISO data and caches outside the measurement."""
    with open_leads(path) as stream:
        next(iter(stream))
    gc.collect()


def test_a_100000_row_file_streams_in_flat_memory(tmp_path: Path) -> None:
    path = tmp_path / "large.csv"
    _write_rows(path, 100_000)
    _warm(path)
    count = 0
    tracemalloc.start()
    try:
        with open_leads(path, dedupe=False) as stream:
            for item in stream:
                count += isinstance(item, Company)
                if count == 10_000:
                    at_10k = tracemalloc.get_traced_memory()[1]
        at_100k = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 100_000
    # Ten times the rows, the same peak: one row in memory at a time (holding the
    # companies would take well over 100 MB).
    assert at_100k - at_10k < 500_000, (at_10k, at_100k)


def test_reporting_duplicates_costs_a_few_bytes_per_company(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    _write_rows(path, 20_000)
    _warm(path)
    peaks = []
    for dedupe in (False, True):
        tracemalloc.start()
        try:
            with open_leads(path, dedupe=dedupe) as stream:
                assert sum(isinstance(item, Company) for item in stream) == 20_000
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    assert (peaks[1] - peaks[0]) / 20_000 < 200, peaks


_SUFFIXES = st.sampled_from(["leads.csv", "leads.tsv", "leads.jsonl"])
_CSVISH = st.text(alphabet=st.sampled_from(list('ab,;\t"\n\r {}[]:\x00\u2028é1-')), max_size=300)


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(st.binary(max_size=600), _CSVISH.map(lambda t: ("name,website\n" + t).encode())),
    _SUFFIXES,
)
def test_any_bytes_give_companies_and_warnings_or_one_lead_file_error(
    data: bytes, name: str
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            leads = read_leads(path)
        except LeadFileError as exc:
            message = str(exc)
        else:
            message = ""
    if message:  # one clear line
        assert "\n" not in message.replace(str(path), "")
        return
    for company in leads.companies:
        assert company.name.strip()
    assert all(warning.line >= 1 for warning in leads.warnings)
