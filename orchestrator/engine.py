"""The orchestrator: admits workflows, reacts to status events, stores, retries.

Agents run as bus subscribers under :class:`AgentRuntime` with
``forward_outputs=False``: a step's output travels only inside its
``StepSucceeded``. The orchestrator commits that output and the workflow's new
state in one transaction, and only then publishes the output as the next
step's input. So a crash at any moment leaves every step either committed
(and never run again) or not (and run again on resume) — never both.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

import anyio
from anyio.abc import TaskGroup

from salesbus.agents.runtime import AgentRuntime, StepObserver
from salesbus.agents.status import StepEvent, StepFailed, StepSkipped, StepStarted, StepSucceeded
from salesbus.bus import Event, EventBus, decode_event, new_event_id

from .events import ApprovalRequested, WorkflowCompleted, WorkflowFailed
from .pipeline import PipelineSpec, Step
from .retry import RetryPolicy
from .states import (
    AWAITING_APPROVAL,
    COMPLETED,
    DISQUALIFIED,
    FAILED,
    TERMINAL_STATES,
)
from .store import Statement, Store, WorkflowRecord

__all__ = ["Admission", "BatchProgress", "Orchestrator", "WorkflowTracer"]

logger = logging.getLogger("salesbus.orchestrator")


class WorkflowTracer(Protocol):
    """Gives each workflow one trace, continued (same trace id) after a restart."""

    def begin(
        self, workflow: WorkflowRecord
    ) -> tuple[tuple[str, str] | None, dict[str, str]] | None:
        """((trace id, root span id) to store, W3C carrier for the first event), or ``None``.

        The ids are ``None`` for a trace that is not sampled: nothing to store.
        """
        ...


class Admission(Protocol):
    """Slots for workflows in flight shared by several orchestrators (the HTTP service's).

    ``acquire`` waits for a slot for one workflow of ``batch_id`` and returns
    ``False`` when that batch may admit nothing more (it was cancelled);
    ``release`` gives the slot back when the workflow settles.
    """

    async def acquire(self, batch_id: str) -> bool: ...

    def release(self, batch_id: str) -> None: ...


@dataclass
class BatchProgress:
    """Live counters a progress display reads; updated as status events arrive."""

    batch_id: str
    total: int = 0
    states: dict[str, int] = field(default_factory=dict)
    attempts_failed: int = 0
    retries: int = 0
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0
    in_flight: int = 0
    held: str | None = None
    """Why admission stopped before every company started (a budget), if it did."""

    def move(self, before: str | None, after: str) -> None:
        if before is not None:
            self.states[before] = self.states.get(before, 0) - 1
        self.states[after] = self.states.get(after, 0) + 1

    @property
    def finished(self) -> int:
        return sum(n for state, n in self.states.items() if state in TERMINAL_STATES)


@dataclass(slots=True)
class _Live:
    """An admitted workflow: where it is and what its current step was given."""

    record: WorkflowRecord
    index: int
    input: Event
    attempt: int
    retry_base: int
    state: str


class Orchestrator:
    """Runs a :class:`PipelineSpec` over the workflows of a batch, durably."""

    def __init__(
        self,
        bus: EventBus,
        store: Store,
        spec: PipelineSpec,
        *,
        concurrency: int = 50,
        retry: RetryPolicy | None = None,
        tracer: WorkflowTracer | None = None,
        observers: Iterable[StepObserver] = (),
        log_events: bool = True,
        admission: Admission | None = None,
        budget: Callable[[BatchProgress, int], str | None] | None = None,
    ) -> None:
        """``admission`` shares the in-flight limit with other batches (the service);
        ``budget(progress, in_flight)`` may refuse the next company with a reason
        (a spending cap): admission then ends, and in-flight workflows finish."""
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.bus = bus
        self.store = store
        self.spec = spec
        self.concurrency = concurrency
        self.retry = retry or RetryPolicy()
        self.tracer = tracer
        self.admission = admission
        self.budget = budget
        self.progress = BatchProgress(batch_id="")
        self._live: dict[str, _Live] = {}
        self._stopping = False
        self._stopped = anyio.Event()
        self._changed = anyio.Event()
        self._task_group: TaskGroup | None = None
        self._runtime = AgentRuntime(bus, forward_outputs=False, observers=list(observers))
        for step in spec.steps:
            # At most `concurrency` workflows are live, each with one current step:
            # more workers than that would never run, and each costs a task per bus.
            workers = min(step.concurrency, concurrency)
            self._runtime.add(step.agent, concurrency=workers, timeout=step.timeout)
        bus.subscribe(StepStarted, self._on_started, name="orchestrator:started")
        bus.subscribe(
            StepSucceeded,
            self._on_succeeded,
            name="orchestrator:succeeded",
            concurrency=min(256, concurrency),
        )
        bus.subscribe(
            StepSkipped,
            self._on_skipped,
            name="orchestrator:skipped",
            concurrency=min(64, concurrency),
        )
        bus.subscribe(
            StepFailed,
            self._on_failed,
            name="orchestrator:failed",
            concurrency=min(64, concurrency),
        )
        if log_events:
            bus.subscribe(Event, store.log_event, name="orchestrator:event-log", max_pending=8192)

    # -- running a batch -----------------------------------------------------------

    async def run(self, batch_id: str, *, only: Iterable[str] | None = None) -> BatchProgress:
        """Run every unfinished workflow of the batch (or just ``only``) to a stop.

        Returns when each is completed, disqualified, failed, rejected or awaiting
        approval — or, after :meth:`stop`, when the in-flight ones have settled.
        """
        await self.store.commit([self.store.abandon_running_attempts(batch_id)])
        records = await self.store.workflows(batch_id)
        wanted = set(only) if only is not None else None
        self.progress = BatchProgress(batch_id=batch_id, total=len(records))
        for record in records:
            self.progress.move(None, record.state)
        runnable = [
            r
            for r in records
            if r.state not in TERMINAL_STATES
            and r.state != AWAITING_APPROVAL
            and (wanted is None or r.id in wanted)
        ]
        points = await self.store.resume_points(batch_id) if runnable else {}
        async with anyio.create_task_group() as tg:
            self._task_group = tg
            for record in runnable:
                while len(self._live) >= self.concurrency and not self._stopping:
                    await self._wait_for_change()
                if self._stopping:
                    break
                if self.budget is not None and await self._held():
                    break
                if self.admission is not None and not await self.admission.acquire(batch_id):
                    break
                outputs, used = points.get(record.id, ({}, {}))
                await self._admit(record, outputs, used)
            while self._live:
                await self._wait_for_change()
            self._task_group = None
        await self.store.flush()
        return self.progress

    async def _held(self) -> bool:
        """Whether admission refuses the next workflow for good: while workflows are in
        flight a refusal waits for them (what they cost may leave room); with none left,
        it ends admission."""
        assert self.budget is not None
        while (held := self.budget(self.progress, len(self._live))) and self._live:
            if self._stopping:
                return True
            await self._wait_for_change()
        self.progress.held = held
        if held:
            logger.warning("%s", held)
        return held is not None

    def stop(self) -> None:
        """Admit nothing more and schedule no retries; in-flight steps run to their end."""
        self._stopping = True
        self._stopped.set()
        self._notify()

    @property
    def stopping(self) -> bool:
        return self._stopping

    async def _wait_for_change(self) -> None:
        self._changed = anyio.Event() if self._changed.is_set() else self._changed
        await self._changed.wait()

    def _notify(self) -> None:
        self._changed.set()

    # -- admission -----------------------------------------------------------------

    async def _admit(
        self, record: WorkflowRecord, outputs: dict[str, str], used: dict[str, int]
    ) -> None:
        steps = self.spec.steps
        index = next((i for i, s in enumerate(steps) if s.name not in outputs), len(steps))
        if index == len(steps):
            logger.warning("workflow %s has every step done but state %s", record.id, record.state)
            if self.admission is not None:
                self.admission.release(record.batch_id)
            return
        step = steps[index]
        if index == 0:
            first = self.spec.start(record.company, record.id, record.batch_id)
        else:
            first = decode_event(outputs[steps[index - 1].name])
        retry_base = record.retry_base if record.step == step.name else 0
        attempt = used.get(step.name, 0) + 1
        statements: list[Statement] = []
        if self.tracer is not None:
            traced = self.tracer.begin(record)
            if traced is not None:
                root, carrier = traced
                if root is not None:
                    statements.append(self.store.set_trace(record.id, *root))
                first = first.model_copy(update={"trace_context": carrier})
        if attempt > 1:
            first = first.model_copy(update={"attempt": attempt, "event_id": new_event_id()})
        live = _Live(record, index, first, attempt, retry_base, record.state)
        self._live[record.id] = live
        self.progress.in_flight = len(self._live)
        if attempt - 1 - retry_base >= self.retry.max_attempts:
            await self._fail(live, step, "the retry budget was used up before the restart")
            return
        statements.append(
            self.store.set_state(record.id, step.state, step=step.name, retry_base=retry_base)
        )
        self.store.enqueue(statements)
        self._move(live, step.state)
        await self.bus.publish(first)

    # -- reacting to status events -------------------------------------------------

    def _current(self, event: StepEvent) -> tuple[_Live, Step] | None:
        """The live workflow this status event is about, if it is its current attempt."""
        live = self._live.get(event.correlation_id or "")
        if live is None:
            return None
        step = self.spec.steps[live.index]
        if step.name != event.step or live.attempt != event.attempt:
            logger.debug("stale status event %s for %s", type(event).__name__, live.record.id)
            return None
        return live, step

    def _on_started(self, event: StepStarted) -> None:
        found = self._current(event)
        if found is not None:
            live, step = found
            self.store.enqueue(
                [self.store.attempt_started(live.record.id, step.name, event.attempt, live.input)]
            )

    async def _on_succeeded(self, event: StepSucceeded) -> None:
        found = self._current(event)
        if found is None:
            return
        live, step = found
        self._count_usage(event)
        finished = self.store.attempt_finished(
            live.record.id,
            step.name,
            event.attempt,
            status="succeeded",
            duration_ms=event.duration_ms,
            usage=event.usage.model_dump(),
            output=event.output,
        )
        if live.index + 1 < len(self.spec.steps):
            following = self.spec.steps[live.index + 1]
            moved = self.store.set_state(live.record.id, following.state, step=following.name)
            if not await self._commit_success(live, [finished, moved]):
                return
            live.index += 1
            live.input = event.output
            live.attempt = 1
            live.retry_base = 0
            self._move(live, following.state)
            await self.bus.publish(event.output)
            return
        reason = self.spec.needs_approval(event.output)
        outcome = AWAITING_APPROVAL if reason else COMPLETED
        moved = self.store.set_state(live.record.id, outcome, reason=reason)
        if not await self._commit_success(live, [finished, moved]):
            return
        self._release(live, outcome)
        workflow_id, batch_id, cause = live.record.id, live.record.batch_id, event.event_id
        done: Event = (
            ApprovalRequested(
                correlation_id=workflow_id, causation_id=cause, batch_id=batch_id, reason=reason
            )
            if reason
            else WorkflowCompleted(
                correlation_id=workflow_id, causation_id=cause, batch_id=batch_id, outcome=COMPLETED
            )
        )
        await self.bus.publish(done.model_copy(update={"trace_context": event.trace_context}))

    async def _commit_success(self, live: _Live, statements: list[Statement]) -> bool:
        inserted, *_ = await self.store.commit(statements)
        if inserted:
            return True
        # The database refused a second success for this step: a redelivered
        # status event. The first success already moved the workflow on.
        logger.warning("ignored a second success of a step of %s", live.record.id)
        return False

    async def _on_skipped(self, event: StepSkipped) -> None:
        found = self._current(event)
        if found is None:
            return
        live, step = found
        self._count_usage(event)
        outcome = event.outcome if event.outcome in TERMINAL_STATES else DISQUALIFIED
        await self.store.commit(
            [
                self.store.attempt_finished(
                    live.record.id,
                    step.name,
                    event.attempt,
                    status="skipped",
                    duration_ms=event.duration_ms,
                    usage=event.usage.model_dump(),
                ),
                self.store.set_state(live.record.id, outcome, step=step.name, reason=event.reason),
            ]
        )
        self._release(live, outcome)
        await self.bus.publish(
            WorkflowCompleted(
                correlation_id=live.record.id,
                causation_id=event.event_id,
                batch_id=live.record.batch_id,
                outcome=outcome,
                reason=event.reason,
                trace_context=event.trace_context,
            )
        )

    async def _on_failed(self, event: StepFailed) -> None:
        found = self._current(event)
        if found is None:
            return
        live, step = found
        self._count_usage(event)
        self.progress.attempts_failed += 1
        finished = self.store.attempt_finished(
            live.record.id,
            step.name,
            event.attempt,
            status="failed",
            duration_ms=event.duration_ms,
            usage=event.usage.model_dump(),
            error=event.error.model_dump(),
        )
        failures = event.attempt - live.retry_base
        if event.error.retryable and self.retry.allows(failures):
            await self.store.commit([finished])
            if self._stopping:
                self._release(live, live.state)  # parked: the next run resumes it
                return
            delay = self.retry.delay(failures, event.error.retry_after)
            live.attempt = event.attempt + 1
            live.input = live.input.model_copy(
                update={"attempt": live.attempt, "event_id": new_event_id()}
            )
            assert self._task_group is not None
            self._task_group.start_soon(self._retry_later, live, delay)
            return
        why = "permanent error" if not event.error.retryable else f"{failures} attempts"
        reason = f"{step.name} failed ({why}): {event.error.kind}: {event.error.message}"
        self.store.enqueue([finished])
        await self._fail(live, step, reason, cause=event.event_id)

    async def _retry_later(self, live: _Live, delay: float) -> None:
        with anyio.move_on_after(delay):
            await self._stopped.wait()
        if self._stopping:
            self._release(live, live.state)
            return
        self.progress.retries += 1
        await self.bus.publish(live.input)

    async def _fail(self, live: _Live, step: Step, reason: str, cause: str | None = None) -> None:
        await self.store.commit(
            [self.store.set_state(live.record.id, FAILED, step=step.name, reason=reason)]
        )
        self._release(live, FAILED)
        await self.bus.publish(
            WorkflowFailed(
                correlation_id=live.record.id,
                causation_id=cause,
                batch_id=live.record.batch_id,
                step=step.name,
                reason=reason,
                trace_context=live.input.trace_context,
            )
        )

    # -- bookkeeping ---------------------------------------------------------------

    def _move(self, live: _Live, state: str) -> None:
        self.progress.move(live.state, state)
        live.state = state

    def _release(self, live: _Live, state: str) -> None:
        self._move(live, state)
        if self._live.pop(live.record.id, None) is not None and self.admission is not None:
            self.admission.release(live.record.batch_id)
        self.progress.in_flight = len(self._live)
        self._notify()

    def _count_usage(self, event: StepSucceeded | StepSkipped | StepFailed) -> None:
        usage = event.usage
        self.progress.calls += usage.calls
        self.progress.input_tokens += usage.total_input_tokens
        self.progress.output_tokens += usage.output_tokens
        self.progress.cache_read_tokens += usage.cache_read_tokens
        self.progress.cache_write_tokens += usage.cache_write_tokens
        self.progress.cost_usd += usage.cost_usd
