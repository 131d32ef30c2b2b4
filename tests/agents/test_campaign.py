"""A campaign file is checked at load: a bad setting is one message naming the field."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesbus.agents.campaign import Campaign, load_campaign
from salesbus.agents.errors import CampaignError

SELLER = """
[seller]
company = "Tallyline"
product = "RevOps"
value_propositions = ["One pipeline view"]
sender_name = "Morgan Ellis"
sender_title = "Account Executive"
"""


def load(tmp_path: Path, extra: str) -> Campaign:
    path = tmp_path / "campaign.toml"
    path.write_text(SELLER + extra, encoding="utf-8")
    return load_campaign(path)


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ("[icp.weights]\nindustry = inf", "icp.weights.industry"),
        ("[icp.weights]\nsize = nan", "icp.weights.size"),
        ("[icp.weights]\nregion = -3", "icp.weights.region"),
        ("[icp.weights]\nregion = 1e300", "icp.weights.region"),
        (
            "[icp.weights]\nindustry = 0\nsize = 0\nregion = 0\nkeywords = 0\ntechnology = 0",
            "icp.weights: Value error, at least one weight must be above 0",
        ),
        ("[icp]\nemployees_min = 500\nemployees_max = 50", "employees_max must not be below"),
        ("[limits]\nfollow_up_days = [-5, 1]", "follow_up_days: each day must be between 1"),
        ("[limits]\nfollow_up_days = [3, 100000000000]", "limits"),
        ("[limits]\nfollow_up_days = [7, 3]", "follow_up_days must increase"),
        ("[limits]\nsubject_max = 0", "limits.subject_max"),
        ("[limits]\nemail_body_max = 99999999", "limits.email_body_max"),
        ("[approval]\nbelow_score = 1000", "approval.below_score"),
        ("[icp.tiers]\na = 10\nb = 50", "tier thresholds must satisfy"),
    ],
)
def test_a_setting_that_would_poison_a_run_is_refused_naming_the_field(
    tmp_path: Path, extra: str, named: str
) -> None:
    with pytest.raises(CampaignError) as caught:
        load(tmp_path, extra)
    assert named in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_campaign_file_that_is_not_utf8_says_so(tmp_path: Path) -> None:
    path = tmp_path / "campaign.toml"
    path.write_bytes((SELLER + 'tone = "café"\n').encode("latin-1"))
    with pytest.raises(CampaignError, match=r"is not UTF-8 text \(byte 0xe9 at offset \d+\)"):
        load_campaign(path)


NUMBERS = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
)
FIELDS = [
    "icp.weights.industry",
    "icp.weights.size",
    "icp.employees_min",
    "icp.employees_max",
    "icp.tiers.a",
    "icp.tiers.disqualify_below",
    "approval.below_score",
    "limits.subject_max",
    "limits.email_body_max",
    "limits.linkedin_note_max",
]


def toml_number(value: int | float) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    return str(value)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    values=st.dictionaries(st.sampled_from(FIELDS), NUMBERS, max_size=4),
    days=st.lists(NUMBERS, max_size=4),
)
def test_any_numbers_in_a_campaign_load_or_fail_as_a_campaign_error(
    tmp_path: Path, values: dict[str, int | float], days: list[int | float]
) -> None:
    sections: dict[str, list[str]] = {
        "limits": [f"follow_up_days = [{', '.join(map(toml_number, days))}]"]
    }
    for dotted, value in values.items():
        table, _, key = dotted.rpartition(".")
        sections.setdefault(table, []).append(f"{key} = {toml_number(value)}")
    extra = "".join(f"\n[{table}]\n" + "\n".join(lines) for table, lines in sections.items())
    tomllib.loads(SELLER + extra)  # the test's own TOML is valid
    try:
        campaign = load(tmp_path, extra)
    except CampaignError as exc:
        problem = str(exc)
    else:
        weights = campaign.icp.weights
        assert all(math.isfinite(w) for w in (weights.industry, weights.size, weights.total))
        assert weights.total > 0
        assert all(1 <= day <= 365 for day in campaign.limits.follow_up_days)
        return
    assert "\n" not in problem
    assert problem.startswith(str(tmp_path))
