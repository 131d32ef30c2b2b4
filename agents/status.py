"""Status events: what the agent runtime says around every step attempt.

Agents never publish these themselves; :class:`salesbus.agents.runtime.AgentRuntime`
does, so every agent reports the same way and the orchestrator (or any
observer) can follow a workflow from status events alone.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from salesbus.bus import AnyEvent, Event
from salesbus.observability.secrets import scrub_secrets

from .usage import Usage

__all__ = [
    "ErrorInfo",
    "StepEvent",
    "StepFailed",
    "StepSkipped",
    "StepStarted",
    "StepSucceeded",
]


class ErrorInfo(BaseModel):
    """Why an attempt failed, in terms a retry policy can act on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    """Stable short name: ``rate_limited``, ``timeout``, ``invalid_output``, ``internal``…"""
    message: str
    """Scrubbed of secrets on the way in: it is stored, exported, logged and traced."""
    retryable: bool
    retry_after: float | None = None
    """Seconds the server asked us to wait, when it said."""
    exception_type: str

    @field_validator("message")
    @classmethod
    def _scrubbed(cls, message: str) -> str:
        return scrub_secrets(message)


class StepEvent(Event):
    """Base of the status events; ``correlation_id`` is the workflow."""

    type_name = "salesbus.StepEvent"
    step: str
    attempt: int = Field(ge=1)
    input_event_id: str
    batch_id: str | None = None


class StepStarted(StepEvent):
    type_name = "salesbus.StepStarted"


class StepSucceeded(StepEvent):
    type_name = "salesbus.StepSucceeded"
    output: AnyEvent
    usage: Usage = Field(default_factory=Usage)
    duration_ms: float = 0.0


class StepSkipped(StepEvent):
    """The agent declined the work on purpose (a suppressed or unqualified company)."""

    type_name = "salesbus.StepSkipped"
    outcome: str
    reason: str
    usage: Usage = Field(default_factory=Usage)
    duration_ms: float = 0.0


class StepFailed(StepEvent):
    type_name = "salesbus.StepFailed"
    error: ErrorInfo
    usage: Usage = Field(default_factory=Usage)
    duration_ms: float = 0.0
