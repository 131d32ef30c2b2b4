"""Whatever a lead file holds, reading it ends in companies and row warnings, or one error."""

from __future__ import annotations

import csv
import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from salesbus.agents.errors import LeadFileError
from salesbus.agents.facts import facts_from_company
from salesbus.agents.leads import LeadFile, read_leads_text
from salesbus.agents.models import Company

HEADERS = ["name", "domain", "website", "employees", "country", "email", "description", "notes"]
CELLS = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["=1+1", "-Dana", "+SUM(A1)", "@foo", "10k", "51-200", "1e999", "nan", "-5"]),
    st.text(alphabet=st.characters(max_codepoint=0x9F), max_size=20),  # control characters
)
ROWS = st.lists(st.fixed_dictionaries({}, optional=dict.fromkeys(HEADERS, CELLS)), max_size=8)


def as_csv(rows: list[dict[str, str]], delimiter: str) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADERS, delimiter=delimiter)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def read(text: str, kind: str) -> None:
    try:
        leads = read_leads_text(text, kind=kind)
    except LeadFileError as exc:
        problem = str(exc)
    else:
        check(leads)
        return
    assert "\n" not in problem


def check(leads: LeadFile) -> None:
    for company in leads.companies:
        assert company.name.strip()
        assert company.employees is None or company.employees >= 0
    for problem in leads.errors:
        assert problem.line >= 1


@settings(max_examples=300, deadline=None)
@given(rows=ROWS, delimiter=st.sampled_from([",", ";", "\t", "|"]))
def test_any_csv_rows_read_as_companies_or_row_warnings(
    rows: list[dict[str, str]], delimiter: str
) -> None:
    read(as_csv(rows, delimiter), "csv")


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=300))
def test_any_text_as_a_csv_file_reads_or_is_one_lead_file_error(text: str) -> None:
    read("name,domain\n" + text, "csv")
    read(text, "csv")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(
        st.one_of(
            st.dictionaries(st.sampled_from([*HEADERS, "contact"]), JSON_VALUES, max_size=5).map(
                json.dumps
            ),
            st.text(max_size=30),
        ),
        max_size=6,
    )
)
def test_any_jsonl_lines_read_as_companies_or_row_warnings(lines: list[str]) -> None:
    read("\n".join(lines), "jsonl")


def test_a_cell_larger_than_the_csv_field_limit_is_a_lead_file_error_or_a_warning() -> None:
    read("name,description\nAcme," + "x" * 200_000 + "\n", "csv")


def test_json_nested_past_the_recursion_limit_is_a_row_warning() -> None:
    read('{"name": "Acme", "notes": ' + "[" * 100_000 + "]" * 100_000 + "}\n", "jsonl")


def test_whitespace_only_cells_become_no_facts() -> None:
    company = Company(name="Acme", description=" \t", notes="\r")
    texts = [fact.text for fact in facts_from_company(company).facts]
    assert texts == ["The company is called Acme."]
