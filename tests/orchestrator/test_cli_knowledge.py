"""A campaign's own knowledge files from the command line: used, or a clear error."""

from __future__ import annotations

from pathlib import Path

from tests.orchestrator.cli_support import run_fast, write_inputs


def test_a_broken_knowledge_file_stops_the_run_with_one_line_naming_file_entry_and_field(
    tmp_path: Path,
) -> None:
    campaign, leads = write_inputs(tmp_path)
    campaign.write_text(
        campaign.read_text(encoding="utf-8") + '\n[knowledge]\npath = "mine.toml"\n',
        encoding="utf-8",
    )
    (tmp_path / "mine.toml").write_text(
        '[[industry]]\nkey = "yards"\nlabel = "Shipyards"\nshort = "shipyards"\n'
        '[[industry.pain_points]]\ncategory = "c"\ndescription = "d"\nseverity = "awful"\n',
        encoding="utf-8",
    )

    result = run_fast(leads, campaign, tmp_path / "s.db")

    assert result.exit_code == 2
    assert 'mine.toml: industry[0] ("yards").pain_points[0].severity' in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output + result.stderr
    assert not (tmp_path / "s.db").exists()
