"""A golden set of real public companies: drafts a demanding seller would send.

``data/golden_companies.csv`` holds 45 listed companies across more than a dozen
sectors, with the industry labels real data uses (GICS sectors and
sub-industries, CRM picklists) and the knowledge base's industry each must map
to. Every draft is read by the linter (zero seams), and the set as a whole is
checked for variety: subjects, openings, proof points and strategies.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import anyio
import pytest

from salesbus.agents.campaign import Campaign, load_campaign
from salesbus.agents.knowledge import industry_for
from salesbus.agents.models import (
    Analysis,
    Company,
    CompanyProfile,
    MessageKind,
    QualityDecision,
)
from salesbus.agents.providers.base import Draft
from salesbus.agents.providers.offline import OfflineProvider
from salesbus.agents.quality import check_outreach

DATA = Path(__file__).parent / "data"

Result = tuple[Company, CompanyProfile, Analysis, Draft]


def golden_rows() -> list[dict[str, str]]:
    with (DATA / "golden_companies.csv").open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def company(row: dict[str, str]) -> Company:
    return Company(
        name=row["name"],
        domain=row["domain"],
        industry=row["industry"],
        employees=int(row["employees"]),
        country=row["country"],
        description=row["description"],
    )


async def _run_all(campaign: Campaign) -> list[Result]:
    provider = OfflineProvider()
    results = []
    for row in golden_rows():
        lead = company(row)
        profile = await provider.research(lead, None, campaign)
        analysis = await provider.analyze(profile, campaign)
        draft = await provider.personalize(profile, analysis, campaign)
        results.append((lead, profile, analysis, draft))
    return results


@pytest.fixture(scope="module")
def campaign() -> Campaign:
    return load_campaign(DATA / "golden_campaign.toml")


@pytest.fixture(scope="module")
def golden(campaign: Campaign) -> list[Result]:
    """The whole set run once (the engine is deterministic and needs no event loop)."""
    return anyio.run(_run_all, campaign)


def initial(draft: Draft) -> str:
    email = next(m for m in draft.messages if m.kind is MessageKind.INITIAL)
    return email.body


def test_the_golden_set_is_forty_real_companies_across_a_dozen_sectors() -> None:
    rows = golden_rows()

    assert len(rows) >= 40
    assert len({row["expected_industry"] for row in rows}) >= 12
    assert len({row["domain"] for row in rows}) == len(rows)


@pytest.mark.parametrize("row", golden_rows(), ids=lambda row: row["name"])
def test_each_label_maps_to_the_industry_it_names(row: dict[str, str]) -> None:
    found = industry_for(row["industry"])

    assert found is not None, row["industry"]
    assert found[0].key == row["expected_industry"]


def test_banks_insurers_reits_utilities_and_software_are_told_apart() -> None:
    def key(label: str) -> str | None:
        found = industry_for(label)
        return found[0].key if found else None

    assert key("Financials; Regional Banks") == key("Banking; Financials") == "banking"
    assert key("Insurance") == "insurance" != key("Insurtech")
    assert key("Real Estate; Office REITs") == "real-estate"
    assert key("Construction & Engineering") == "construction"
    assert key("Utilities") == "utilities" != key("Oil & Gas Drilling")
    assert key("Information Technology; Systems Software") == "saas"
    assert key("Information Technology") == "technology"


def test_every_golden_draft_passes_every_quality_rule_with_zero_seams(
    golden: list[Result], campaign: Campaign
) -> None:
    failures = []
    for lead, profile, _, draft in golden:
        report = check_outreach(draft, profile, campaign)
        failures.extend(f"{lead.name}: {check.rule}: {check.detail}" for check in report.failed)
        assert report.decision is QualityDecision.PASS or failures
    assert failures == []


def test_names_read_as_a_writer_would_put_them(golden: list[Result]) -> None:
    text = "\n".join(m.body + (m.subject or "") for _, _, _, d in golden for m in d.messages)

    assert "Inc.." not in text
    assert "s's" not in text
    assert "(American company)" not in text
    assert "N-able, Inc." not in text
    assert "Robinhood Markets'" in text or "Robinhood Markets" in text
    assert "Hi there" not in text


def test_subjects_vary_with_each_companys_own_facts(golden: list[Result]) -> None:
    subjects = [
        next(m.subject for m in draft.messages if m.kind is MessageKind.INITIAL)
        for *_, draft in golden
    ]

    assert len(set(subjects)) >= 0.6 * len(subjects)
    assert not any(subject and subject.startswith("Comparing notes") for subject in subjects)


def test_no_proof_point_goes_to_more_than_a_third_of_the_companies(
    golden: list[Result], campaign: Campaign
) -> None:
    proofs = [p.text for p in campaign.seller.proof_points if not isinstance(p, str)]
    used = Counter(proof for *_, draft in golden for proof in proofs if proof in initial(draft))

    assert used, "no draft carried a proof point"
    assert max(used.values()) <= len(golden) / 3


def test_a_proof_point_tagged_for_another_industry_never_reaches_a_company(
    golden: list[Result],
) -> None:
    bank_proof = "A regional lender now reviews its commercial pipeline"
    logistics_proof = "A 400-person logistics software company"
    for lead, profile, _, draft in golden:
        body = initial(draft)
        if bank_proof in body:
            assert profile.industry in ("Banking", "Financial services", "Fintech"), lead.name
        if logistics_proof in body:
            assert profile.industry in ("Logistics / supply chain", "SaaS / software"), lead.name


def test_strategies_follow_what_was_found(golden: list[Result]) -> None:
    strategies = Counter(draft.strategy for *_, draft in golden)

    assert len(strategies) >= 2


def test_industry_typical_pains_are_asked_not_asserted(golden: list[Result]) -> None:
    for lead, profile, analysis, draft in golden:
        labels = {f.id for f in profile.facts if f.topic in ("industry", "name")}
        for pain in analysis.pain_points:
            if set(pain.fact_ids) <= labels and pain.description in initial(draft):
                pytest.fail(f"{lead.name}: '{pain.description}' asserted on the label alone")
