"""The agent runtime: an agent is a typed handler; the runtime reports around it.

An :class:`Agent` turns one event into the next (or declines with :class:`Skip`).
:class:`AgentRuntime` subscribes it to the bus and, around every call, publishes
``StepStarted`` and then ``StepSucceeded`` / ``StepSkipped`` / ``StepFailed`` with
the attempt's duration, token usage and classified error, under a per-step
timeout. It does not retry: whoever consumes the status events decides that.

With ``forward_outputs=True`` (standalone use) the runtime also publishes each
produced event, so agents chain on their own. The orchestrator turns that off
and publishes an output only after it is stored, so a crash never loses a
finished step or runs one twice.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, ExitStack
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import anyio
from pydantic import BaseModel, ConfigDict

from salesbus.bus import Event, EventBus, Subscription

from .errors import StepError
from .status import ErrorInfo, StepFailed, StepSkipped, StepStarted, StepSucceeded
from .step_context import StepRef
from .usage import metered

__all__ = ["Agent", "AgentRuntime", "OutcomeReporter", "Skip", "StepObserver", "classify_error"]

logger = logging.getLogger("salesbus.agents")

In = TypeVar("In", bound=Event)
Out = TypeVar("Out", bound=Event)

_MAX_MESSAGE = 500


class Skip(BaseModel):
    """An agent's deliberate "no": the workflow ends with ``outcome``, not as a failure."""

    model_config = ConfigDict(frozen=True)

    outcome: str
    reason: str


OutcomeReporter = Callable[[StepSucceeded | StepSkipped | StepFailed, BaseException | None], None]
"""Told how an attempt ended: its status event, and the exception when it failed."""


class StepObserver(Protocol):
    """Watches step attempts from outside the agents (tracing and metrics plug in here).

    ``observe`` wraps the whole attempt — the agent's model calls happen inside
    it, so a span it makes current is their parent — and yields the reporter the
    runtime calls with the outcome before publishing it.
    """

    def observe(
        self, step: str, event: Event, attempt: int
    ) -> AbstractContextManager[OutcomeReporter]: ...


class Agent(ABC, Generic[In, Out]):
    """One step of a pipeline: consumes ``consumes`` events, produces ``produces`` events."""

    name: ClassVar[str]
    consumes: ClassVar[type[Event]]
    produces: ClassVar[type[Event]]

    @abstractmethod
    async def handle(self, event: In) -> Out | Skip:
        """Do the step's work. Raise a :class:`StepError` for classified failures."""


def classify_error(exc: BaseException) -> ErrorInfo:
    """Map an exception to what a retry policy needs to know.

    Classified errors keep their kind; a timeout is retryable; anything else is
    a bug or an unexpected condition that another attempt will not fix.
    """
    message = str(exc)[:_MAX_MESSAGE] or type(exc).__name__
    if isinstance(exc, StepError):
        return ErrorInfo(
            kind=exc.kind,
            message=message,
            retryable=exc.retryable,
            retry_after=exc.retry_after,
            exception_type=type(exc).__name__,
        )
    if isinstance(exc, TimeoutError):
        return ErrorInfo(
            kind="timeout",
            message=message if str(exc) else "the step timed out",
            retryable=True,
            exception_type=type(exc).__name__,
        )
    return ErrorInfo(
        kind="internal",
        message=message,
        retryable=False,
        exception_type=type(exc).__name__,
    )


