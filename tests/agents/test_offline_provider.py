"""The offline provider: rule-based, deterministic, grounded, and sensitive to its inputs."""

from __future__ import annotations

import csv
import itertools
import json
import os
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from salesbus.agents.campaign import Campaign, Icp, MessageLimits, Seller, load_campaign
from salesbus.agents.knowledge import (
    GENERIC_INDUSTRY,
    INDUSTRIES,
    SIGNALS,
    SIZE_OBJECTIONS,
    SIZE_PAIN_POINTS,
    choose_primary_contact,
    industry_for,
    mentions_any,
    render,
)
from salesbus.agents.locations import matching_region
from salesbus.agents.models import (
    Analysis,
    Channel,
    Company,
    CompanyProfile,
    CompanySize,
    Contact,
    MessageKind,
    PersonalizationStrategy,
    QualityDecision,
    Severity,
    Tier,
)
from salesbus.agents.providers.base import Draft, Provider
from salesbus.agents.providers.offline import OPT_OUT_LINE, OfflineProvider
from salesbus.agents.quality import SPAM_PHRASES, check_outreach
from salesbus.agents.usage import Usage, metered
from salesbus.agents.website import WebPage

pytestmark = pytest.mark.anyio

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

PLACEHOLDER = re.compile(r"[{}]|\[[A-Z][A-Za-z _]*\]|<[A-Z_]+>|\b(?:TODO|TBD|XXX)\b")

SAAS = Company(
    name="Northwind Analytics",
    domain="northwind.example",
    industry="B2B SaaS",
    employees=300,
    country="United States",
    description="Subscription analytics platform for finance teams. The sales team is hiring "
    "SDRs and still forecasts in spreadsheets.",
    contact=Contact(
        name="Dana Whitfield",
        title="VP Revenue Operations",
        email="dana.whitfield@northwind.example",
    ),
)
RETAIL_SHOP = Company(
    name="Clay and Kiln",
    industry="Retail",
    employees=15,
    country="United States",
    description="Family-run shop selling handmade ceramics at two weekend markets.",
)
MANUFACTURER = Company(
    name="Granite Peak Manufacturing",
    industry="Industrial Manufacturing",
    employees=20_000,
    country="Germany",
    description="Maker of industrial pumps and valves. Appointed a new Chief Digital Officer "
    "this year; quotes are tracked in Salesforce.",
    contact=Contact(
        name="Jonas Keller",
        title="Director of Sales Operations",
        linkedin="https://linkedin.example/in/jonas-keller",
    ),
)
YOGA_STUDIO = Company(
    name="Orchid Wellness",
    industry="Wellness",
    employees=12,
    country="France",
    description="Yoga studio and online classes.",
)


def make_campaign(**changes: object) -> Campaign:
    seller = Seller(
        company="Tallyline",
        product="Tallyline RevOps Data Platform",
        value_propositions=[
            "Unifies CRM, billing and product usage data into one trusted pipeline view",
            "Cuts forecast preparation from days to minutes with automated revenue reporting",
        ],
        proof_points=["A 400-person software company cut forecast preparation to two hours."],
        sender_name="Morgan Ellis",
        sender_title="Account Executive",
        postal_address="Tallyline Inc., 100 Example Way, Springfield",
        channels=[Channel.EMAIL, Channel.LINKEDIN, Channel.PHONE],
    )
    icp = Icp(
        industries=["SaaS", "Fintech", "Logistics"],
        employees_min=50,
        employees_max=5000,
        regions=["North America"],
        keywords=["pipeline", "forecast", "subscription", "sales team", "revenue operations"],
        technologies=["Salesforce", "HubSpot", "Snowflake"],
    )
    fields: dict[str, object] = {"seller": seller, "icp": icp, **changes}
    return Campaign.model_validate(fields)


@pytest.fixture
def campaign() -> Campaign:
    return make_campaign()


