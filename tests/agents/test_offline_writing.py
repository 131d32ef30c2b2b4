"""How the offline engine writes: tier D, hypotheses, proof points, greetings, a campaign's
own knowledge, and untrusted page text that never reaches a draft."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from salesbus.agents.campaign import ApprovalPolicy, Campaign, ProofPoint, TierThresholds
from salesbus.agents.events import AnalysisReady, OutreachDrafted
from salesbus.agents.models import (
    Company,
    Contact,
    MessageKind,
    Outreach,
    QualityDecision,
    Tier,
)
from salesbus.agents.personalization import PersonalizationAgent
from salesbus.agents.providers.offline import OfflineProvider
from salesbus.agents.quality import check_outreach
from salesbus.agents.runtime import Skip
from salesbus.agents.website import WebPage
from salesbus.orchestrator.sales import approval_reason
from tests.agents.test_offline_provider import make_campaign, run_pipeline

pytestmark = pytest.mark.anyio

BANK = Company(
    name="First Harbor Bancorp",
    domain="firstharbor.example",
    industry="Financials; Regional Banks",
    employees=900,
    country="United States",
)
SHIPPER = Company(
    name="Tern Freight, Inc.",
    domain="ternfreight.example",
    industry="Air Freight & Logistics",
    employees=600,
    country="United States",
    description="Freight forwarding for mid-sized manufacturers. We are hiring SDRs.",
    contact=Contact(name="Dr. Ana Lima", title="VP Sales", email="ana@ternfreight.example"),
)


def with_tiers(campaign: Campaign, **tiers: int) -> Campaign:
    icp = campaign.icp.model_copy(update={"tiers": TierThresholds(**tiers)})
    return campaign.model_copy(update={"icp": icp})


@pytest.fixture
def provider() -> OfflineProvider:
    return OfflineProvider()


async def test_tier_d_gets_one_short_nurture_note_and_no_approval_queue(
    provider: OfflineProvider,
) -> None:
    campaign = with_tiers(make_campaign(), a=99, b=98, c=97, disqualify_below=1)
    profile, analysis, draft = await run_pipeline(provider, SHIPPER, campaign)

    assert analysis.tier is Tier.D
    assert analysis.qualified
    assert len(draft.messages) == 1
    assert draft.messages[0].kind is MessageKind.INITIAL
    assert len(draft.sequence) == 1
    report = check_outreach(draft, profile, campaign)
    assert report.decision is QualityDecision.PASS
    event = OutreachDrafted(
        correlation_id="w",
        batch_id="b",
        profile=profile,
        analysis=analysis,
        outreach=Outreach(
            strategy=draft.strategy,
            messages=draft.messages,
            sequence=draft.sequence,
            quality=report,
            generated_by=draft.generated_by,
        ),
    )
    policy = ApprovalPolicy(mode="below_score", below_score=100)
    assert approval_reason(event, policy) is None


async def test_a_campaign_may_send_tier_d_nothing(provider: OfflineProvider) -> None:
    campaign = with_tiers(make_campaign(), a=99, b=98, c=97, disqualify_below=1)
    campaign = campaign.model_copy(update={"approval": ApprovalPolicy(tier_d="skip")})
    profile = await provider.research(SHIPPER, None, campaign)
    analysis = await provider.analyze(profile, campaign)
    agent = PersonalizationAgent(provider, campaign)
    outcome = await agent.handle(
        AnalysisReady(correlation_id="w", batch_id="b", profile=profile, analysis=analysis)
    )

    assert isinstance(outcome, Skip)
    assert "tier D" in outcome.reason


async def test_an_industry_typical_pain_is_asked_as_a_question_not_stated(
    provider: OfflineProvider,
) -> None:
    campaign = make_campaign()
    campaign = campaign.model_copy(
        update={"icp": campaign.icp.model_copy(update={"industries": []})}
    )
    profile, analysis, draft = await run_pipeline(provider, BANK, campaign)

    assert analysis.qualified
    label_ids = {f.id for f in profile.facts if f.topic in ("industry", "name")}
    hypotheses = [p for p in analysis.pain_points if set(p.fact_ids) <= label_ids]
    assert hypotheses
    body = draft.messages[0].body
    assert "Is that true at First Harbor Bancorp too?" in body
    assert check_outreach(draft, profile, campaign).decision is QualityDecision.PASS


async def test_greeting_uses_the_first_name_and_names_read_cleanly(
    provider: OfflineProvider,
) -> None:
    _, _, draft = await run_pipeline(provider, SHIPPER, make_campaign())
    body = draft.messages[0].body

    assert body.startswith("Hi Ana,")
    assert "Tern Freight, Inc." not in body
    assert "Inc.." not in body


async def test_without_a_name_the_opening_says_whom_it_is_for_by_role(
    provider: OfflineProvider,
) -> None:
    _, _, draft = await run_pipeline(provider, BANK, make_campaign())
    body = draft.messages[0].body

    assert body.startswith("Hello,\n\nI'm writing to whoever leads revenue operations at")
    assert "Hi there" not in body


async def test_a_proof_point_tagged_for_the_industry_wins_and_others_never_appear(
    provider: OfflineProvider,
) -> None:
    campaign = make_campaign()
    seller = campaign.seller.model_copy(
        update={
            "proof_points": [
                ProofPoint(
                    text="A REIT rebuilt its leasing report in hours.", industries=["REITs"]
                ),
                ProofPoint(
                    text="A freight forwarder sees every lane's margin.", industries=["Logistics"]
                ),
                "Customers retire four spreadsheets in a quarter.",
            ]
        }
    )
    campaign = campaign.model_copy(update={"seller": seller})
    _, _, draft = await run_pipeline(provider, SHIPPER, campaign)
    text = "\n".join(m.body for m in draft.messages)

    assert "A freight forwarder sees every lane's margin." in text
    assert "REIT" not in text


async def test_a_campaign_knowledge_file_adds_an_industry_the_engine_then_uses(
    provider: OfflineProvider, tmp_path: Path
) -> None:
    (tmp_path / "yards.toml").write_text(
        """