class AgentRuntime:
    """Binds agents to a bus and emits status events around every step attempt."""

    def __init__(
        self,
        bus: EventBus,
        *,
        forward_outputs: bool = True,
        step_timeout: float | None = 120.0,
        observers: Sequence[StepObserver] = (),
        gate: Callable[[Event], bool] | None = None,
    ) -> None:
        """``gate`` is asked before each step starts; ``False`` drops the input unstarted
        (the orchestrator's "stop means stop": nothing new starts after a stop)."""
        self.gate = gate
        self.bus = bus
        self.forward_outputs = forward_outputs
        self.step_timeout = step_timeout
        self.observers = list(observers)
        self.agents: dict[str, Agent[Any, Any]] = {}

    def add(
        self,
        agent: Agent[Any, Any],
        *,
        concurrency: int = 16,
        max_pending: int | None = None,
        timeout: float | None = None,
    ) -> Subscription[Any]:
        """Subscribe ``agent`` to its ``consumes`` type."""
        if agent.name in self.agents:
            raise ValueError(f"an agent named {agent.name!r} is already running")
        self.agents[agent.name] = agent
        step_timeout = timeout if timeout is not None else self.step_timeout

        async def run_step(event: Event) -> None:
            await self._run(agent, event, step_timeout)

        return self.bus.subscribe(
            agent.consumes,
            run_step,
            name=f"agent:{agent.name}",
            concurrency=concurrency,
            max_pending=max_pending,
        )

    async def _run(self, agent: Agent[Any, Any], event: Event, limit: float | None) -> None:
        if self.gate is not None and not self.gate(event):
            return
        attempt = int(getattr(event, "attempt", 1))
        common: dict[str, Any] = {
            **event.caused(),
            "step": agent.name,
            "attempt": attempt,
            "input_event_id": event.event_id,
            "batch_id": getattr(event, "batch_id", None),
        }
        await self.bus.publish(StepStarted(**common))
        if self.observers:
            outcome = await self._observed(agent, event, limit, common)
        else:
            outcome, _ = await self._attempt(agent, event, limit, common)
        if isinstance(outcome, StepSucceeded) and self.forward_outputs:
            await self.bus.publish(outcome.output)
        await self.bus.publish(outcome)

    async def _observed(
        self, agent: Agent[Any, Any], event: Event, limit: float | None, common: dict[str, Any]
    ) -> StepSucceeded | StepSkipped | StepFailed:
        with ExitStack() as scopes:
            reporters = [
                scopes.enter_context(observer.observe(agent.name, event, common["attempt"]))
                for observer in self.observers
            ]
            outcome, error = await self._attempt(agent, event, limit, common)
            for report in reporters:
                report(outcome, error)
        return outcome

    async def _attempt(
        self, agent: Agent[Any, Any], event: Event, limit: float | None, common: dict[str, Any]
    ) -> tuple[StepSucceeded | StepSkipped | StepFailed, Exception | None]:
        started = time.perf_counter()
        step = StepRef(event.correlation_id or event.event_id, agent.name, common["attempt"])
        with metered() as meter, step:
            try:
                result = await _handle(agent, event, limit)
            except Exception as exc:
                info = classify_error(exc)
                logger.warning(
                    "step %s attempt %d failed (%s, %s): %s",
                    agent.name,
                    common["attempt"],
                    info.kind,
                    "retryable" if info.retryable else "permanent",
                    info.message,
                )
                elapsed = (time.perf_counter() - started) * 1000
                return StepFailed(**common, error=info, usage=meter.total, duration_ms=elapsed), exc
        elapsed = (time.perf_counter() - started) * 1000
        if isinstance(result, Skip):
            skipped = StepSkipped(
                **common,
                outcome=result.outcome,
                reason=result.reason,
                usage=meter.total,
                duration_ms=elapsed,
            )
            return skipped, None
        return StepSucceeded(**common, output=result, usage=meter.total, duration_ms=elapsed), None


async def _handle(agent: Agent[Any, Any], event: Event, limit: float | None) -> Any:
    """The handler, under a cancel scope only when there is a deadline to keep.

    Every step in flight sits in here while it waits for its model, so no
    scope is made for a step without a timeout, and the scope is a bare one:
    ``anyio.fail_after`` would add two generator-based context managers.
    """
    if limit is None:
        return await agent.handle(event)
    with anyio.CancelScope(deadline=anyio.current_time() + limit):
        return await agent.handle(event)
    raise TimeoutError(f"{agent.name} took longer than {limit:g} s")
