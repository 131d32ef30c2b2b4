"""Exported cells are data: no formulas a spreadsheet would run, no control characters, no keys."""

from __future__ import annotations

import pytest

from salesbus.orchestrator.export import clean_text, neutralise_cell


@pytest.mark.parametrize(
    ("cell", "exported"),
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://evil.example")', '\'=HYPERLINK("http://evil.example")'),
        ("+SUM(A1:A9)", "'+SUM(A1:A9)"),
        ("-2+3", "'-2+3"),
        ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
        ("@foo", "'@foo"),
        ("\t=1+1", "'\t=1+1"),
        ("-Dana", "-Dana"),
        ("-5", "-5"),
        ("+1 555 0100", "+1 555 0100"),
        ("Acme = best", "Acme = best"),
        ("", ""),
        (42, 42),
    ],
)
def test_only_cells_a_spreadsheet_would_evaluate_are_guarded(
    cell: object, exported: object
) -> None:
    assert neutralise_cell(cell) == exported


def test_nul_and_escape_sequences_are_dropped_but_line_breaks_stay() -> None:
    assert clean_text("Acme\x00 Inc\x1b[31m red\x9b\x07\r\nline two\tcol") == (
        "Acme Inc[31m red\r\nline two\tcol"
    )


def test_a_control_character_cannot_hide_a_formula() -> None:
    assert neutralise_cell("\x00=1+1") == "'=1+1"
