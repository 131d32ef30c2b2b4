"""Lead files built to hurt the reader end in warnings or one error, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from salesbus.agents.errors import LeadFileError
from salesbus.agents.leads import read_leads


@pytest.mark.parametrize(
    "line",
    [
        '{"name": "Deep", "notes": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"name": "Deeper", "contact": ' + '{"a": ' * 5_000 + "1" + "}" * 5_000 + "}",
    ],
)
def test_json_nested_past_the_recursion_limit_costs_its_row_only(tmp_path: Path, line: str) -> None:
    path = tmp_path / "leads.jsonl"
    path.write_text(line + '\n{"name": "Acme", "domain": "acme.example"}\n', encoding="utf-8")
    try:
        leads = read_leads(path)
    except LeadFileError as exc:
        problem = str(exc)
    else:
        assert [company.name for company in leads.companies][-1] == "Acme"
        return
    assert "\n" not in problem
