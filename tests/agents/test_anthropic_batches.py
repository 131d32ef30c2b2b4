"""Message Batches mode of the Claude provider: the real SDK against the loopback batches API.

Each test runs on asyncio and trio. Steps are named with the same
:class:`StepRef` the agent runtime sets, so custom_ids say whose request is whose.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import anthropic
import anyio
import pytest

from salesbus.agents.campaign import Campaign, Seller
from salesbus.agents.errors import (
    BadRequestError,
    BatchCanceledError,
    BatchExpiredError,
    OverloadedError,
    RateLimitedError,
    ServerError,
)
from salesbus.agents.models import Company, CompanyProfile
from salesbus.agents.providers.anthropic import AnthropicProvider
from salesbus.agents.providers.anthropic_batch import (
    BatchSettings,
    MemoryLedger,
    RequestKey,
)
from salesbus.agents.providers.prices import ModelPrice, PriceTable, load_prices
from salesbus.agents.step_context import StepRef
from salesbus.agents.usage import Usage, metered
from tests.fakes.anthropic_server import (
    FakeAnthropicServer,
    RecordedRequest,
    Reply,
    TokenCounts,
    research_answer,
)

pytestmark = pytest.mark.anyio

API_KEY = "sk-ant-test-batches-0123456789"
MODEL = "claude-haiku-5-5"
PRICES = PriceTable({MODEL: ModelPrice(input=1.0, output=5.0, cache_write=1.25, cache_read=0.1)})
TOKENS = TokenCounts(input_tokens=1000, output_tokens=200, cache_read_input_tokens=3000)
FAST = BatchSettings(window=0.2, poll_interval=0.05)
CAMPAIGN = Campaign(
    seller=Seller(
        company="Routewise",
        product="dispatch automation",
        value_propositions=["Plan a day's routes in minutes"],
        sender_name="Sam Carter",
        sender_title="Account Executive",
    )
)
COMPANIES = [Company(name=name) for name in ("Northwind Freight", "Contoso Rail", "Fabrikam Air")]


def answer_by_company(request: RecordedRequest) -> Reply:
    """A research answer that says which company it was asked about."""
    asked = request.message_text("user")
    name = next(c.name for c in COMPANIES if c.name in asked)
    answer = {**research_answer(with_website_facts=False), "description": f"About {name}"}
    return Reply.json_answer(answer, usage=TOKENS)


@pytest.fixture
def server() -> Iterator[FakeAnthropicServer]:
    with FakeAnthropicServer(api_key=API_KEY, responder=answer_by_company) as fake:
        yield fake


def claude(
    server: FakeAnthropicServer, ledger: MemoryLedger | None, settings: BatchSettings = FAST
) -> AnthropicProvider:
    return AnthropicProvider(
        model=MODEL,
        api_key=API_KEY,
        base_url=server.base_url,
        timeout=10,
        prices=PRICES,
        batch=ledger,
        batch_settings=settings,
    )


@pytest.fixture
async def batched(server: FakeAnthropicServer) -> AsyncIterator[AnthropicProvider]:
    provider = claude(server, MemoryLedger())
    yield provider
    await provider.aclose()


async def research_all(
    provider: AnthropicProvider, companies: Sequence[Company], attempt: int = 1
) -> dict[str, CompanyProfile | BaseException]:
    """Research each company as its own workflow's step, all at once."""
    outcomes: dict[str, CompanyProfile | BaseException] = {}

    async def one(company: Company) -> None:
        with StepRef(f"wf-{company.name.split()[0].lower()}", "research", attempt):
            try:
                outcomes[company.name] = await provider.research(company, None, CAMPAIGN)
            except Exception as exc:
                outcomes[company.name] = exc

    async with anyio.create_task_group() as group:
        for company in companies:
            group.start_soon(one, company)
    return outcomes


async def test_the_requests_of_many_companies_go_out_as_one_batch_and_each_gets_its_own_answer(
    server: FakeAnthropicServer, batched: AnthropicProvider
) -> None:
    server.batches.processing_delay = 0.3
    outcomes = await research_all(batched, COMPANIES)

    (sent,) = server.batches.created
    assert sorted(sent) == [
        "wf-contoso-research-1-1",
        "wf-fabrikam-research-1-1",
        "wf-northwind-research-1-1",
    ]
    for company in COMPANIES:
        profile = outcomes[company.name]
        assert isinstance(profile, CompanyProfile), profile
        assert profile.description == f"About {company.name}"
    assert not [r for r in server.requests if r.path == "/v1/messages"]
    assert server.batches.retrieves >= 2, "the batch was polled until it ended"


