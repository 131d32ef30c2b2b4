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
from collections.abc import Awaitable, Callable, Iterable
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, Protocol

import anyio
from anyio.abc import TaskGroup

from salesbus.agents.runtime import AgentRuntime, StepObserver
from salesbus.agents.status import StepEvent, StepFailed, StepSkipped, StepStarted, StepSucceeded
from salesbus.bus import Event, EventBus, HandlerFailure, decode_event, new_event_id

from .events import ApprovalRequested, WorkflowCompleted, WorkflowFailed
from .faults import Faults
from .pipeline import PipelineSpec, Step
from .retry import RetryPolicy
from .states import (
    AWAITING_APPROVAL,
    COMPLETED,
    DISQUALIFIED,
    FAILED,
    PENDING,
    TERMINAL_STATES,
)
from .store import (
    ResumePoint,
    Statement,
    StepHistory,
    Store,
    StoreError,
    WorkflowRecord,
    status_event_json,
)

__all__ = [
    "MAX_CONCURRENCY",
    "Admission",
    "BatchProgress",
    "ConcurrencyError",
    "Orchestrator",
    "WorkflowTracer",
]

MAX_CONCURRENCY = 10_000
"""The most workflows one process keeps in flight (about 11 KB each, see benchmarks)."""

INBOX_MARGIN = 64
"""Room beyond the admission limit in every inbox on the orchestrator's cycle."""

STATUS_FIELDS = ("step", "attempt", "outcome", "reason")
"""What the event log keeps of a step's status event: what ``/events`` shows of it."""

ISOLATE_AFTER = 2
"""Crashes of one step after which its workflow runs as the only suspect in flight."""


class ConcurrencyError(ValueError):
    """A concurrency the design cannot hold."""


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
    unrecorded: int = 0
    """Workflows let go because the store refused to record their outcome (the next run resumes)."""

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
    failures: int
    """Failed attempts of the current step that count against the retry budget."""
    state: str
    ending: bool = False
    """Being failed: other reactions leave it alone (they may be mid-commit)."""


