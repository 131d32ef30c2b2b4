"""A pipeline is a declaration: ordered steps, each an agent with the state it runs in.

The orchestrator is generic over this declaration. Adding a step is an agent
plus one line here; the chain is checked when the declaration is made, so a
step whose input type does not follow from the previous step's output is an
error at start-up, not a workflow stuck at run time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from salesbus.agents.models import Company
from salesbus.agents.runtime import Agent
from salesbus.bus import Event

__all__ = ["PipelineSpec", "Step"]


@dataclass(frozen=True, slots=True)
class Step:
    """One step: the agent that does it, and the workflow state while it runs."""

    agent: Agent[Any, Any]
    state: str
    timeout: float | None = 120.0
    concurrency: int = 256
    """Workers for this step's subscription; the orchestrator's admission limit is the real cap."""

    @property
    def name(self) -> str:
        return self.agent.name

    @property
    def consumes(self) -> type[Event]:
        return self.agent.consumes

    @property
    def produces(self) -> type[Event]:
        return self.agent.produces


StartEvent = Callable[[Company, str, str], Event]
"""Builds the first step's input from (company, workflow id, batch id)."""

ApprovalRule = Callable[[Event], str | None]
"""Given the last step's output: why a person must approve it, or ``None``."""


def _no_approval(_: Event) -> str | None:
    return None


@dataclass(frozen=True)
class PipelineSpec:
    steps: tuple[Step, ...]
    start: StartEvent
    needs_approval: ApprovalRule = field(default=_no_approval)

    def __post_init__(self) -> None:
        if not self.steps:
            raise ValueError("a pipeline needs at least one step")
        names = [step.name for step in self.steps]
        if len(set(names)) != len(names):
            raise ValueError(f"step names must be unique: {names}")
        for before, after in zip(self.steps, self.steps[1:], strict=False):
            if not issubclass(before.produces, after.consumes):
                raise ValueError(
                    f"step {after.name!r} consumes {after.consumes.__name__}, but the step"
                    f" before it produces {before.produces.__name__}"
                )

    @classmethod
    def of(
        cls,
        steps: Sequence[Step],
        start: StartEvent,
        needs_approval: ApprovalRule = _no_approval,
    ) -> PipelineSpec:
        return cls(tuple(steps), start, needs_approval)

    def index(self, name: str) -> int:
        for position, step in enumerate(self.steps):
            if step.name == name:
                return position
        raise KeyError(name)

    @property
    def step_states(self) -> list[str]:
        return [step.state for step in self.steps]