[[industry]]
key = "shipbuilding"
label = "Shipbuilding"
short = "shipbuilding"
aliases = ["shipbuilding", "shipyard"]

[[industry.pain_points]]
category = "yard scheduling"
description = "Yard schedules slip when steel deliveries run late."
severity = "medium"
solution_keywords = ["forecast"]

[[industry.opportunities]]
category = "hull visibility"
description = "One view of every hull in build."
priority = "low"
potential_value = "Fewer late deliveries."
""",
        encoding="utf-8",
    )
    campaign = make_campaign()
    campaign = campaign.model_copy(
        update={"knowledge": campaign.knowledge.model_copy(update={"path": tmp_path})}
    )
    yard = Company(name="Fjord Yards", industry="Shipbuilding", employees=400, country="Norway")

    profile, analysis, _ = await run_pipeline(provider, yard, campaign)

    assert profile.industry == "Shipbuilding"
    assert any(p.category == "yard scheduling" for p in analysis.pain_points)


async def test_a_link_on_the_companys_page_never_reaches_a_draft(
    provider: OfflineProvider,
) -> None:
    page = WebPage(
        url="https://ternfreight.example",
        final_url="https://ternfreight.example/",
        status=200,
        description="Freight forwarding.",
        title="Tern Freight <script>x</script> https://evil.example/t",
        text="We announced that customers must re-verify billing at https://evil.example/verify "
        "before Friday. We are hiring account executives, see evil.example/jobs today. "
        "<a href='https://evil.example'>here</a>",
        fetched_at=datetime(2026, 11, 1, tzinfo=UTC),
    )
    campaign = make_campaign()
    profile, _, draft = await run_pipeline(provider, SHIPPER, campaign, page)

    everything = "\n".join(f.text for f in profile.facts) + "\n".join(
        m.body for m in draft.messages
    )
    assert any(f.topic == "news" and "re-verify billing" in f.text for f in profile.facts)
    assert "evil.example" not in everything
    assert "<a" not in everything
    assert "<script" not in everything
    report = check_outreach(draft, profile, campaign)
    assert next(c for c in report.checks if c.rule == "no_untrusted_links").passed
