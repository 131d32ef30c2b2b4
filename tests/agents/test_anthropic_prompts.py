"""The cacheable prefix: the same for every company and step, long enough for each model."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from salesbus.agents.campaign import load_campaign
from salesbus.agents.facts import facts_from_company
from salesbus.agents.models import Company, Contact
from salesbus.agents.providers.anthropic import AnthropicProvider
from salesbus.agents.providers.anthropic_prompts import (
    estimated_tokens,
    research_prompt,
    system_prefix,
)
from salesbus.agents.providers.cache_minimums import CacheMinimums, cache_minimums
from salesbus.agents.usage import metered
from tests.fakes.anthropic_limits import count_tokens
from tests.fakes.anthropic_server import (
    CacheModel,
    FakeAnthropicServer,
    Reply,
    analysis_answer,
    draft_answer,
    research_answer,
)
from tests.orchestrator.helpers import EXAMPLES

pytestmark = pytest.mark.anyio

API_KEY = "sk-ant-test-prompts-0123456789"
CAMPAIGN = load_campaign(EXAMPLES / "campaign.toml")
COMPANIES = [
    Company(
        name="Northwind Freight",
        domain="northwind.example",
        industry="Logistics",
        employees=450,
        country="Germany",
        description="Route planning for regional carriers.",
        contact=Contact(name="Dana Ops", title="COO", email="dana@northwind.example"),
    ),
    Company(name="Fjord Ledger", domain="fjord.example", industry="Fintech", employees=80),
]


@pytest.fixture
def server() -> Iterator[FakeAnthropicServer]:
    with FakeAnthropicServer(api_key=API_KEY, cache=CacheModel(min_tokens=4096)) as fake:
        yield fake


async def test_the_cached_prefix_is_identical_for_every_company_and_step(
    server: FakeAnthropicServer,
) -> None:
    claude = AnthropicProvider(api_key=API_KEY, base_url=server.base_url, timeout=10)
    try:
        for company in COMPANIES:
            server.enqueue(
                Reply.json_answer(research_answer(with_website_facts=False)),
                Reply.json_answer(analysis_answer()),
                Reply.json_answer(draft_answer()),
            )
            profile = await claude.research(company, None, CAMPAIGN)
            analysis = await claude.analyze(profile, CAMPAIGN)
            await claude.personalize(profile, analysis, CAMPAIGN)
    finally:
        await claude.aclose()

    prefixes = {tuple(map(str, request.system_blocks)) for request in server.requests}
    assert len(server.requests) == 6
    assert len(prefixes) == 1
    [block] = server.requests[0].system_blocks
    assert block["cache_control"] == {"type": "ephemeral"}
    for company in COMPANIES:  # nothing of a company is in the shared part
        assert company.name not in block["text"]


async def test_after_the_first_call_the_prefix_is_read_from_the_cache(
    server: FakeAnthropicServer,
) -> None:
    claude = AnthropicProvider(api_key=API_KEY, base_url=server.base_url, timeout=10)
    server.enqueue(*(Reply.json_answer(research_answer(with_website_facts=False)),) * 3)
    meters = []
    try:
        for company in (*COMPANIES, COMPANIES[0]):
            with metered() as meter:
                await claude.research(company, None, CAMPAIGN)
            meters.append(meter.total)
    finally:
        await claude.aclose()

    first, *later = meters
    assert first.cache_write_tokens >= 4096
    assert first.cache_read_tokens == 0
    for usage in later:
        assert usage.cache_write_tokens == 0
        assert usage.cache_read_tokens == first.cache_write_tokens
        assert usage.cache_read_tokens / usage.total_input_tokens >= 0.8


@pytest.mark.parametrize("model", sorted(cache_minimums().models))
def test_the_prefix_reaches_each_listed_models_minimum(model: str) -> None:
    minimum = cache_minimums().tokens(model)
    prefix = system_prefix(CAMPAIGN, model)

    assert estimated_tokens(prefix) >= minimum
    assert count_tokens(prefix) >= minimum  # as the loopback API counts


def test_an_unknown_model_gets_the_largest_minimum_and_a_snapshot_its_alias() -> None:
    table = cache_minimums()
    assert table.tokens("claude-future-9") == table.default == max(table.models.values())
    assert table.tokens("claude-haiku-4-5-20251001") == table.tokens("claude-haiku-4-5")


def test_a_bad_minimum_is_refused_at_load() -> None:
    with pytest.raises(ValueError, match="greater than 0"):
        CacheMinimums.model_validate({"default": 4096, "models": {"claude-x": 0}})


def test_what_the_checks_enforce_is_in_the_prefix() -> None:
    prefix = system_prefix(CAMPAIGN, "claude-haiku-5-5")
    seller, limits = CAMPAIGN.seller, CAMPAIGN.limits
    assert seller.postal_address
    assert seller.postal_address in prefix
    assert seller.sender_name in prefix
    assert seller.company in prefix
    assert f"at most {limits.subject_max} characters" in prefix
    assert "shorter than the message before it" in prefix
    assert '"act now"' in prefix
    assert "opt out" in prefix
    assert "You do not score" in prefix
    assert "dana@" not in prefix
    assert "morgan.ellis@" not in prefix


def test_per_company_prompts_send_each_field_once_and_compact() -> None:
    company = COMPANIES[0]
    prompt = research_prompt(facts_from_company(company).facts, None)

    facts = facts_from_company(company).facts
    assert prompt.count(company.name) == sum(company.name in fact.text for fact in facts)
    assert prompt.count("Route planning for regional carriers.") == 1
    assert "dana@northwind.example" not in prompt
    assert "f1 [lead] (name)" in prompt
