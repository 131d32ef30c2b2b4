"""`salesbus inspect`, the lead summary `run` prints, and what the CLI prints from files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .cli_support import CAMPAIGN, run_fast, salesbus, states, workflow_id, write_inputs

VENDOR_EXPORT = """Company Name,Website,Sector,Headcount,HQ,Products
Resonac,{{url|resonac.com},Chemicals,"25,599 ( FTE , 2024)","Tokyo, Japan",Semiconductor materials
Nikon,Official website,Optics,"20,000 (2023)","Tokyo, Japan",Cameras; lithography
Canon,Official website,Optics,"c. 7,500 (2024)",Japan,Printers
Dell Technologies,dell.com,Hardware,10k+,"Austin, Texas",PCs; servers
Chemours,chemours.com,Chemicals,51-200,"Wilmington, DE",Titanium dioxide
Honeywell,honeywell.com,Industrials,"5,001-10,000 employees",Charlotte NC,Aerospace
,nameless.com,SaaS,10,USA,
"""


def test_inspect_shows_the_mapping_every_warning_and_the_first_rows(tmp_path: Path) -> None:
    leads = tmp_path / "export.csv"
    leads.write_text(VENDOR_EXPORT, encoding="utf-8")
    result = salesbus("inspect", leads)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "6 companies will run, 1 row(s) left out, 2 warning(s)" in out
    assert "Company Name → name; Website → website; Sector → industry;" in out
    assert "Products → fact" in out
    assert f"warning {leads}:3, Website: 'Official website' is not a website address" in out
    assert f"left out {leads}:8: no company name" in out
    assert "line 2: Resonac · resonac.com · Chemicals · 25,599 employees · Tokyo, Japan (JP)" in out
    assert "Products: Semiconductor materials" in out
    assert "Austin, Texas (US)" in out


def test_inspect_counts_what_the_do_not_contact_list_stops(tmp_path: Path) -> None:
    campaign, leads = write_inputs(tmp_path)
    text = campaign.read_text(encoding="utf-8")
    campaign.write_text(text + '[do_not_contact]\ndomains = ["acme.example"]\n', encoding="utf-8")
    result = salesbus("inspect", leads, "--campaign", campaign)
    assert result.exit_code == 0, result.output
    assert "6 companies will run (1 stopped at once by the do-not-contact list)" in result.stdout


def test_a_column_map_from_the_command_line_or_the_campaign_decides(tmp_path: Path) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_text("Firm Label,Base\nAcme,Berlin Germany\n", encoding="utf-8")
    refused = salesbus("inspect", leads)
    assert refused.exit_code == 2
    assert "no company name column among Firm Label, Base" in refused.stderr
    mapped = salesbus("inspect", leads, "--map", "Firm Label=name,Base=location")
    assert mapped.exit_code == 0, mapped.output
    assert "Acme · Berlin Germany (DE)" in mapped.stdout
    campaign = tmp_path / "campaign.toml"
    campaign.write_text(
        CAMPAIGN.replace("{approval}", "never")
        + '[leads]\ncolumns = { "Firm Label" = "name", "Base" = "location" }\n',
        encoding="utf-8",
    )
    result = run_fast(leads, campaign, tmp_path / "s.db")
    assert result.exit_code == 0, result.output
    assert "Firm Label → name; Base → location" in result.stderr
    assert set(states(tmp_path / "s.db")) == {"Acme"}
    bad_map = salesbus("inspect", leads, "--map", "Firm Label=ceo")
    assert bad_map.exit_code == 2
    assert "'ceo' is not a field" in bad_map.stderr


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty"),
        (bytes(range(256)) * 64, "is a binary file"),
        (b"Company Name,Website\n", "has no company that can run"),
        (b"Company Name,Website\n,acme.com\n", "has no company that can run"),
        (b"domain,industry\nacme.com,SaaS\n", "no company name column"),
    ],
)
def test_files_that_cannot_run_exit_2_with_one_line_and_no_traceback(
    tmp_path: Path, data: bytes, message: str
) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_bytes(data)
    (tmp_path / "c").mkdir()
    campaign, _ = write_inputs(tmp_path / "c")
    for args in (
        ("inspect", leads),
        ("run", leads, "--campaign", campaign, "--db", tmp_path / "d"),
    ):
        result = salesbus(*args)
        assert result.exit_code == 2, result.output
        assert message in result.stderr
        assert "Traceback" not in result.output
        assert result.stderr.strip().splitlines()[-1].startswith("error:")


def test_names_from_a_file_are_printed_as_text_not_markup(tmp_path: Path) -> None:
    names = ["Acme [/b] Corp", "[red]Redline[/red] Ltd", "Line :100: Inc", "Bell\x07 \x1b[2JCo"]
    rows = "".join(f'"{name}",SaaS,300,United States\n' for name in names)
    campaign, leads = write_inputs(
        tmp_path, approval="always", leads="name,industry,employees,country\n" + rows
    )
    inspected = salesbus("inspect", leads)
    assert inspected.exit_code == 0, inspected.output
    for shown in ("Acme [/b] Corp", "[red]Redline[/red] Ltd", "Line :100: Inc", "Bell [2JCo"):
        assert shown in inspected.stdout
    assert "\x1b" not in inspected.stdout
    assert "\x07" not in inspected.stdout
    db = tmp_path / "s.db"
    assert run_fast(leads, campaign, db).exit_code == 0
    status = salesbus("status", "--db", db)
    assert status.exit_code == 0, status.output
    assert "Acme [/b] Corp" in status.stdout
    assert "[red]Redline[/red] Ltd" in status.stdout
    shown = salesbus("show", workflow_id(db, "Line :100: Inc"), "--db", db)
    assert shown.exit_code == 0, shown.output
    assert "Line :100: Inc" in shown.stdout
    approved = salesbus("approve", workflow_id(db, "Acme [/b] Corp"), "--db", db)
    assert approved.exit_code == 0, approved.output
    assert "Acme [/b] Corp: completed" in approved.stdout


def test_an_unknown_status_is_an_error_not_an_empty_export(tmp_path: Path) -> None:
    campaign, leads = write_inputs(tmp_path)
    db = tmp_path / "s.db"
    run_fast(leads, campaign, db)
    result = salesbus("export", "--db", db, "--status", "complete")
    assert result.exit_code == 2
    assert "unknown state complete; choose from" in result.output


def test_piped_output_prints_whole_progress_lines_and_help_fits_80_columns(
    tmp_path: Path,
) -> None:
    campaign, leads = write_inputs(tmp_path)
    result = run_fast(leads, campaign, tmp_path / "s.db", "--simulate-latency", "0.3")
    progress = [line for line in result.stderr.splitlines() if "companies finished" in line]
    assert progress, result.stderr
    assert all(line.endswith("$0.0000") for line in progress)
    help_text = salesbus("run", "--help", env={"COLUMNS": "80"}).stdout
    assert max(len(line) for line in help_text.splitlines()) <= 80
    assert "--fetch-websites / --no-fetch-websites" in help_text
    assert "Read company websites (default: with Claude" in help_text


def test_a_vendor_export_runs_every_named_row_and_judges_regions_on_the_country(
    tmp_path: Path,
) -> None:
    campaign, leads = write_inputs(tmp_path, leads=VENDOR_EXPORT)
    db = tmp_path / "s.db"
    result = run_fast(leads, campaign, db)
    assert result.exit_code == 0, result.output
    finished = states(db)
    assert set(finished) == {
        "Resonac",
        "Nikon",
        "Canon",
        "Dell Technologies",
        "Chemours",
        "Honeywell",
    }
    assert set(finished.values()) <= {"completed", "disqualified", "awaiting_approval"}
    exported = salesbus("export", "--db", db, "--format", "jsonl").stdout.splitlines()
    regions, reasons = {}, {}
    for line in exported:
        record = json.loads(line)
        reasons[record["company"]["name"]] = record["reason"] or ""
        if record.get("analysis"):
            score = record["analysis"]["score_reasons"]
            reason = next(r for r in score if r["criterion"] == "region")
            regions[record["company"]["name"]] = reason["detail"]
    assert regions["Dell Technologies"] == "Austin, Texas is in United States"
    assert regions["Chemours"] == "Wilmington, DE is in United States"
    assert regions["Honeywell"] == "Charlotte NC is in United States"
    assert "Tokyo, Japan is outside the ICP regions" in reasons["Resonac"]