@pytest.fixture
def provider() -> OfflineProvider:
    return OfflineProvider()


def northwind_page(status: int = 200) -> WebPage:
    return WebPage(
        url="https://northwind.example",
        final_url="https://www.northwind.example/about",
        status=status,
        title="Northwind – revenue analytics for subscription businesses",
        description="Northwind helps finance teams understand recurring revenue.",
        text=(
            "Northwind raised a $40M Series B led by Example Ventures in March. "
            "We're hiring 12 account executives across North America. "
            "Our platform runs on Snowflake and syncs with Salesforce. "
            "We are SOC 2 Type II compliant. "
            "Finance teams use Northwind to build a pipeline forecast they trust."
        ),
        links=["https://www.northwind.example/careers"],
        fetched_at=datetime(2024, 5, 1, tzinfo=UTC),
    )


async def run_pipeline(
    provider: Provider, company: Company, campaign: Campaign, page: WebPage | None = None
) -> tuple[CompanyProfile, Analysis, Draft]:
    profile = await provider.research(company, page, campaign)
    analysis = await provider.analyze(profile, campaign)
    draft = await provider.personalize(profile, analysis, campaign)
    return profile, analysis, draft


def cited_ids(model: BaseModel) -> Iterator[str]:
    """Every fact id cited anywhere in ``model``."""

    def walk(node: object) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "fact_ids":
                    yield from value
                else:
                    yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    yield from walk(model.model_dump())


def assert_grounded(profile: CompanyProfile, analysis: Analysis, draft: Draft) -> None:
    known = profile.fact_ids()
    assert set(cited_ids(analysis)) <= known
    assert set(cited_ids(draft)) <= known
    claims = [*analysis.pain_points, *analysis.opportunities, *analysis.talking_points]
    assert all(claim.fact_ids for claim in claims)
    for message in draft.messages:
        assert all(element.fact_ids for element in message.personalization)


def assert_within_limits(draft: Draft, campaign: Campaign) -> None:
    limits = campaign.limits
    for message in draft.messages:
        if message.channel is Channel.EMAIL:
            assert message.subject is not None
            assert len(message.subject) <= limits.subject_max
            assert len(message.body) <= limits.email_body_max
        if message.kind is MessageKind.CONNECTION_NOTE:
            assert len(message.body) <= limits.linkedin_note_max


def assert_no_placeholders(draft: Draft) -> None:
    for message in draft.messages:
        for text in (message.subject or "", message.body):
            assert not PLACEHOLDER.search(text), text


def assert_follow_ups_shrink(draft: Draft) -> None:
    emails = [m for m in draft.messages if m.channel is Channel.EMAIL]
    if not emails:  # a tier D nurture note on LinkedIn
        return
    lengths = [len(m.body) for m in emails]
    assert emails[0].kind is MessageKind.INITIAL
    assert all(later < earlier for earlier, later in itertools.pairwise(lengths))


def assert_sender_and_opt_out(draft: Draft, campaign: Campaign) -> None:
    seller = campaign.seller
    for message in draft.messages:
        if message.channel is Channel.EMAIL:
            assert OPT_OUT_LINE in message.body
            assert seller.sender_name in message.body
            assert f"{seller.sender_title}, {seller.company}" in message.body
            if seller.postal_address:
                assert message.body.rstrip().endswith(seller.postal_address)


def assert_sequence_points_at_messages(draft: Draft) -> None:
    assert sorted(step.message_index for step in draft.sequence) == list(range(len(draft.messages)))
    for step in draft.sequence:
        message = draft.messages[step.message_index]
        assert (step.day, step.channel) == (message.day_offset, message.channel)
    assert [step.day for step in draft.sequence] == sorted(step.day for step in draft.sequence)


# -- identity ---------------------------------------------------------------------------