async def test_a_batch_answer_costs_half_of_the_same_tokens_sent_one_by_one(
    server: FakeAnthropicServer, batched: AnthropicProvider
) -> None:
    direct = claude(server, None)
    try:
        with StepRef("wf-northwind", "research", 1), metered() as one_by_one:
            await direct.research(COMPANIES[0], None, CAMPAIGN)
    finally:
        await direct.aclose()
    with StepRef("wf-northwind", "research", 1), metered() as in_batch:
        await batched.research(COMPANIES[0], None, CAMPAIGN)

    same_tokens = in_batch.total.model_copy(update={"cost_usd": 0.0})
    assert same_tokens == one_by_one.total.model_copy(update={"cost_usd": 0.0})
    assert one_by_one.total.cost_usd == PRICES.cost_usd(MODEL, same_tokens) > 0
    assert in_batch.total.cost_usd == pytest.approx(one_by_one.total.cost_usd / 2)


async def test_a_request_already_sent_is_waited_for_again_not_sent_again(
    server: FakeAnthropicServer,
) -> None:
    """A run killed while its batch processes: the next one finds the request in the ledger."""
    server.batches.processing_delay = 0.6
    ledger = MemoryLedger()
    first = claude(server, ledger)
    with anyio.move_on_after(0.4):  # the batch is sent, then its waiter dies
        await research_all(first, COMPANIES[:2])
    await first.aclose()
    assert len(server.batches.created) == 1

    second = claude(server, ledger)
    try:
        outcomes = await research_all(second, COMPANIES[:2], attempt=2)
    finally:
        await second.aclose()

    assert len(server.batches.created) == 1, "nothing was sent and paid for twice"
    assert second.batcher is not None
    assert second.batcher.batches_created == 0
    assert all(isinstance(outcome, CompanyProfile) for outcome in outcomes.values()), outcomes
    assert {state for _, state, _ in ledger.requests.values()} == {"answered"}


async def test_an_errored_item_fails_only_its_own_step_with_the_error_it_stands_for(
    server: FakeAnthropicServer,
) -> None:
    ledger = MemoryLedger()
    batched = claude(server, ledger)
    server.batches.error_items("wf-contoso", error_type="overloaded_error")
    server.batches.error_items("wf-fabrikam", error_type="invalid_request_error")
    try:
        outcomes = await research_all(batched, COMPANIES)
    finally:
        await batched.aclose()

    assert isinstance(outcomes["Northwind Freight"], CompanyProfile)
    overloaded, invalid = outcomes["Contoso Rail"], outcomes["Fabrikam Air"]
    assert isinstance(overloaded, OverloadedError)
    assert overloaded.retryable
    assert isinstance(invalid, BadRequestError)
    assert not invalid.retryable
    states = {key.workflow_id: state for key, state, _ in ledger.requests.values()}
    assert states == {"wf-northwind": "answered", "wf-contoso": "failed", "wf-fabrikam": "failed"}


async def test_an_expired_batch_fails_its_requests_as_retryable(
    server: FakeAnthropicServer, batched: AnthropicProvider
) -> None:
    server.batches.expire_next()
    outcomes = await research_all(batched, COMPANIES[:2])
    assert all(isinstance(o, BatchExpiredError) and o.retryable for o in outcomes.values())

    again = await research_all(batched, COMPANIES[:2], attempt=2)
    assert all(isinstance(o, CompanyProfile) for o in again.values()), again
    assert [len(ids) for ids in server.batches.created] == [2, 2]


async def test_a_cancelled_batch_fails_its_requests_as_retryable(
    server: FakeAnthropicServer, batched: AnthropicProvider
) -> None:
    server.batches.processing_delay = 30
    client = anthropic.AsyncAnthropic(api_key=API_KEY, base_url=server.base_url, max_retries=0)
    async with anyio.create_task_group() as group:

        async def cancel_once_sent() -> None:
            while not server.batches.created:
                await anyio.sleep(0.02)
            await client.messages.batches.cancel(server.batches.latest_id)

        group.start_soon(cancel_once_sent)
        outcomes = await research_all(batched, COMPANIES[:1])
    await client.close()
    (outcome,) = outcomes.values()
    assert isinstance(outcome, BatchCanceledError)
    assert outcome.retryable


