"""Step attempts become invoke_agent spans, model calls chat spans, with usage and errors."""

from __future__ import annotations

from typing import Any, cast

import pytest

from salesbus.agents.campaign import Campaign
from salesbus.agents.errors import RateLimitedError
from salesbus.agents.events import PipelineEvent
from salesbus.agents.instrumentation import TracedProvider, TracingObserver
from salesbus.agents.models import Company, CompanyProfile
from salesbus.agents.providers import Provider
from salesbus.agents.runtime import Agent, AgentRuntime, Skip
from salesbus.agents.status import StepEvent, StepFailed, StepSucceeded
from salesbus.agents.usage import Usage, metered, record_usage
from salesbus.bus import Event, EventBus
from salesbus.observability import BusTracing, Telemetry, chat_span
from tests.fakes.otlp import OtlpReceiver

pytestmark = pytest.mark.anyio

CALL_USAGE = Usage(
    calls=1,
    input_tokens=100,
    output_tokens=20,
    cache_read_tokens=300,
    cache_write_tokens=50,
    cost_usd=0.0123,
)
NO_CAMPAIGN = cast(Campaign, None)  # the fake provider never reads it


class Lookup(PipelineEvent):
    type_name = "tests.obs.Lookup"
    company: str


class Found(PipelineEvent):
    type_name = "tests.obs.Found"
    profile: CompanyProfile


class FakeProvider:
    """Records what a model call would cost; fails when the company is called "busy"."""

    name = "anthropic"
    model = "claude-test-1"

    async def research(self, company: Company, page: Any, campaign: Campaign) -> CompanyProfile:
        record_usage(CALL_USAGE)
        if company.name == "busy":
            raise RateLimitedError("slow down (key sk-ant-api03-secretsecret)", retry_after=1.0)
        return CompanyProfile(company=company, generated_by="fake")

    async def analyze(self, profile: Any, campaign: Any) -> Any:
        raise NotImplementedError

    async def personalize(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    async def aclose(self) -> None:
        pass


class Researcher(Agent[Lookup, Found]):
    name = "research"
    consumes = Lookup
    produces = Found

    def __init__(self, provider: Provider) -> None:
        self.provider = provider

    async def handle(self, event: Lookup) -> Found | Skip:
        if event.company == "blocked":
            return Skip(outcome="disqualified", reason="suppressed")
        profile = await self.provider.research(Company(name=event.company), None, NO_CAMPAIGN)
        return event.follow(Found, profile=profile)


def subset(attributes: dict[str, Any]) -> dict[str, Any]:
    """The attributes the assertions below name, and only those."""
    names = (
        "gen_ai.operation.name",
        "gen_ai.agent.name",
        "gen_ai.provider.name",
        "gen_ai.request.model",
        "salesbus.llm.operation",
        "salesbus.step.attempt",
        "salesbus.step.outcome",
        "salesbus.workflow.id",
        "salesbus.batch.id",
    )
    return {name: attributes[name] for name in names if name in attributes}


async def run_step(telemetry: Telemetry, event: Lookup) -> list[StepEvent]:
    statuses: list[StepEvent] = []
    async with EventBus(interceptors=[BusTracing(telemetry)]) as bus:
        bus.subscribe(StepEvent, statuses.append)
        runtime = AgentRuntime(bus, observers=[TracingObserver(telemetry)])
        runtime.add(Researcher(TracedProvider(FakeProvider(), telemetry)))
        await bus.publish(event)
    telemetry.force_flush()
    return statuses


async def test_a_step_is_an_invoke_agent_span_with_its_model_call_beneath(
    telemetry: Telemetry, receiver: OtlpReceiver
) -> None:
    statuses = await run_step(
        telemetry, Lookup(company="Acme", correlation_id="wf-7", batch_id="b-1", attempt=2)
    )

    agent = receiver.span("invoke_agent research")
    chat = receiver.span("chat claude-test-1")
    process = receiver.span("process tests.obs.Lookup")
    assert agent.parent_span_id == process.span_id
    assert chat.parent_span_id == agent.span_id
    assert chat.trace_id == agent.trace_id == process.trace_id
    assert agent.kind == "INTERNAL"
    assert chat.kind == "CLIENT"
    assert subset(agent.attributes) == {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": "research",
        "salesbus.step.attempt": 2,
        "salesbus.step.outcome": "succeeded",
        "salesbus.workflow.id": "wf-7",
        "salesbus.batch.id": "b-1",
    }
    assert subset(chat.attributes) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": "claude-test-1",
        "salesbus.llm.operation": "research",
    }
    for span in (agent, chat):
        assert span.attributes["gen_ai.usage.input_tokens"] == 450  # 100 + 300 read + 50 written
        assert span.attributes["gen_ai.usage.output_tokens"] == 20
        assert span.attributes["gen_ai.usage.cache_read.input_tokens"] == 300
        assert span.attributes["gen_ai.usage.cache_creation.input_tokens"] == 50
        assert span.attributes["salesbus.llm.cost_usd"] == pytest.approx(0.0123)
        assert span.status == "UNSET"
    succeeded = statuses[-1]
    assert isinstance(succeeded, StepSucceeded)
    assert succeeded.usage == CALL_USAGE  # the step's meter still saw the call, once