async def test_it_is_the_offline_provider_and_labels_every_output_as_rule_based(
    provider: OfflineProvider, campaign: Campaign
) -> None:
    assert isinstance(provider, Provider)
    assert (provider.name, provider.model) == ("offline", "rules-v1")

    profile, analysis, draft = await run_pipeline(provider, SAAS, campaign)

    for output in (profile, analysis, draft):
        assert "rule-based" in output.generated_by
        assert "no LLM" in output.generated_by


async def test_each_call_is_metered_as_one_call_with_no_tokens_and_no_cost(
    provider: OfflineProvider, campaign: Campaign
) -> None:
    with metered() as meter:
        await run_pipeline(provider, SAAS, campaign)
    assert meter.total == Usage(calls=3)
    await provider.aclose()


# -- determinism ------------------------------------------------------------------------


async def test_the_same_input_gives_the_same_output_every_time(campaign: Campaign) -> None:
    first = await run_pipeline(OfflineProvider(), SAAS, campaign, northwind_page())
    second = await run_pipeline(OfflineProvider(), SAAS, campaign, northwind_page())

    assert first == second
    assert [m.model_dump_json() for m in first] == [m.model_dump_json() for m in second]


_PIPELINE_SCRIPT = """
import json, sys
import anyio
from salesbus.agents.campaign import Campaign
from salesbus.agents.models import Company
from salesbus.agents.providers.offline import OfflineProvider
from salesbus.agents.website import WebPage

async def main():
    given = json.load(sys.stdin)
    campaign = Campaign.model_validate(given["campaign"])
    provider = OfflineProvider()
    page = WebPage.model_validate(given["page"])
    profile = await provider.research(Company.model_validate(given["company"]), page, campaign)
    analysis = await provider.analyze(profile, campaign)
    draft = await provider.personalize(profile, analysis, campaign)
    print(json.dumps([o.model_dump(mode="json") for o in (profile, analysis, draft)]))

anyio.run(main)
"""


