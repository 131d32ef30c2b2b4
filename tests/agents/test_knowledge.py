"""Knowledge files: every built-in entry loads, and a broken file says where it is broken."""

from __future__ import annotations

from pathlib import Path

import pytest

from salesbus.agents.errors import KnowledgeError
from salesbus.agents.knowledge import DEFAULT_KNOWLEDGE, knowledge_for, read_file, render
from salesbus.agents.knowledge.loader import BUILT_IN_FILES


def test_every_built_in_file_loads_and_names_every_template_field_it_may() -> None:
    kb = knowledge_for()

    assert kb is DEFAULT_KNOWLEDGE
    assert len(BUILT_IN_FILES) >= 6
    assert len(kb.industries) >= 20
    assert len({industry.key for industry in kb.industries}) == len(kb.industries)
    assert all(industry.pain_points and industry.opportunities for industry in kb.industries)
    assert kb.signals
    assert kb.technologies


def test_templates_fill_possessives_that_hold_for_any_name() -> None:
    template = "At {company_possessive} size, {product} helps."

    assert render(template, company="Siemens", product="X") == "At Siemens' size, X helps."
    assert render(template, company="Acme", product="X") == "At Acme's size, X helps."


def test_a_broken_entry_fails_with_the_file_the_entry_and_the_field() -> None:
    text = """
[[industry]]
key = "shipbuilding"
label = "Shipbuilding"
short = "shipbuilding"

[[industry.pain_points]]
category = "yard scheduling"
description = "Schedules slip."
severity = "terrible"
"""
    with pytest.raises(KnowledgeError) as raised:
        read_file(text, "mine.toml")

    message = str(raised.value)
    assert message.startswith('mine.toml: industry[0] ("shipbuilding").pain_points[0].severity:')
    assert "'low', 'medium', 'high' or 'critical'" in message


def test_an_unknown_field_is_refused_rather_than_ignored() -> None:
    with pytest.raises(KnowledgeError, match=r'technology\[0\] \("Gong"\)\.categry: Extra inputs'):
        read_file('[[technology]]\nname = "Gong"\ncategory = "x"\ncategry = "y"\n', "t.toml")


def test_a_template_field_that_does_not_exist_is_refused() -> None:
    text = '[[signal]]\nkey = "k"\nlabel = "l"\nkeywords = ["x"]\nhook = "Hi {first_name}"\n'

    with pytest.raises(KnowledgeError, match=r"signal\[0\]\.hook: unknown template field"):
        read_file(text, "s.toml")


def test_invalid_toml_names_the_file() -> None:
    with pytest.raises(KnowledgeError, match=r"^bad\.toml is not valid TOML"):
        read_file("[[industry]\nkey=", "bad.toml")


def test_a_campaign_file_adds_an_industry_and_overrides_a_technology(tmp_path: Path) -> None:
    extra = tmp_path / "shipyards.toml"
    extra.write_text(
        """
[[industry]]
key = "shipbuilding"
label = "Shipbuilding"
short = "shipbuilding"
aliases = ["shipyard", "shipbuilding"]

[[industry.pain_points]]
category = "yard scheduling"
description = "Yard schedules at {company} slip when steel arrives late."
severity = "high"

[[industry.opportunities]]
category = "yard visibility"
description = "One view of every hull in build."
priority = "medium"
potential_value = "Fewer late deliveries."

[[technology]]
name = "Gong"
category = "conversation intelligence"
""",
        encoding="utf-8",
    )

    kb = knowledge_for(extra)

    found = kb.industry_for("Shipbuilding & Marine")
    assert found is not None
    assert found[0].key == "shipbuilding"
    gong = kb.technology_named("gong")
    assert gong is not None
    assert gong.category == "conversation intelligence"
    assert len(kb.industries) == len(DEFAULT_KNOWLEDGE.industries) + 1
    assert DEFAULT_KNOWLEDGE.industry_keyed("shipbuilding") is None  # the built-ins are untouched


def test_a_campaign_knowledge_path_that_is_broken_fails_naming_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "knowledge"
    folder.mkdir()
    (folder / "people.toml").write_text("[buyer_functions]\nrevenue = 3\n", encoding="utf-8")

    with pytest.raises(KnowledgeError, match=r"people\.toml: buyer_functions\.revenue: "):
        knowledge_for(folder)
