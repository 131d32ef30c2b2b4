"""The ICP score: the campaign's weights applied by rules to extracted attributes."""

from __future__ import annotations

import pytest

from salesbus.agents.campaign import Icp, IcpWeights, TierThresholds
from salesbus.agents.models import Tier
from salesbus.agents.scoring import Attribute, CompanyAttributes, Headcount, score_icp

ICP = Icp(
    industries=["SaaS", "Logistics"],
    employees_min=50,
    employees_max=5000,
    regions=["North America", "DACH"],
    keywords=["pipeline", "forecast", "CRM", "churn"],
    technologies=["Salesforce", "Snowflake", "dbt"],
)

FIT = CompanyAttributes(
    industry=Attribute(value="Application Software", fact_ids=["f2"]),
    headcount=Headcount(value=800, fact_ids=["f3"]),
    location=Attribute(value="Munich, Germany", fact_ids=["f4"]),
    keywords=[
        Attribute(value="Their pipeline reviews run on a CRM export.", fact_ids=["f6"]),
        Attribute(value="The forecast slips every quarter.", fact_ids=["f7"]),
    ],
    technologies=[
        Attribute(value="sfdc", fact_ids=["f8"]),
        Attribute(value="Snowflake", fact_ids=["f9"]),
    ],
)


def test_a_company_matching_every_criterion_scores_full_points_with_a_reason_per_criterion() -> (
    None
):
    result = score_icp(FIT, ICP)

    assert result.score == 100
    assert result.tier is Tier.A
    assert result.qualified
    assert result.disqualify_reasons == []
    by_criterion = {reason.criterion: reason for reason in result.reasons}
    assert list(by_criterion) == ["industry", "size", "region", "keywords", "technology"]
    assert all(reason.points == reason.max_points for reason in result.reasons)
    assert by_criterion["industry"].fact_ids == ["f2"]
    assert by_criterion["region"].detail == "Munich, Germany is in DACH"
    assert by_criterion["keywords"].detail == "3 of 4 ICP keywords found: pipeline, forecast, CRM"
    assert by_criterion["keywords"].fact_ids == ["f6", "f7"]
    assert by_criterion["technology"].fact_ids == ["f8", "f9"]


def test_a_technology_counts_under_any_of_its_spellings() -> None:
    result = score_icp(FIT, ICP)

    technology = next(r for r in result.reasons if r.criterion == "technology")
    assert technology.detail == "uses Salesforce, Snowflake (ICP technologies)"


def test_a_company_near_the_headcount_range_earns_half_the_size_points() -> None:
    near = FIT.model_copy(update={"headcount": Headcount(value=9000, fact_ids=["f3"])})

    size = next(r for r in score_icp(near, ICP).reasons if r.criterion == "size")

    assert size.points == pytest.approx(size.max_points / 2)
    assert "close to the ICP range" in size.detail


def test_nothing_known_disqualifies_with_the_threshold_and_every_missed_criterion() -> None:
    result = score_icp(CompanyAttributes(), ICP)

    assert result.score == 0
    assert not result.qualified
    assert result.tier is Tier.D
    assert result.disqualify_reasons == [
        "ICP score 0 is below the threshold of 25",
        "industry unknown",
        "headcount unknown",
        "location unknown",
        "none of the 4 ICP keywords appear in the facts",
        "none of the ICP technologies (Salesforce, Snowflake, dbt) seen",
    ]


def test_an_icp_without_criteria_accepts_everything() -> None:
    result = score_icp(CompanyAttributes(), Icp())

    assert result.score == 100
    assert all(reason.points == reason.max_points for reason in result.reasons)


def test_weights_decide_the_score_and_thresholds_the_tier() -> None:
    industry_only = Icp(
        industries=["SaaS"],
        weights=IcpWeights(industry=1, size=0, region=0, keywords=0, technology=0),
        tiers=TierThresholds(a=90, b=60, c=30, disqualify_below=10),
    )
    wrong = FIT.model_copy(update={"industry": Attribute(value="Oil & Gas Drilling")})

    assert score_icp(FIT, industry_only).score == 100
    result = score_icp(wrong, industry_only)
    assert result.score == 0
    assert "Oil & Gas Drilling is outside the ICP (SaaS)" in result.disqualify_reasons


def test_attributes_are_validated_at_the_boundary() -> None:
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        Headcount(value=-3)