async def test_outputs_do_not_depend_on_the_process_hash_seed() -> None:
    """Set iteration order changes with ``PYTHONHASHSEED``; no output may follow it."""
    given = {
        "company": SAAS.model_dump(mode="json"),
        "page": northwind_page().model_dump(mode="json"),
        "campaign": make_campaign().model_dump(mode="json"),
    }
    outputs: dict[str, object] = {}

    async def run_with(seed: str) -> None:
        done = await anyio.run_process(
            [sys.executable, "-c", _PIPELINE_SCRIPT],
            input=json.dumps(given).encode(),
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        outputs[seed] = json.loads(done.stdout)

    async with anyio.create_task_group() as group:
        for seed in ("1", "2"):
            group.start_soon(run_with, seed)
    assert outputs["1"] == outputs["2"]


# -- research ---------------------------------------------------------------------------


async def test_research_keeps_every_input_field_as_a_fact_from_the_lead_list(
    provider: OfflineProvider, campaign: Campaign
) -> None:
    profile = await provider.research(SAAS, None, campaign)

    assert {"name", "industry", "size", "location", "website", "description", "contact"} <= {
        fact.topic for fact in profile.facts
    }
    assert all(fact.source.kind == "input" for fact in profile.facts)
    assert profile.industry == "SaaS / software"
    assert profile.size is CompanySize.MID_MARKET
    assert profile.location == "United States"
    assert profile.primary_contact == SAAS.contact
    assert profile.key_contacts == [SAAS.contact]


async def test_website_facts_are_sourced_to_the_page_they_were_read_from(
    provider: OfflineProvider, campaign: Campaign
) -> None:
    page = northwind_page()
    profile = await provider.research(SAAS, page, campaign)

    website_facts = [fact for fact in profile.facts if fact.source.kind == "website"]
    assert website_facts
    assert {fact.source.url for fact in website_facts} == {page.final_url}
    texts = [fact.text for fact in website_facts]
    assert any("Series B" in text for text in texts)
    assert any("hiring 12 account executives" in text for text in texts)
    assert profile.technologies[:2] == ["Salesforce", "Snowflake"]
    assert profile.recent_news == [
        "Northwind raised a $40M Series B led by Example Ventures in March."
    ]


async def test_what_the_website_reveals_drives_the_analysis(
    provider: OfflineProvider, campaign: Campaign
) -> None:
    page = northwind_page()
    profile = await provider.research(SAAS, page, campaign)
    analysis = await provider.analyze(profile, campaign)

    from_website = {f.id for f in profile.facts if f.source.url == page.final_url}
    funding = next(o for o in analysis.opportunities if o.category == "fresh funding")
    assert set(funding.fact_ids) & from_website
    technology = next(r for r in analysis.score_reasons if r.criterion == "technology")
    assert technology.points == technology.max_points
    assert set(technology.fact_ids) <= from_website


async def test_a_page_that_answered_with_an_error_is_not_used(
    provider: OfflineProvider, campaign: Campaign
) -> None:
    profile = await provider.research(SAAS, northwind_page(status=404), campaign)

    assert all(fact.source.kind == "input" for fact in profile.facts)
    assert any("404" in warning for warning in profile.warnings)


async def test_a_missing_industry_is_inferred_from_the_description_as_a_rules_fact(
    provider: OfflineProvider, campaign: Campaign
) -> None:
    company = Company(
        name="Fernhill", employees=130, description="A B2B SaaS platform that reduces churn."
    )
    profile = await provider.research(company, None, campaign)

    assert profile.industry == "SaaS / software"
    inferred = next(fact for fact in profile.facts if fact.topic == "industry")
    assert inferred.source.kind == "rules"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("B2B SaaS", "saas"),
        ("software", "saas"),
        ("Computer Software", "saas"),
        ("Marketing software", "saas"),
        ("Marketing & Advertising", "agency"),
        ("Hospital & Health Care", "healthcare"),
        ("Financial Services", "financial-services"),
        ("Freight forwarding", "logistics"),
        ("Online Retail", "ecommerce"),
        ("Retail", "retail"),
    ],
)
async def test_free_text_industries_resolve_through_aliases(text: str, key: str) -> None:
    found = industry_for(text)
    assert found is not None
    assert found[0].key == key


async def test_regions_match_countries_by_alias_and_by_sales_region() -> None:
    assert matching_region("USA", ["North America"]) == "North America"
    assert matching_region("Berlin, Deutschland", ["Nordics", "DACH"]) == "DACH"
    assert matching_region("UK", ["United Kingdom"]) == "United Kingdom"
    assert matching_region("Japan", ["North America", "Europe"]) is None


# -- choosing whom to address -------------------------------------------------------------

FOUNDER = Contact(name="Nina Alvarez", title="Co-founder & CEO")
VP_SALES = Contact(name="Jordan Price", title="VP Sales")
VP_MARKETING = Contact(name="Ollie Barnes", title="Vice President, Marketing")
CRO = Contact(name="Tanya Brooks", title="Chief Revenue Officer")
REVOPS_DIRECTOR = Contact(name="Omar Haddad", title="Director of Revenue Operations")
HEAD_OF_PEOPLE = Contact(name="Maya Chen", title="Head of People")
MANAGER = Contact(name="Sam Lee", title="Marketing Manager")


async def test_startups_are_addressed_through_a_founder_or_the_ceo() -> None:
    contacts = [VP_SALES, MANAGER, FOUNDER]
    assert choose_primary_contact(contacts, CompanySize.STARTUP, ["revenue"]) == FOUNDER


async def test_mid_market_companies_are_addressed_through_a_vp_or_head() -> None:
    contacts = [FOUNDER, MANAGER, VP_SALES]
    assert choose_primary_contact(contacts, CompanySize.MID_MARKET, ["revenue"]) == VP_SALES


