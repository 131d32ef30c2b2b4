"""The CRM export: every touch of the sequence, names apart, rep filter columns, Excel's BOM."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from salesbus.orchestrator.export import crm_columns, split_name
from tests.orchestrator.cli_support import run_fast, salesbus, write_inputs


@pytest.mark.parametrize(
    ("name", "first", "last"),
    [
        ("Dana Whitfield", "Dana", "Whitfield"),
        ("Dr. Jane van der Berg", "Jane", "van der Berg"),
        ("José Álvarez Ruiz", "José", "Álvarez Ruiz"),
        ("Madonna", "Madonna", ""),
        ("Whitfield, Dana", "Dana", "Whitfield"),
    ],
)
def test_a_contact_name_splits_into_first_and_last(name: str, first: str, last: str) -> None:
    assert split_name(name) == (first, last)


def test_the_excel_export_is_utf8_with_a_bom_and_has_every_touch(tmp_path: Path) -> None:
    leads = (
        "name,domain,industry,employees,country,contact_name,contact_title\n"
        "Zoë Analytics,zoe.example,SaaS,300,United States,Renée Ølstad,VP Sales\n"
    )
    campaign, lead_file = write_inputs(tmp_path, leads=leads)
    db = tmp_path / "s.db"
    run_fast(lead_file, campaign, db)
    out = tmp_path / "crm.csv"
    salesbus("export", "--db", db, "--format", "csv", "--excel", "-o", out)

    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    (row,) = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert list(row) == crm_columns(3)
    assert row["company"] == "Zoë Analytics"
    assert (row["contact_first_name"], row["contact_last_name"]) == ("Renée", "Ølstad")
    assert (row["industry"], row["country"], row["employees"]) == ("SaaS", "United States", "300")
    assert row["top_pain_point"]
    days = [int(row[f"follow_up_{n}_day"]) for n in (1, 2, 3)]
    assert days == [3, 7, 14]
    assert all(row[f"follow_up_{n}_body"] for n in (1, 2, 3))
    assert row["email_body"]
    assert row["linkedin_note"]

    plain = tmp_path / "plain.csv"
    salesbus("export", "--db", db, "--format", "csv", "-o", plain)
    assert not plain.read_bytes().startswith(b"\xef\xbb\xbf")
