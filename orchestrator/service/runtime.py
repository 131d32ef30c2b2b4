"""The service's runtime: every batch of the process runs here, sharing one set of parts.

One store, one model provider per model (with its limiter), one fair
admission (the in-flight limit) and one task group own all batches; each
batch has an :class:`~salesbus.orchestrator.engine.Orchestrator` on its own bus
that asks the shared admission before admitting a workflow. A batch is
started when it is submitted, when a retry reopens one of its workflows, and
when the service starts and finds it unfinished.

Ownership across processes is the store's lease (:mod:`..lease`): each batch's
``run_batch`` holds the lease of its campaign and model under this process's
one owner name, so the service's batches share it with each other and a
``salesbus run`` of the same workflows is refused (and vice versa). A batch
whose lease another live process holds is not run; the log and the batch's
``error`` say who holds it.

On a broker transport (``--transport nats://…``) the agents run in ``salesbus
worker`` processes and each batch's orchestrator pulls its status events from
the broker's durable consumers, which are named per subscription, not per
batch: two batches' orchestrators would share them and take each other's
events. So there the service runs its batches one after another, in the order
they were started.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import TaskGroup

from salesbus.agents.campaign import Campaign
from salesbus.agents.models import Company
from salesbus.agents.providers.base import Provider
from salesbus.agents.providers.factory import ProviderChoice, resolve_choice

from ..batch import PreparedBatch, prepare_batch
from ..engine import Orchestrator
from ..lease import LeaseHeld
from ..retrying import reopen
from ..runner import Instrumentation, RunSettings, build_provider, run_batch
from ..states import AWAITING_APPROVAL, FAILED, TERMINAL_STATES
from ..store import Store, WorkflowRecord
from ..transports import is_broker
from .admission import FairAdmission

__all__ = ["BatchLimits", "NotRetryable", "ServiceRuntime", "Submission"]

logger = logging.getLogger("salesbus.service")

ORIGIN = "service"
"""``settings["origin"]`` of batches the service created (shown, not used to pick what runs)."""


HOLD_ENV = "SALESBUS_FAULT_HOLD_RUNTIME_LOOP"
"""Fault injection: a file path. Each batch's runner then starts by blocking the runtime's
event loop (a step that holds the loop) until that file exists; see :func:`hold_loop`."""


def hold_loop(release: Path, limit: float = 60.0) -> None:
    """Block the calling thread's event loop until ``release`` exists (``limit`` s at most).

    Writes ``<release>.held`` first, so a test knows the loop is held before it
    checks that the HTTP side still answers.
    """
    logger.warning("fault: holding the runtime loop until %s exists", release)
    release.with_name(release.name + ".held").touch()
    deadline = time.monotonic() + limit
    while not release.exists() and time.monotonic() < deadline:
        time.sleep(0.01)


class NotRetryable(Exception):
    """Only a failed workflow can be retried."""


@dataclass(frozen=True, slots=True)
class BatchLimits:
    """What a batch may set for itself; ``None`` keeps the service's setting."""

    concurrency: int | None = None
    max_attempts: int | None = None
    step_timeout: float | None = None

    def as_settings(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in (
                ("concurrency", self.concurrency),
                ("max_attempts", self.max_attempts),
                ("step_timeout", self.step_timeout),
            )
            if v is not None
        }


@dataclass(frozen=True, slots=True)
class Submission:
    batch: PreparedBatch
    started: bool
    """``False`` when nothing of it was left to run (or it was already running)."""


@dataclass
class _Running:
    orchestrator: Orchestrator | None = None
    cancelled: bool = False
    again: bool = False
    """A retry reopened workflows while the batch ran: run it once more at the end."""
    started_at: float = field(default_factory=time.monotonic)
    finished_at_start: int | None = None