async def test_enterprises_are_addressed_through_the_director_of_the_buying_function() -> None:
    contacts = [CRO, VP_MARKETING, HEAD_OF_PEOPLE, REVOPS_DIRECTOR]
    chosen = choose_primary_contact(contacts, CompanySize.ENTERPRISE, ["revenue"])
    assert chosen == REVOPS_DIRECTOR


async def test_no_contacts_means_no_primary_contact() -> None:
    assert choose_primary_contact([], CompanySize.STARTUP) is None


# -- analysis ---------------------------------------------------------------------------


async def test_different_companies_get_different_scores_pain_points_and_strategies(
    provider: OfflineProvider, campaign: Campaign
) -> None:
    saas = await run_pipeline(provider, SAAS, campaign)
    shop = await run_pipeline(provider, RETAIL_SHOP, campaign)
    plant = await run_pipeline(provider, MANUFACTURER, campaign)
    analyses = [saas[1], shop[1], plant[1]]

    assert len({a.icp_score for a in analyses}) == 3
    assert saas[1].icp_score > shop[1].icp_score > plant[1].icp_score
    assert saas[1].tier is Tier.A
    assert shop[1].tier is not Tier.A
    assert plant[1].tier is not Tier.A
    pain_categories = [frozenset(p.category for p in a.pain_points) for a in analyses]
    assert len(set(pain_categories)) == 3
    assert [output[2].strategy for output in (saas, shop, plant)] == [
        PersonalizationStrategy.PAIN_POINT_FOCUSED,
        PersonalizationStrategy.RELATIONSHIP_BUILDING,
        PersonalizationStrategy.OPPORTUNITY_FOCUSED,
    ]


async def test_each_criterion_explains_its_points_and_the_score_is_their_share_of_the_total(
    provider: OfflineProvider, campaign: Campaign
) -> None:
    _, analysis, _ = await run_pipeline(provider, SAAS, campaign)

    reasons = {reason.criterion: reason for reason in analysis.score_reasons}
    assert set(reasons) == {"industry", "size", "region", "keywords", "technology"}
    weights = campaign.icp.weights
    assert reasons["industry"].max_points == weights.industry
    assert reasons["industry"].points == weights.industry
    assert reasons["size"].points == weights.size
    assert reasons["region"].points == weights.region
    assert reasons["technology"].points == 0
    earned = sum(reason.points for reason in analysis.score_reasons)
    assert analysis.icp_score == round(100 * earned / weights.total)
    assert all(reason.fact_ids for reason in analysis.score_reasons if reason.points > 0)


async def test_a_company_outside_the_icp_is_scored_below_the_threshold_and_not_qualified(
    provider: OfflineProvider, campaign: Campaign
) -> None:
    _, analysis, _ = await run_pipeline(provider, YOGA_STUDIO, campaign)

    assert analysis.icp_score < campaign.icp.tiers.disqualify_below
    assert not analysis.qualified
    assert analysis.tier is Tier.D
    assert any("below the threshold" in reason for reason in analysis.disqualify_reasons)
    assert any("Wellness is outside the ICP" in reason for reason in analysis.disqualify_reasons)


async def test_signals_raise_the_severity_of_related_pain_points(
    provider: OfflineProvider, campaign: Campaign
) -> None:
    quiet = SAAS.model_copy(update={"description": "Subscription analytics platform."})
    _, calm, _ = await run_pipeline(provider, quiet, campaign)
    _, busy, _ = await run_pipeline(provider, SAAS, campaign)

    assert max(p.severity for p in calm.pain_points) is Severity.MEDIUM
    assert any(p.severity in (Severity.HIGH, Severity.CRITICAL) for p in busy.pain_points)
    assert "manual reporting" in {p.category for p in busy.pain_points}


