"""English that holds for any company name."""

from __future__ import annotations

import pytest

from salesbus.agents.grammar import possessive, prose_list, running_name, sentence


@pytest.mark.parametrize(
    ("name", "running"),
    [
        ("N-able, Inc.", "N-able"),
        ("Viasat (American company)", "Viasat"),
        ("JPMorgan Chase & Co.", "JPMorgan Chase"),
        ("Novo Nordisk A/S", "Novo Nordisk"),
        ("Adyen N.V.", "Adyen"),
        ("SAP SE", "SAP"),
        ("Siemens", "Siemens"),
        ("Inc.", "Inc."),
    ],
)
def test_names_in_running_text_lose_legal_suffixes_and_parentheticals(
    name: str, running: str
) -> None:
    assert running_name(name) == running


@pytest.mark.parametrize(
    ("name", "owned"),
    [("Siemens", "Siemens'"), ("Robinhood Markets", "Robinhood Markets'"), ("Acme", "Acme's")],
)
def test_possessives(name: str, owned: str) -> None:
    assert possessive(name) == owned


def test_lists_read_as_prose_and_sentences_end_once() -> None:
    assert prose_list(["Snowflake", "BigQuery", "dbt"]) == "Snowflake, BigQuery and dbt"
    assert prose_list(["Snowflake"]) == "Snowflake"
    assert sentence("We met Acme Inc.") == "We met Acme Inc."
    assert sentence("Is that so?") == "Is that so?"
    assert sentence("Done") == "Done."