class ServiceRuntime:
    def __init__(
        self,
        store: Store,
        settings: RunSettings,
        *,
        instrumentation: Instrumentation | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.instrumentation = instrumentation
        self.admission = FairAdmission(settings.concurrency)
        self.failures: dict[str, str] = {}
        """Batches whose runner stopped on an unexpected error, and the error."""
        self._running: dict[str, _Running] = {}
        self._providers: dict[tuple[str, str | None], Provider] = {}
        self._group: TaskGroup | None = None
        self._stopping = False
        self._idle = anyio.Event()
        self._cancelled: set[str] = set()
        self._one_at_a_time = anyio.Lock() if is_broker(settings.transport) else None
        hold = os.environ.get(HOLD_ENV)
        self._hold = Path(hold) if hold else None

    # -- lifecycle -----------------------------------------------------------------

    async def serve(self, group: TaskGroup, resume: Sequence[str] = ()) -> None:
        """Start running inside ``group``; resume the given unfinished batches, whoever made them.

        A batch made by ``salesbus run`` is resumed too: the lease, not the
        origin, decides who runs it; one still held by a live run is skipped
        (and logged) when its runner fails to take the lease.
        """
        self._group = group
        for batch_id in resume:
            self._start(batch_id)

    def stop(self) -> None:
        """Admit nothing more in any batch; in-flight steps run to their end."""
        self._stopping = True
        for batch_id, running in self._running.items():
            self.admission.withdraw(batch_id)
            if running.orchestrator is not None:
                running.orchestrator.stop()

    async def wait_idle(self) -> None:
        """Until no batch runs (after :meth:`stop`, in-flight steps settle)."""
        if self._running:
            await self._idle.wait()

    async def aclose(self) -> None:
        for provider in self._providers.values():
            with anyio.CancelScope(shield=True):
                await provider.aclose()
        self._providers.clear()

    @property
    def stopping(self) -> bool:
        return self._stopping

    # -- batches -------------------------------------------------------------------

    async def submit(
        self,
        companies: Sequence[Company],
        campaign: Campaign,
        *,
        model: str | None = None,
        limits: BatchLimits | None = None,
        leads_digest: str | None = None,
        leads_name: str | None = None,
    ) -> Submission:
        """Record the batch (or find it: the same leads, campaign and model) and run it."""
        provider = self._provider(resolve_choice(self.settings.llm), model)
        prepared = await prepare_batch(
            self.store,
            companies,
            campaign,
            provider=provider.name,
            model=provider.model,
            leads_path=leads_name,
            leads_digest=leads_digest,
            settings={
                "origin": ORIGIN,
                "requested_model": model,
                **(limits or BatchLimits()).as_settings(),
            },
        )
        started = await self._has_work(prepared.batch.id) and self._start(prepared.batch.id)
        return Submission(prepared, started)

    @property
    def running_batches(self) -> list[str]:
        return list(self._running)

    def running(self, batch_id: str) -> bool:
        return batch_id in self._running

    def cancelled(self, batch_id: str) -> bool:
        """Cancelled in this process and not started again since."""
        return batch_id in self._cancelled

    def progress_rate(self, batch_id: str, finished: int) -> float | None:
        """Workflows finished per second by this runner so far (``None`` before any)."""
        running = self._running.get(batch_id)
        if running is None:
            return None
        if running.finished_at_start is None:
            running.finished_at_start = finished
            return None
        done = finished - running.finished_at_start
        elapsed = time.monotonic() - running.started_at
        return done / elapsed if done > 0 and elapsed > 0 else None

    async def cancel(self, batch_id: str) -> bool:
        """Stop admitting the batch's workflows; in-flight steps finish. ``False``: not running.

        Async so that it is called on this runtime's loop (the admission's events are its)."""
        running = self._running.get(batch_id)
        if running is None:
            return False
        running.cancelled = True
        running.again = False
        self._cancelled.add(batch_id)
        self.admission.withdraw(batch_id)
        if running.orchestrator is not None:
            running.orchestrator.stop()
        return True

    async def retry(self, workflow: WorkflowRecord) -> WorkflowRecord:
        """Reopen a failed workflow at its failed step with a fresh budget, and run it."""
        if workflow.state != FAILED:
            raise NotRetryable(f"workflow {workflow.id} is {workflow.state}, not failed")
        await self.store.commit([await reopen(self.store, workflow.id, workflow.step)])
        running = self._running.get(workflow.batch_id)
        if running is not None:
            running.again = True
        else:
            self._start(workflow.batch_id)
        return await self.store.workflow(workflow.id)

    # -- running -------------------------------------------------------------------

    def _start(self, batch_id: str) -> bool:
        """Run the batch in the service's task group unless this process already runs it.

        Within the process this set is the guard; across processes it is the
        lease ``run_batch`` takes.
        """
        if self._group is None or self._stopping or batch_id in self._running:
            return False
        self.admission.readmit(batch_id)
        self._cancelled.discard(batch_id)
        self._running[batch_id] = _Running()
        self.failures.pop(batch_id, None)
        self._group.start_soon(self._run, batch_id)
        return True

    async def _run(self, batch_id: str) -> None:
        running = self._running[batch_id]
        try:
            while True:
                running.again = False
                await self._run_once(batch_id, running)
                if not running.again or running.cancelled or self._stopping:
                    break
        except LeaseHeld as held:
            message = f"skipped: its workflows are being run by {held.owner} ({held.scope})"
            logger.warning("batch %s %s", batch_id, message)
            self.failures[batch_id] = message
        except Exception as exc:  # a runner's crash must not take the service down
            logger.exception("batch %s stopped on an error", batch_id)
            self.failures[batch_id] = f"{type(exc).__name__}: {exc}"
        finally:
            self._running.pop(batch_id, None)
            if not self._running:
                self._idle.set()
                self._idle = anyio.Event()

    async def _run_once(self, batch_id: str, running: _Running) -> None:
        if self._hold is not None:
            hold_loop(self._hold)
        record = await self.store.batch(batch_id)
        campaign = Campaign.model_validate_json(record.campaign_json)
        limits = record.settings
        llm: ProviderChoice = "offline" if record.provider == "offline" else "anthropic"
        settings = replace(
            self.settings,
            llm=llm,
            model=limits.get("requested_model"),
            # Never more than it has to run: each slot of a batch's own limit costs
            # bus workers, and the shared admission is what bounds the service.
            concurrency=max(
                1,
                min(
                    int(limits.get("concurrency", self.settings.concurrency)),
                    self.settings.concurrency,
                    await self._runnable(batch_id),
                ),
            ),
            max_attempts=int(limits.get("max_attempts", self.settings.max_attempts)),
            step_timeout=limits.get("step_timeout", self.settings.step_timeout),
        )

        def started(prepared: PreparedBatch, orchestrator: Orchestrator) -> None:
            running.orchestrator = orchestrator
            if running.cancelled or self._stopping:
                orchestrator.stop()

        async with self._one_at_a_time or nullcontext():
            await run_batch(
                self.store,
                [],
                campaign,
                settings,
                batch_id=batch_id,
                provider=self._provider(llm, settings.model),
                instrumentation=self.instrumentation,
                on_start=started,
                admission=self.admission,
                close_provider=False,
            )
        running.orchestrator = None

    async def _runnable(self, batch_id: str) -> int:
        """Workflows of the batch neither finished nor waiting for a person."""
        counts = await self.store.state_counts(batch_id)
        return sum(
            n for s, n in counts.items() if s not in TERMINAL_STATES and s != AWAITING_APPROVAL
        )

    async def _has_work(self, batch_id: str) -> bool:
        return await self._runnable(batch_id) > 0

    def _provider(self, llm: ProviderChoice, model: str | None) -> Provider:
        """One provider (and limiter) per model, kept open for every batch that uses it."""
        key = (llm, model)
        if key not in self._providers:
            # Tracing wraps it per run (run_batch), outside the limiter.
            self._providers[key] = build_provider(replace(self.settings, llm=llm, model=model))
        return self._providers[key]