async def test_more_facts_mean_more_confidence_within_bounds(
    provider: OfflineProvider, campaign: Campaign
) -> None:
    sparse = Company(name="Acme")
    _, little, _ = await run_pipeline(provider, sparse, campaign)
    _, lots, _ = await run_pipeline(provider, SAAS, campaign, northwind_page())

    assert 0.3 <= little.confidence < lots.confidence <= 0.9


async def test_a_contact_reachable_only_on_linkedin_is_approached_there_first(
    provider: OfflineProvider, campaign: Campaign
) -> None:
    _, analysis, draft = await run_pipeline(provider, MANUFACTURER, campaign)
    _, email_first, _ = await run_pipeline(provider, SAAS, campaign)

    assert analysis.recommended_channel is Channel.LINKEDIN
    first = draft.messages[draft.sequence[0].message_index]
    assert (first.channel, first.day_offset) == (Channel.LINKEDIN, 0)
    assert email_first.recommended_channel is Channel.EMAIL


# -- grounding --------------------------------------------------------------------------


@pytest.mark.parametrize("company", [SAAS, RETAIL_SHOP, MANUFACTURER, YOGA_STUDIO])
async def test_every_claim_cites_facts_the_profile_has(
    provider: OfflineProvider, campaign: Campaign, company: Company
) -> None:
    profile, analysis, draft = await run_pipeline(provider, company, campaign, None)
    assert_grounded(profile, analysis, draft)
    assert all(message.personalization for message in draft.messages)


async def test_claims_from_the_website_are_grounded_too(
    provider: OfflineProvider, campaign: Campaign
) -> None:
    assert_grounded(*await run_pipeline(provider, SAAS, campaign, northwind_page()))


# -- outreach ---------------------------------------------------------------------------


async def test_the_draft_has_every_channel_the_seller_uses_in_a_dated_sequence(
    provider: OfflineProvider, campaign: Campaign
) -> None:
    _, _, draft = await run_pipeline(provider, SAAS, campaign)

    kinds = [message.kind for message in draft.messages]
    assert kinds == [
        MessageKind.INITIAL,
        MessageKind.CONNECTION_NOTE,
        MessageKind.FOLLOW_UP,
        MessageKind.FOLLOW_UP,
        MessageKind.FOLLOW_UP,
        MessageKind.CALL_SCRIPT,
    ]
    follow_up_days = [m.day_offset for m in draft.messages if m.kind is MessageKind.FOLLOW_UP]
    assert follow_up_days == campaign.limits.follow_up_days
    assert draft.primary_contact == SAAS.contact
    assert_sequence_points_at_messages(draft)
    assert_sender_and_opt_out(draft, campaign)
    assert draft.messages[0].body.startswith("Hi Dana,")


async def test_channels_the_seller_does_not_use_get_no_messages(provider: OfflineProvider) -> None:
    campaign = make_campaign()
    email_only = campaign.model_copy(
        update={"seller": campaign.seller.model_copy(update={"channels": [Channel.EMAIL]})}
    )
    _, _, draft = await run_pipeline(provider, SAAS, email_only)

    assert {message.channel for message in draft.messages} == {Channel.EMAIL}


async def test_each_follow_up_is_shorter_than_the_one_before(provider: OfflineProvider) -> None:
    campaign = make_campaign(limits=MessageLimits(follow_up_days=[2, 4, 6, 9, 12]))
    _, _, draft = await run_pipeline(provider, SAAS, campaign)

    follow_ups = [m for m in draft.messages if m.kind is MessageKind.FOLLOW_UP]
    assert len(follow_ups) >= 3
    assert_follow_ups_shrink(draft)


async def test_messages_fit_tight_limits(provider: OfflineProvider) -> None:
    limits = MessageLimits(subject_max=24, email_body_max=420, linkedin_note_max=120)
    campaign = make_campaign(limits=limits)
    profile, analysis, draft = await run_pipeline(provider, SAAS, campaign, northwind_page())

    assert_within_limits(draft, campaign)
    assert_sender_and_opt_out(draft, campaign)
    assert_grounded(profile, analysis, draft)


