"""Embedding the whole pipeline in an asyncio application.

::

    async with Pipeline(campaign, db="leads.db") as pipeline:
        pipeline.subscribe(WorkflowCompleted, on_done)
        results = await pipeline.run(companies)

The same runtime as ``salesbus run``: durable when given a file, resumable,
with retries and approvals; results come back as :class:`WorkflowResult`.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from salesbus.agents.campaign import Campaign
from salesbus.agents.models import Analysis, Company, Outreach
from salesbus.agents.providers.base import Provider
from salesbus.bus import Event, Handler

from .approval import final_output
from .batch import PreparedBatch
from .engine import BatchProgress, Orchestrator
from .runner import Instrumentation, RunSettings, run_batch
from .store import Store, open_store

__all__ = ["Pipeline", "WorkflowResult"]


@dataclass(frozen=True, slots=True)
class WorkflowResult:
    workflow_id: str
    company: Company
    state: str
    reason: str | None
    analysis: Analysis | None = None
    outreach: Outreach | None = None


@dataclass
class Pipeline:
    campaign: Campaign
    db: str | Path = ":memory:"
    """A file makes runs durable and resumable; the default keeps everything in memory."""
    settings: RunSettings = field(default_factory=lambda: RunSettings(llm="auto"))
    provider: Provider | None = None
    instrumentation: Instrumentation | None = None
    last_progress: BatchProgress | None = None
    _stack: AsyncExitStack | None = field(default=None, init=False, repr=False)
    _store: Store | None = field(default=None, init=False, repr=False)
    _handlers: list[tuple[type[Event], Handler[Any]]] = field(default_factory=list, init=False)

    async def __aenter__(self) -> Self:
        self._stack = AsyncExitStack()
        self._store = await self._stack.enter_async_context(open_store(self.db))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._stack is not None
        await self._stack.__aexit__(exc_type, exc, tb)

    def subscribe(self, event_type: type[Event], handler: Handler[Any]) -> None:
        """Receive the pipeline's events (domain and status) during every later ``run``."""
        self._handlers.append((event_type, handler))

    async def run(self, companies: Sequence[Company]) -> list[WorkflowResult]:
        """Run every company to a stop and return each one's result, in input order."""
        if self._store is None:
            raise RuntimeError("use `async with Pipeline(...) as pipeline:` before run()")
        store = self._store

        def wire(prepared: PreparedBatch, orchestrator: Orchestrator) -> None:
            for event_type, handler in self._handlers:
                orchestrator.bus.subscribe(event_type, handler)

        prepared, self.last_progress = await run_batch(
            store,
            companies,
            self.campaign,
            self.settings,
            provider=self.provider,
            instrumentation=self.instrumentation,
            on_start=wire,
        )
        results = []
        for workflow in await store.workflows(prepared.batch.id):
            drafted = await final_output(store, workflow.id)
            results.append(
                WorkflowResult(
                    workflow_id=workflow.id,
                    company=workflow.company,
                    state=workflow.state,
                    reason=workflow.reason,
                    analysis=drafted.analysis if drafted else None,
                    outreach=drafted.outreach if drafted else None,
                )
            )
        return results
