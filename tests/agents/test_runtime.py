"""The agent runtime reports every step attempt through status events, alike for all agents."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from salesbus.agents.errors import RateLimitedError
from salesbus.agents.events import PipelineEvent
from salesbus.agents.runtime import Agent, AgentRuntime, Skip
from salesbus.agents.status import StepEvent, StepFailed, StepSkipped, StepStarted, StepSucceeded
from salesbus.agents.usage import Usage, record_usage
from salesbus.bus import Event, EventBus

pytestmark = pytest.mark.anyio


class Question(PipelineEvent):
    type_name = "tests.Question"
    text: str


class Answer(PipelineEvent):
    type_name = "tests.Answer"
    text: str


class Oracle(Agent[Question, Answer]):
    name = "oracle"
    consumes = Question
    produces = Answer

    async def handle(self, event: Question) -> Answer | Skip:
        record_usage(Usage(calls=1, input_tokens=10, output_tokens=5, cost_usd=0.001))
        if event.text == "skip me":
            return Skip(outcome="disqualified", reason="not interesting")
        if event.text == "busy":
            raise RateLimitedError("slow down", retry_after=2.5)
        if event.text == "bug":
            raise KeyError("missing")
        if event.text == "slow":
            await anyio.sleep(10)
        return event.follow(Answer, text=event.text.upper())


async def run(question: Question, **runtime_options: Any) -> list[Event]:
    seen: list[Event] = []
    async with EventBus() as bus:
        # One subscriber with one worker sees the runtime's events in publish order.
        bus.subscribe(
            Event, lambda e: seen.append(e) if isinstance(e, StepEvent | Answer) else None
        )
        AgentRuntime(bus, **runtime_options).add(Oracle())
        await bus.publish(question)
    return seen


async def test_a_successful_attempt_is_started_forwarded_and_succeeded_with_usage() -> None:
    question = Question(text="hi", correlation_id="wf-1", batch_id="b-1", attempt=2)
    started, answer, succeeded = await run(question)

    assert isinstance(started, StepStarted)
    assert (started.step, started.attempt, started.input_event_id) == (
        "oracle",
        2,
        question.event_id,
    )
    assert isinstance(answer, Answer)
    assert (answer.text, answer.correlation_id, answer.batch_id) == ("HI", "wf-1", "b-1")
    assert answer.causation_id == question.event_id
    assert answer.attempt == 1
    assert isinstance(succeeded, StepSucceeded)
    assert succeeded.output == answer
    assert succeeded.usage == Usage(calls=1, input_tokens=10, output_tokens=5, cost_usd=0.001)
    assert succeeded.duration_ms >= 0
    assert {e.correlation_id for e in (started, succeeded)} == {"wf-1"}


async def test_without_forwarding_the_output_travels_only_inside_the_status_event() -> None:
    seen = await run(Question(text="hi"), forward_outputs=False)
    assert [type(e).__name__ for e in seen] == ["StepStarted", "StepSucceeded"]
    assert isinstance(seen[1], StepSucceeded)
    assert isinstance(seen[1].output, Answer)


async def test_a_skip_is_reported_with_its_outcome_and_reason() -> None:
    _, skipped = await run(Question(text="skip me"))
    assert isinstance(skipped, StepSkipped)
    assert (skipped.outcome, skipped.reason) == ("disqualified", "not interesting")
    assert skipped.usage.calls == 1


async def test_a_classified_error_keeps_its_kind_retryability_and_retry_after() -> None:
    _, failed = await run(Question(text="busy"))
    assert isinstance(failed, StepFailed)
    assert (failed.error.kind, failed.error.retryable, failed.error.retry_after) == (
        "rate_limited",
        True,
        2.5,
    )
    assert failed.usage.input_tokens == 10  # a failed attempt still cost tokens


async def test_an_unexpected_exception_is_a_permanent_internal_error() -> None:
    _, failed = await run(Question(text="bug"))
    assert isinstance(failed, StepFailed)
    assert (failed.error.kind, failed.error.retryable, failed.error.exception_type) == (
        "internal",
        False,
        "KeyError",
    )


async def test_a_step_past_its_timeout_fails_as_a_retryable_timeout() -> None:
    _, failed = await run(Question(text="slow"), step_timeout=0.05)
    assert isinstance(failed, StepFailed)
    assert (failed.error.kind, failed.error.retryable) == ("timeout", True)


async def test_two_agents_cannot_share_a_name() -> None:
    async with EventBus() as bus:
        runtime = AgentRuntime(bus)
        runtime.add(Oracle())
        with pytest.raises(ValueError, match="already running"):
            runtime.add(Oracle())


async def test_observers_wrap_each_attempt_and_hear_its_outcome() -> None:
    from collections.abc import Iterator
    from contextlib import contextmanager
    from contextvars import ContextVar

    current_step: ContextVar[str] = ContextVar("current_step", default="")
    heard: list[tuple[str, str, str | None]] = []
    seen_inside: list[str] = []

    class Watcher:
        @contextmanager
        def observe(self, step: str, event: Event, attempt: int) -> Iterator[Any]:
            token = current_step.set(f"{step}#{attempt}")
            try:
                yield lambda outcome, exc: heard.append(
                    (step, type(outcome).__name__, type(exc).__name__ if exc else None)
                )
            finally:
                current_step.reset(token)

    class Peeker(Oracle):
        name = "peeker"

        async def handle(self, event: Question) -> Answer | Skip:
            seen_inside.append(current_step.get())
            return await super().handle(event)

    async with EventBus() as bus:
        AgentRuntime(bus, observers=[Watcher()]).add(Peeker())
        await bus.publish(Question(text="ok"))
        await bus.publish(Question(text="bug", attempt=3))

    assert sorted(seen_inside) == ["peeker#1", "peeker#3"]
    assert sorted(heard) == [
        ("peeker", "StepFailed", "KeyError"),
        ("peeker", "StepSucceeded", None),
    ]
