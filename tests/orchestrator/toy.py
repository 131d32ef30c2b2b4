"""A toy three-step pipeline whose agents fail, skip or wait on command.

The orchestrator is generic over its declaration; these agents let the tests
drive every path of the state machine without any sales logic.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import anyio

from salesbus.agents.errors import BadRequestError, ServerError
from salesbus.agents.events import CompanySubmitted, PipelineEvent
from salesbus.agents.models import Company
from salesbus.agents.runtime import Agent, Skip
from salesbus.agents.usage import Usage, record_usage
from salesbus.bus import Event
from salesbus.orchestrator.pipeline import PipelineSpec, Step


class Counted(PipelineEvent):
    type_name = "tests.Counted"
    name: str
    letters: int


class Doubled(PipelineEvent):
    type_name = "tests.Doubled"
    name: str
    value: int


class Checked(PipelineEvent):
    type_name = "tests.Checked"
    name: str
    value: int
    ok: bool


@dataclass
class Script:
    """What the agents do, per company name: fail N times, fail for good, skip, or wait."""

    transient: dict[str, int] = field(default_factory=dict)
    retry_after: float | None = None
    permanent: set[str] = field(default_factory=set)
    skip: set[str] = field(default_factory=set)
    delay: float = 0.0
    slow: dict[str, float] = field(default_factory=dict)
    """Extra seconds per step name."""
    calls: Counter[str] = field(default_factory=Counter)
    running: int = 0
    peak: int = 0

    async def act(self, step: str, name: str) -> None:
        self.calls[f"{step}/{name}"] += 1
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            record_usage(Usage(calls=1, input_tokens=3, output_tokens=2, cost_usd=0.0001))
            if self.delay or step in self.slow:
                await anyio.sleep(self.delay + self.slow.get(step, 0.0))
            if step == "count" and name in self.permanent:
                raise BadRequestError(f"{name} cannot be counted")
            if step == "double" and self.calls[f"{step}/{name}"] <= self.transient.get(name, 0):
                raise ServerError("try again", retry_after=self.retry_after)
        finally:
            self.running -= 1


class Count(Agent[CompanySubmitted, Counted]):
    name = "count"
    consumes = CompanySubmitted
    produces = Counted

    def __init__(self, script: Script) -> None:
        self.script = script

    async def handle(self, event: CompanySubmitted) -> Counted | Skip:
        await self.script.act(self.name, event.company.name)
        if event.company.name in self.script.skip:
            return Skip(outcome="disqualified", reason="too short a name")
        return event.follow(Counted, name=event.company.name, letters=len(event.company.name))


class Double(Agent[Counted, Doubled]):
    name = "double"
    consumes = Counted
    produces = Doubled

    def __init__(self, script: Script) -> None:
        self.script = script

    async def handle(self, event: Counted) -> Doubled:
        await self.script.act(self.name, event.name)
        return event.follow(Doubled, name=event.name, value=event.letters * 2)


class Check(Agent[Doubled, Checked]):
    """The step added to the pipeline in the "one line" test."""

    name = "check"
    consumes = Doubled
    produces = Checked

    def __init__(self, script: Script) -> None:
        self.script = script

    async def handle(self, event: Doubled) -> Checked:
        await self.script.act(self.name, event.name)
        return event.follow(Checked, name=event.name, value=event.value, ok=event.value % 4 == 0)


def submit(company: Company, workflow_id: str, batch_id: str) -> Event:
    return CompanySubmitted(correlation_id=workflow_id, batch_id=batch_id, company=company)


def toy_pipeline(
    script: Script, *, with_check: bool = False, approve_odd: bool = False
) -> PipelineSpec:
    steps = [
        Step(Count(script), "counting"),
        Step(Double(script), "doubling"),
    ]
    if with_check:
        steps.append(Step(Check(script), "checking"))

    def needs_approval(event: Event) -> str | None:
        value = getattr(event, "value", 0)
        return "odd half" if approve_odd and (value // 2) % 2 else None

    return PipelineSpec.of(steps, start=submit, needs_approval=needs_approval)


def names(*items: str) -> list[Company]:
    return [Company(name=n, domain=f"{n.lower()}.example") for n in items]