async def test_a_call_that_used_no_cache_has_no_cache_attributes(
    telemetry: Telemetry, receiver: OtlpReceiver
) -> None:
    with chat_span("anthropic", "claude-test-1", telemetry=telemetry) as chat:
        chat.record_usage(uncached_input_tokens=100, output_tokens=20, cost_usd=0.01)
    telemetry.force_flush()

    span = receiver.span("chat claude-test-1")
    assert span.attributes["gen_ai.usage.input_tokens"] == 100
    assert span.attributes["gen_ai.usage.output_tokens"] == 20
    assert "gen_ai.usage.cache_read.input_tokens" not in span.attributes
    assert "gen_ai.usage.cache_creation.input_tokens" not in span.attributes


async def test_a_failed_attempt_is_an_error_span_with_kind_and_retryability(
    telemetry: Telemetry, receiver: OtlpReceiver
) -> None:
    statuses = await run_step(telemetry, Lookup(company="busy"))

    failed = statuses[-1]
    assert isinstance(failed, StepFailed)
    assert failed.usage == CALL_USAGE  # a failed call is still paid for
    agent = receiver.span("invoke_agent research")
    chat = receiver.span("chat claude-test-1")
    for span in (agent, chat):
        assert span.status == "ERROR"
        assert span.attributes["error.type"] == "rate_limited"
        assert span.attributes["salesbus.error.retryable"] is True
        [exception] = span.events
        assert exception.attributes["exception.type"] == "salesbus.agents.errors.RateLimitedError"
        assert "sk-ant-***" in exception.attributes["exception.message"]
        assert "secretsecret" not in exception.attributes["exception.stacktrace"]
        assert "secretsecret" not in span.status_message
    assert agent.attributes["salesbus.step.outcome"] == "failed"
    assert chat.attributes["gen_ai.usage.input_tokens"] == 450


async def test_a_skipped_attempt_is_not_an_error(
    telemetry: Telemetry, receiver: OtlpReceiver
) -> None:
    await run_step(telemetry, Lookup(company="blocked"))

    agent = receiver.span("invoke_agent research")
    assert agent.status == "UNSET"
    assert agent.attributes["salesbus.step.outcome"] == "skipped"
    assert agent.attributes["salesbus.step.skip_outcome"] == "disqualified"
    assert "gen_ai.usage.input_tokens" not in agent.attributes  # no model call was made
    assert not [s for s in receiver.spans if s.name.startswith("chat")]


async def test_step_and_model_metrics_reach_the_collector(
    telemetry: Telemetry, receiver: OtlpReceiver
) -> None:
    await run_step(telemetry, Lookup(company="Acme", attempt=1))
    await run_step(telemetry, Lookup(company="busy", attempt=2))

    def points(name: str) -> dict[tuple[tuple[str, Any], ...], float]:
        metric = receiver.latest_metric(name)
        return {tuple(sorted(p.attributes.items())): p.value for p in metric.points}

    step = "salesbus.step.name"
    assert points("salesbus.step.attempts") == {
        ((step, "research"), ("salesbus.step.outcome", "succeeded")): 1,
        ((step, "research"), ("salesbus.step.outcome", "failed")): 1,
    }
    assert points("salesbus.step.retries") == {((step, "research"),): 1}
    duration = receiver.latest_metric("salesbus.step.duration")
    assert (duration.kind, duration.unit) == ("histogram", "s")
    assert sum(p.count or 0 for p in duration.points) == 2
    model = (
        ("gen_ai.provider.name", "anthropic"),
        ("gen_ai.request.model", "claude-test-1"),
    )
    assert points("salesbus.llm.tokens") == {
        (*model, ("gen_ai.token.type", "input")): 900,
        (*model, ("gen_ai.token.type", "output")): 40,
    }
    assert points("salesbus.llm.cost") == {model: pytest.approx(0.0246)}
    assert points("salesbus.step.tokens") == {
        (("gen_ai.token.type", "input"), (step, "research")): 900,
        (("gen_ai.token.type", "output"), (step, "research")): 40,
    }
    assert points("salesbus.step.cost") == {((step, "research"),): pytest.approx(0.0246)}


async def test_the_traced_provider_forwards_usage_to_the_enclosing_meter(
    telemetry: Telemetry,
) -> None:
    provider = TracedProvider(FakeProvider(), telemetry)
    assert isinstance(provider, Provider)
    assert (provider.name, provider.model) == ("anthropic", "claude-test-1")
    with metered() as step_meter:
        await provider.research(Company(name="Acme"), None, NO_CAMPAIGN)
        await provider.research(Company(name="Beta"), None, NO_CAMPAIGN)
    assert step_meter.total == CALL_USAGE + CALL_USAGE


async def test_observers_and_providers_work_without_any_telemetry_configured() -> None:
    """The defaults (the API's proxies) make every span a no-op; the pipeline is unchanged."""
    seen: list[Event] = []
    async with EventBus(interceptors=[BusTracing()]) as bus:
        bus.subscribe(Event, seen.append)
        runtime = AgentRuntime(bus, observers=[TracingObserver()])
        runtime.add(Researcher(TracedProvider(FakeProvider())))
        await bus.publish(Lookup(company="Acme"))
    assert [type(e).__name__ for e in seen] == ["Lookup", "StepStarted", "Found", "StepSucceeded"]
    succeeded = seen[-1]
    assert isinstance(succeeded, StepSucceeded)
    assert succeeded.usage == CALL_USAGE