async def test_a_refused_create_fails_every_request_it_held_as_the_api_said(
    server: FakeAnthropicServer, batched: AnthropicProvider
) -> None:
    server.batches.refuse_next_create(429)
    outcomes = await research_all(batched, COMPANIES)
    assert all(isinstance(o, RateLimitedError) for o in outcomes.values()), outcomes
    assert server.batches.created == []


async def test_a_poll_the_api_refuses_for_a_while_is_tried_again(
    server: FakeAnthropicServer, batched: AnthropicProvider
) -> None:
    server.batches.refuse_next_retrieve(500)
    server.batches.refuse_next_retrieve(529)
    outcomes = await research_all(batched, COMPANIES[:1])
    assert all(isinstance(o, CompanyProfile) for o in outcomes.values()), outcomes
    assert server.batches.retrieves >= 3


async def test_a_batch_the_ledger_cannot_record_is_never_waited_for(
    server: FakeAnthropicServer,
) -> None:
    class BrokenLedger(MemoryLedger):
        async def record_sent(self, batch_id: str, requests: Sequence[RequestKey]) -> None:
            raise OSError("disk full")

    provider = claude(server, BrokenLedger())
    try:
        outcomes = await research_all(provider, COMPANIES[:1])
    finally:
        await provider.aclose()
    (outcome,) = outcomes.values()
    assert isinstance(outcome, ServerError)
    assert "not recorded: disk full" in str(outcome)
    assert server.batches.retrieves == 0


async def test_a_stored_batch_the_api_does_not_know_fails_its_step_and_is_marked(
    server: FakeAnthropicServer,
) -> None:
    ledger = MemoryLedger()
    provider = claude(server, ledger)
    try:
        # What this call will ask, recorded as sent in a batch the API has never seen.
        with StepRef("wf-northwind", "research", 1):
            await provider.research(COMPANIES[0], None, CAMPAIGN)
        ((_, custom_id), (key, _, _)) = next(iter(ledger.requests.items()))
        ledger.requests = {("msgbatch_gone", custom_id): (key, "pending", None)}
        with StepRef("wf-northwind", "research", 2), pytest.raises(BadRequestError) as caught:
            await provider.research(COMPANIES[0], None, CAMPAIGN)
    finally:
        await provider.aclose()
    assert "not_found" in str(caught.value) or "404" in str(caught.value)
    assert ledger.requests[("msgbatch_gone", custom_id)][1] == "failed"
    assert len(server.batches.created) == 1


def test_custom_ids_fit_the_api_and_stay_distinct_for_any_workflow_id() -> None:
    long_ids = ["x" * 80 + "a", "x" * 80 + "b", "wf-ünï code", "wf-ünï_code"]
    ids = [RequestKey(w, "personalization", 12, 3, "d").custom_id for w in long_ids]
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{1,64}", i) for i in ids), ids
    assert len(set(ids)) == len(ids)
    assert RequestKey("wf-1594602ea0c1", "research", 2, 1, "d").custom_id == (
        "wf-1594602ea0c1-research-2-1"
    )


def test_batch_timing_comes_from_the_environment_and_is_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SALESBUS_BATCH_WINDOW_S", "0.5")
    monkeypatch.setenv("SALESBUS_BATCH_POLL_S", "2")
    assert BatchSettings.from_env() == BatchSettings(window=0.5, poll_interval=2.0)
    monkeypatch.setenv("SALESBUS_BATCH_POLL_S", "soon")
    with pytest.raises(ValueError, match="SALESBUS_BATCH_POLL_S must be a number"):
        BatchSettings.from_env()
    monkeypatch.setenv("SALESBUS_BATCH_POLL_S", "-1")
    with pytest.raises(ValueError, match="poll_interval must be above 0"):
        BatchSettings.from_env()


def test_the_batch_discount_is_data_checked_when_prices_load(tmp_path: Path) -> None:
    good = tmp_path / "prices.toml"
    good.write_text("batch_factor = 0.4\n", encoding="utf-8")
    table = load_prices(good)
    usage = Usage(input_tokens=1_000_000)
    assert table.batch_cost_usd(MODEL, usage) == pytest.approx(0.4 * table.cost_usd(MODEL, usage))
    bad = tmp_path / "bad.toml"
    bad.write_text("batch_factor = 1.5\n", encoding="utf-8")
    with pytest.raises(ValueError, match="batch_factor"):
        load_prices(bad)