async def test_the_campaigns_own_spam_phrases_are_never_used(provider: OfflineProvider) -> None:
    campaign = make_campaign(limits=MessageLimits(extra_spam_phrases=["trusted pipeline view"]))
    _, _, draft = await run_pipeline(provider, SAAS, campaign)

    for message in draft.messages:
        assert "trusted pipeline view" not in message.body


async def test_a_revision_is_shorter_and_leaves_out_the_phrases_the_checks_flagged(
    provider: OfflineProvider,
) -> None:
    seller = make_campaign().seller.model_copy(
        update={"value_propositions": ["Gives revenue teams a best-in-class pipeline view"]}
    )
    campaign = make_campaign(seller=seller)
    profile, analysis, first = await run_pipeline(provider, SAAS, campaign)
    assert any("best-in-class" in message.body for message in first.messages)
    notes = [
        "email_body_length: message 1 (email initial): body is 950 characters, limit 900",
        "spam_phrases: message 1 (email initial) uses spam phrases: 'best-in-class'",
    ]

    revised = await provider.personalize(profile, analysis, campaign, revision_notes=notes)
    again = await provider.personalize(profile, analysis, campaign, revision_notes=notes)

    assert revised == again
    assert [m.kind for m in revised.messages] == [m.kind for m in first.messages]
    for before, after in zip(first.messages, revised.messages, strict=True):
        assert len(after.body) < len(before.body)
        assert "best-in-class" not in after.body
    assert_sender_and_opt_out(revised, campaign)
    assert_no_placeholders(revised)
    assert_grounded(profile, analysis, revised)


def example_leads() -> list[Company]:
    """The companies of examples/leads.csv that a lead reader would accept."""
    companies = []
    with (EXAMPLES / "leads.csv").open(newline="", encoding="utf-8") as file:
        for line, row in enumerate(csv.DictReader(file), start=2):
            employees = row["employees"].strip()
            if not row["name"].strip() or (employees and not employees.isdigit()):
                continue
            contact = None
            if row["contact_name"].strip():
                contact = Contact(
                    name=row["contact_name"],
                    title=row["contact_title"] or None,
                    email=row["contact_email"] or None,
                    linkedin=row["contact_linkedin"] or None,
                )
            companies.append(
                Company(
                    name=row["name"],
                    domain=row["domain"] or None,
                    industry=row["industry"] or None,
                    employees=int(employees) if employees else None,
                    country=row["country"] or None,
                    description=row["description"] or None,
                    notes=row["notes"] or None,
                    contact=contact,
                    line=line,
                )
            )
    return companies


async def test_every_example_lead_gets_a_grounded_draft_within_the_campaign_limits(
    provider: OfflineProvider,
) -> None:
    campaign = load_campaign(EXAMPLES / "campaign.toml")
    companies = example_leads()
    assert len(companies) >= 60

    strategies = set()
    for company in companies:
        profile, analysis, draft = await run_pipeline(provider, company, campaign)
        assert_grounded(profile, analysis, draft)
        assert_within_limits(draft, campaign)
        assert_no_placeholders(draft)
        assert_follow_ups_shrink(draft)
        assert_sender_and_opt_out(draft, campaign)
        assert_sequence_points_at_messages(draft)
        assert check_outreach(draft, profile, campaign).decision is QualityDecision.PASS
        strategies.add(draft.strategy)
    assert strategies == set(PersonalizationStrategy)


async def test_the_example_campaign_stops_the_leads_on_its_do_not_contact_list() -> None:
    campaign = load_campaign(EXAMPLES / "campaign.toml")
    blocked = [c.name for c in example_leads() if campaign.do_not_contact.blocks(c)]
    assert blocked == ["Quillmark", "Brightharbor Insurance"]


# -- the knowledge base -------------------------------------------------------------------