class Orchestrator:
    """Runs a :class:`PipelineSpec` over the workflows of a batch, durably.

    Every reaction ends in a committed next state (then a publish), a scheduled
    retry, or a failed workflow with its reason. An exception that escapes a
    reaction reaches the bus's failure hook, which fails that workflow; a store
    write that fails every try fails its workflow too. So :meth:`run` returns
    once nothing is live, whatever breaks.

    No cycle can deadlock: a live workflow has at most one delivery waiting in
    each inbox on the cycle (its step input in the agent's inbox, its
    ``StepStarted`` and its outcome in the orchestrator's), and every such inbox
    holds ``concurrency + INBOX_MARGIN``, so a publish on the cycle never waits.
    """

    def __init__(
        self,
        bus: EventBus,
        store: Store,
        spec: PipelineSpec,
        *,
        concurrency: int = 50,
        retry: RetryPolicy | None = None,
        max_crashes: int = 4,
        tracer: WorkflowTracer | None = None,
        observers: Iterable[StepObserver] = (),
        log_events: bool = True,
        faults: Faults | None = None,
        admission: Admission | None = None,
        budget: Callable[[BatchProgress, int], str | None] | None = None,
        run_agents: bool = True,
    ) -> None:
        """``admission`` shares the in-flight limit with other batches (the service);
        ``budget(progress, in_flight)`` may refuse the next company with a reason
        (a spending cap): admission then ends, and in-flight workflows finish.
        ``run_agents=False``: the agents run elsewhere (``salesbus worker`` processes on
        a broker transport); this process only admits, stores and reacts."""
        if concurrency < 1:
            raise ConcurrencyError("concurrency must be at least 1")
        if concurrency > MAX_CONCURRENCY:
            raise ConcurrencyError(
                f"concurrency {concurrency} is above the {MAX_CONCURRENCY} workflows one"
                " process holds in flight"
            )
        self.bus = bus
        self.store = store
        self.spec = spec
        self.concurrency = concurrency
        self.retry = retry or RetryPolicy()
        self.max_crashes = max_crashes
        self.tracer = tracer
        self.admission = admission
        self.budget = budget
        self.faults = faults if faults is not None else store.faults
        self.progress = BatchProgress(batch_id="")
        self._live: dict[str, _Live] = {}
        self._stopping = False
        self._stopped = anyio.Event()
        self._changed = anyio.Event()
        self._task_group: TaskGroup | None = None
        self._isolated: str | None = None
        """The suspect workflow in flight (see :meth:`_suspect`), if any."""
        room = concurrency + INBOX_MARGIN
        self._runtime = AgentRuntime(
            bus, forward_outputs=False, observers=list(observers), gate=self._may_start
        )
        for step in spec.steps if run_agents else ():
            # At most `concurrency` workflows are live, each with one current step:
            # more workers than that would never run, and each costs a task per bus.
            workers = min(step.concurrency, concurrency)
            self._runtime.add(
                step.agent, concurrency=workers, timeout=step.timeout, max_pending=room
            )
        reactions: tuple[
            tuple[type[StepEvent], Callable[[Any], Awaitable[None]], str, int], ...
        ] = (
            (StepStarted, self._on_started, "started", 1),
            (StepSucceeded, self._on_succeeded, "succeeded", 256),
            (StepSkipped, self._on_skipped, "skipped", 64),
            (StepFailed, self._on_failed, "failed", 64),
        )
        for event_type, reaction, name, workers in reactions:
            bus.subscribe(
                event_type,
                reaction,
                name=f"orchestrator:{name}",
                concurrency=min(workers, concurrency),
                max_pending=room,
            )
        if log_events:
            # Its handler only queues a write and never waits: not part of any cycle.
            bus.subscribe(Event, self._log, name="orchestrator:event-log", max_pending=8192)
        bus.on_failure(self._on_handler_failure)
        store.on_lost_write = self._on_lost_write

    # -- running a batch -----------------------------------------------------------

    async def run(self, batch_id: str, *, only: Iterable[str] | None = None) -> BatchProgress:
        """Run every unfinished workflow of the batch (or just ``only``) to a stop.

        Returns when each is completed, disqualified, failed, rejected or awaiting
        approval — or, after :meth:`stop`, when the in-flight ones have settled.
        The caller holds the batch's lease (see ``lease.py``).
        """
        await self.store.commit([self.store.abandon_running_attempts(batch_id)])
        counts = await self.store.state_counts(batch_id)
        self.progress = BatchProgress(batch_id=batch_id, total=sum(counts.values()))
        for state, count in counts.items():
            self.progress.states[state] = count
        wanted = set(only) if only is not None else None
        runnable = [PENDING, *dict.fromkeys(self.spec.step_states)]
        async with anyio.create_task_group() as tg:
            self._task_group = tg
            suspects: list[tuple[WorkflowRecord, ResumePoint]] = []
            records = self.store.iter_workflows(batch_id, runnable)
            async with aclosing(records):
                async for record in records:
                    if wanted is not None and record.id not in wanted:
                        continue
                    if not await self._room() or not await self._may_admit(batch_id):
                        break
                    point = await self._resume_point(record)
                    if self._suspect(record, point):
                        suspects.append((record, point))
                        if self.admission is not None:
                            self.admission.release(batch_id)
                        continue
                    await self._admit(record, point)
            for record, point in suspects:
                while self._isolated and not self._stopping:
                    await self._wait_for_change()
                if not await self._room() or not await self._may_admit(batch_id):
                    break
                self._isolated = record.id
                await self._admit(record, point)
                if record.id not in self._live:
                    self._isolated = None  # ended at admission (or had nothing left)
            while self._live:
                await self._wait_for_change()
            self._task_group = None
        await self.store.flush()
        return self.progress

    async def _may_admit(self, batch_id: str) -> bool:
        """The budget and the shared admission (the service's) agree to one more workflow.

        A slot taken here is given back when the workflow is released, or at once
        when its admission ends it without making it live.
        """
        if self.budget is not None and await self._held():
            return False
        return self.admission is None or await self.admission.acquire(batch_id)

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

    async def _resume_point(self, record: WorkflowRecord) -> ResumePoint:
        """Where the workflow stands; a fresh one (pending, no step yet) has no history to read.

        Its attempts would be recorded only after its admission state, which the
        writer commits first; ``--refresh`` renumbers old attempts out of the way.
        """
        if record.state == PENDING and record.step is None:
            return ResumePoint()
        return await self.store.resume_point(record)

    async def _room(self) -> bool:
        """Wait for a free admission slot; ``False`` once stopping."""
        while len(self._live) >= self.concurrency and not self._stopping:
            await self._wait_for_change()
        return not self._stopping

    def _suspect(self, record: WorkflowRecord, point: ResumePoint) -> bool:
        """A step interrupted twice may be what kills the process: it runs alone.

        Alone among suspects, that is: one suspect in flight at a time, beside
        ordinary workflows. A step that kills its process then adds at most one
        crash to the workflows beside it, never the several that would make
        them suspects in turn, so only the culprit reaches ``max_crashes``.
        """
        step = self._first_unfinished(point)
        if step is None:
            return False
        crashes = point.steps.get(step.name, StepHistory()).crashes
        return ISOLATE_AFTER <= crashes < self.max_crashes

    def _first_unfinished(self, point: ResumePoint) -> Step | None:
        return next((s for s in self.spec.steps if s.name not in point.outputs), None)

    def stop(self) -> None:
        """Start no new step and schedule no retry; steps already running finish and commit."""
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

    async def _admit(self, record: WorkflowRecord, point: ResumePoint) -> None:
        steps = self.spec.steps
        index = next((i for i, s in enumerate(steps) if s.name not in point.outputs), len(steps))
        if index == len(steps):
            await self._settle(record, point)
            if self.admission is not None:
                self.admission.release(record.batch_id)
            return
        step = steps[index]
        history = point.steps.get(step.name, StepHistory())
        if index == 0:
            first = self.spec.start(record.company, record.id, record.batch_id)
        else:
            first = decode_event(point.outputs[steps[index - 1].name])
        retry_base = record.retry_base if record.step == step.name else 0
        attempt = history.last_attempt + 1
        root: tuple[str, str] | None = None
        if self.tracer is not None:
            traced = self.tracer.begin(record)
            if traced is not None:
                root, carrier = traced
                first = first.model_copy(update={"trace_context": carrier})
        if attempt > 1 or record.step == step.name:
            # A run before this one may have published this input already: under its
            # old id a broker would drop it as a duplicate (its answers, if any came
            # before this admission, were let go as stale) and the step never run.
            first = first.model_copy(update={"attempt": attempt, "event_id": new_event_id()})
        live = _Live(record, index, first, attempt, retry_base, history.failures, record.state)
        self._live[record.id] = live
        self.progress.in_flight = len(self._live)
        if history.crashes >= self.max_crashes:
            reason = (
                f"{step.name} was interrupted {history.crashes} times by the process stopping"
                " or crashing mid-step; it is not tried again (salesbus retry to force it)"
            )
            await self._fail(live, step, reason)
            return
        if history.failures >= self.retry.max_attempts:
            await self._fail(live, step, "the retry budget was used up before the restart")
            return
        self.store.enqueue(
            [
                self.store.set_state(
                    record.id, step.state, step=step.name, retry_base=retry_base, trace=root
                )
            ],
            owner=record.id,
        )
        self._move(live, step.state)
        await self.bus.publish(first)

    async def _settle(self, record: WorkflowRecord, point: ResumePoint) -> None:
        """Every step done but the state not final (an older run's write lost): decide it now."""
        last = decode_event(point.outputs[self.spec.steps[-1].name])
        reason = self.spec.needs_approval(last)
        outcome = AWAITING_APPROVAL if reason else COMPLETED
        logger.warning("workflow %s had every step done in state %s", record.id, record.state)
        try:
            await self.store.commit([self.store.set_state(record.id, outcome, reason=reason)])
        except StoreError as exc:
            logger.error("workflow %s: could not record its outcome: %s", record.id, exc)
            self.progress.unrecorded += 1
            return
        self.progress.move(record.state, outcome)

    def _may_start(self, event: Event) -> bool:
        """The agent runtime asks before each step: after :meth:`stop`, nothing new starts.

        A step input still queued when the run stops is let go here; its
        workflow is parked where it is and the next run starts that step.
        """
        if not self._stopping:
            return True
        live = self._live.get(event.correlation_id or "")
        if live is not None and live.input.event_id == event.event_id:
            self._release(live, live.state)
        return False

    # -- reacting to status events -------------------------------------------------

    def _current(self, event: StepEvent) -> tuple[_Live, Step] | None:
        """The live workflow this status event is about, if it is its current attempt."""
        live = self._live.get(event.correlation_id or "")
        if live is None or live.ending:
            return None
        step = self.spec.steps[live.index]
        if step.name != event.step or live.attempt != event.attempt:
            logger.debug("stale status event %s for %s", type(event).__name__, live.record.id)
            return None
        return live, step

    async def _on_started(self, event: StepStarted) -> None:
        found = self._current(event)
        if found is None:
            return
        self.faults.maybe_raise_in_handler("started")
        live, step = found
        started = self.store.attempt_started(live.record.id, step.name, event.attempt, live.input)
        if self.faults.kills_step(step.name, live.record.company.name):
            await self.store.commit([started])
            self.faults.kill_now()
        self.store.enqueue([started], owner=live.record.id)

    async def _on_succeeded(self, event: StepSucceeded) -> None:
        found = self._current(event)
        if found is None:
            return
        self.faults.maybe_raise_in_handler("succeeded")
        live, step = found
        self._count_usage(event)
        finished = self.store.attempt_finished(
            live.record.id,
            step.name,
            event.attempt,
            status="succeeded",
            duration_ms=event.duration_ms,
            usage=event.usage.model_dump(),
        )
        stored = self.store.step_output(
            live.record.id, step.name, event.attempt, event.output, live.input
        )
        if live.index + 1 < len(self.spec.steps):
            following = self.spec.steps[live.index + 1]
            moved = self.store.set_state(live.record.id, following.state, step=following.name)
            if not await self._commit_success(live, step, [finished, stored, moved]):
                return
            if live.ending:
                return  # failed meanwhile by a failure hook: that ends it
            live.index += 1
            live.input = event.output
            live.attempt, live.retry_base, live.failures = 1, 0, 0
            self._move(live, following.state)
            if self._stopping:
                self._release(live, following.state)  # parked: the next run starts this step
                return
            await self.bus.publish(event.output)
            return
        reason = self.spec.needs_approval(event.output)
        outcome = AWAITING_APPROVAL if reason else COMPLETED
        moved = self.store.set_state(live.record.id, outcome, reason=reason)
        if not await self._commit_success(live, step, [finished, stored, moved]) or live.ending:
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

    async def _commit_success(self, live: _Live, step: Step, statements: list[Statement]) -> bool:
        counts = await self._commit(live, step, statements)
        if counts is None:
            return False
        if counts[0]:
            return True
        # The database refused a second success for this step: another attempt
        # (a redelivery, or a process that ran without the lease) got there
        # first. Let the workflow go; the next run resumes from what is stored.
        logger.warning("ignored a second success of %s of %s", step.name, live.record.id)
        if not live.ending:
            self._release(live, live.state)
        return False

    async def _commit(
        self, live: _Live, step: Step, statements: list[Statement]
    ) -> list[int] | None:
        """Commit, or fail the workflow with the store's error (``None``)."""
        try:
            return await self.store.commit(statements)
        except StoreError as exc:
            await self._fail(live, step, f"{step.name}: could not store the outcome: {exc}")
            return None

    async def _on_skipped(self, event: StepSkipped) -> None:
        found = self._current(event)
        if found is None:
            return
        self.faults.maybe_raise_in_handler("skipped")
        live, step = found
        self._count_usage(event)
        outcome = event.outcome if event.outcome in TERMINAL_STATES else DISQUALIFIED
        finished = self.store.attempt_finished(
            live.record.id,
            step.name,
            event.attempt,
            status="skipped",
            duration_ms=event.duration_ms,
            usage=event.usage.model_dump(),
        )
        moved = self.store.set_state(live.record.id, outcome, step=step.name, reason=event.reason)
        if await self._commit(live, step, [finished, moved]) is None or live.ending:
            return
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
        self.faults.maybe_raise_in_handler("failed")
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
        live.failures += 1
        if event.error.retryable and self.retry.allows(live.failures):
            if await self._commit(live, step, [finished]) is None or live.ending:
                return
            if self._stopping:
                self._release(live, live.state)  # parked: the next run resumes it
                return
            delay = self.retry.delay(live.failures, event.error.retry_after)
            live.attempt = event.attempt + 1
            live.input = live.input.model_copy(
                update={"attempt": live.attempt, "event_id": new_event_id()}
            )
            assert self._task_group is not None
            self._task_group.start_soon(self._retry_later, live, step, delay)
            return
        why = "permanent error" if not event.error.retryable else f"{live.failures} attempts"
        reason = f"{step.name} failed ({why}): {event.error.kind}: {event.error.message}"
        await self._fail(live, step, reason, cause=event.event_id, with_=[finished])

    async def _retry_later(self, live: _Live, step: Step, delay: float) -> None:
        with anyio.move_on_after(delay):
            await self._stopped.wait()
        if self._live.get(live.record.id) is not live or live.ending:
            return  # failed meanwhile
        if self._stopping:
            self._release(live, live.state)
            return
        self.progress.retries += 1
        try:
            await self.bus.publish(live.input)
        except Exception as exc:  # the bus closed under us: nothing else will end it
            await self._fail(live, step, f"{step.name}: the retry could not be sent: {exc!r}")

    async def _fail(
        self,
        live: _Live,
        step: Step,
        reason: str,
        cause: str | None = None,
        with_: list[Statement] | None = None,
    ) -> None:
        """End the workflow ``failed`` with ``reason``; if even that cannot be stored, let it go.

        A workflow whose failure cannot be written stays in its step state in the
        database and is resumed by the next run; this run does not wait for it.
        """
        if self._live.get(live.record.id) is not live or live.ending:
            return
        live.ending = True
        failed = self.store.set_state(live.record.id, FAILED, step=step.name, reason=reason)
        try:
            await self.store.commit(
                [*(with_ or ()), failed, self.store.cut_off_running_attempts(live.record.id)]
            )
        except StoreError as exc:
            logger.error(
                "workflow %s: could not record its failure (%s): %s", live.record.id, exc, reason
            )
            self.progress.unrecorded += 1
            self._release(live, live.state)
            return
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

    # -- failures outside the reactions' own paths --------------------------------------

    async def _on_handler_failure(self, failure: HandlerFailure) -> None:
        """An exception escaped a reaction or a step: fail its workflow with the reason."""
        name = failure.subscription.name
        event = failure.event
        logger.error(
            "handler %s failed on %s %s",
            name,
            type(event).type_name,
            event.event_id,
            exc_info=failure.exception,
        )
        if name == "orchestrator:event-log" or not name.startswith(("orchestrator:", "agent:")):
            return  # an application's own subscriber: its failure is not the workflow's
        live = self._live.get(event.correlation_id or "")
        if live is None:
            return
        if isinstance(event, StepEvent):
            if self._current(event) is None:
                return
        elif event.event_id != live.input.event_id:
            return
        step = self.spec.steps[live.index]
        error = failure.exception
        reason = f"{step.name}: internal error in {name}: {type(error).__name__}: {error}"
        await self._fail(live, step, reason, cause=event.event_id)

    def _on_lost_write(self, owner: str | None, error: BaseException) -> None:
        live = self._live.get(owner or "")
        if live is None or self._task_group is None:
            return
        step = self.spec.steps[live.index]
        reason = f"{step.name}: a store write failed {type(error).__name__}: {error}"
        self._task_group.start_soon(self._fail, live, step, reason)

    # -- bookkeeping ---------------------------------------------------------------

    def _log(self, event: Event) -> None:
        """Every event goes to the log: the service streams step status from it (SSE).

        A step's status event keeps only what that stream shows (its attempt
        row holds the rest): logged whole, they cost about 2 KB per company.
        """
        body = status_event_json(event, STATUS_FIELDS) if isinstance(event, StepEvent) else None
        self.store.log_event(event, body)

    def _move(self, live: _Live, state: str) -> None:
        self.progress.move(live.state, state)
        live.state = state

    def _release(self, live: _Live, state: str) -> None:
        self._move(live, state)
        if self._live.pop(live.record.id, None) is not None and self.admission is not None:
            self.admission.release(live.record.batch_id)
        if self._isolated == live.record.id:
            self._isolated = None
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