def knowledge_templates() -> Iterator[str]:
    for industry in (*INDUSTRIES, GENERIC_INDUSTRY):
        for pain in industry.pain_points:
            yield pain.description
        for opportunity in industry.opportunities:
            yield from (opportunity.description, opportunity.potential_value)
        yield from industry.insights
        for objection in industry.objections:
            yield from (objection.objection, objection.response)
    for signal in SIGNALS:
        yield signal.hook
        if signal.pain_point:
            yield signal.pain_point.description
        if signal.opportunity:
            yield from (signal.opportunity.description, signal.opportunity.potential_value)
    yield from (rule.description for rule in SIZE_PAIN_POINTS.values())
    for objection in SIZE_OBJECTIONS.values():
        yield from (objection.objection, objection.response)


async def test_the_knowledge_base_covers_a_dozen_industries() -> None:
    assert len(INDUSTRIES) >= 20
    for industry in INDUSTRIES:
        assert industry.aliases
        assert len(industry.pain_points) >= 2
        assert industry.opportunities
        assert industry.insights
        assert industry.objections


async def test_knowledge_templates_fill_completely_and_avoid_spam_phrases() -> None:
    filled = [render(t, company="Acme", product="Widget") for t in knowledge_templates()]
    assert len(filled) > 100
    assert [text for text in filled if PLACEHOLDER.search(text)] == []
    assert [text for text in filled if mentions_any(text, SPAM_PHRASES)] == []


# -- any company at all -------------------------------------------------------------------

_INDUSTRY_TEXT = st.one_of(
    st.none(),
    st.sampled_from([alias for industry in INDUSTRIES for alias in industry.aliases[:3]]),
    st.text(max_size=30),
)
_DESCRIPTIONS = st.one_of(
    st.none(),
    st.text(max_size=200),
    st.sampled_from(
        [
            "We raised a Series A and are hiring account executives.",
            "Legacy spreadsheets everywhere; migrating to Snowflake after an acquisition.",
            "AI-powered compliance for regulated banks. SOC 2 audited.",
        ]
    ),
)
_CONTACTS = st.one_of(
    st.none(),
    st.builds(
        Contact,
        name=st.text(min_size=1, max_size=40),
        title=st.one_of(st.none(), st.sampled_from(["CEO", "VP Sales", "Director of Data"])),
        email=st.one_of(st.none(), st.just("someone@company.example")),
        linkedin=st.one_of(st.none(), st.just("https://linkedin.example/in/someone")),
    ),
)
_COMPANIES = st.builds(
    Company,
    name=st.text(min_size=1, max_size=80),
    domain=st.one_of(st.none(), st.just("company.example")),
    industry=_INDUSTRY_TEXT,
    employees=st.one_of(st.none(), st.integers(min_value=0, max_value=1_000_000)),
    country=st.one_of(
        st.none(), st.sampled_from(["US", "Germany", "Brazil", "Japan"]), st.text(max_size=20)
    ),
    description=_DESCRIPTIONS,
    notes=st.one_of(st.none(), st.text(max_size=80)),
    contact=_CONTACTS,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(company=_COMPANIES)
async def test_any_company_yields_a_valid_analysis_whose_citations_resolve(
    company: Company,
) -> None:
    campaign = make_campaign()
    provider = OfflineProvider()
    profile, analysis, draft = await run_pipeline(provider, company, campaign)

    assert Analysis.model_validate(analysis.model_dump()) == analysis
    assert analysis.tier is campaign.icp.tiers.tier(analysis.icp_score)
    assert analysis.qualified is (analysis.icp_score >= campaign.icp.tiers.disqualify_below)
    assert analysis.qualified or analysis.disqualify_reasons
    assert 0.3 <= analysis.confidence <= 0.9
    assert_grounded(profile, analysis, draft)
    assert_within_limits(draft, campaign)
    assert_follow_ups_shrink(draft)
