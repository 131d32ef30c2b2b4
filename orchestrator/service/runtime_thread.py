"""The runtime's own thread and event loop, and the hand-off into it from the HTTP loop.

Every batch's CPU work (the rules provider, quality checks, event encoding,
store rows) runs on the runtime's event loop. When HTTP shared that loop, a
dashboard's ``GET /batches/{id}`` waited behind it: p99 146 ms while 16
batches ran. So the two are apart: uvicorn keeps the main thread and its loop,
and the runtime (store writer, buses, orchestrators, admission) runs on a
thread of its own with its own loop, started by anyio's blocking portal.

It is the runtime that moves, not uvicorn, because only the main thread may
install signal handlers: uvicorn's SIGTERM handling, and so the drain on
SIGTERM, stay exactly as they were.

Two threads in one process still share the GIL, so the process is also tuned
for a read's latency (:func:`_latency_first`): a thread waiting for the GIL
gets it after 0.5 ms instead of 5 ms, and what is alive after start-up is
frozen out of the garbage collector's full collections. Measured while 16
batches ran (benchmarks/README.md): the thread alone took ``GET /batches/{id}``
p99 from 146 ms to 98–128 ms; a full collection walking the start-up heap held
the GIL for 70–250 ms, and each of a request's GIL hand-offs waited up to 5 ms.

The HTTP side reads through its own read-only connection (:mod:`.reads`).
Whatever writes or touches a batch's bus — submit, cancel, retry, decisions —
is handed to the runtime loop through the portal and awaited on the HTTP loop
without blocking it. The runtime's status (running, cancelled, failures, the
in-flight count) is read across the threads as plain values: each read is one
dictionary lookup or attribute, atomic under the GIL, and nothing on the HTTP
side changes that state.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from functools import partial
from pathlib import Path
from typing import TypeVar, TypeVarTuple, Unpack

import anyio
from anyio.from_thread import BlockingPortal, start_blocking_portal

from salesbus.agents.campaign import Campaign
from salesbus.agents.models import Company

from ..runner import Instrumentation, RunSettings
from ..store import Store, WorkflowRecord, open_store
from .batch_rollup import install_rollup
from .reads import open_reads
from .runtime import BatchLimits, ServiceRuntime, Submission

__all__ = ["RuntimeThread", "runtime_thread"]

SWITCH_INTERVAL = 0.0005
"""Seconds a thread holds the GIL while another waits for it (Python's default: 0.005)."""

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


class RuntimeThread:
    """The HTTP side's handle on the runtime: status reads, and actions run on its loop."""

    def __init__(self, portal: BlockingPortal, runtime: ServiceRuntime) -> None:
        self._portal = portal
        self._runtime = runtime

    async def call(self, func: Callable[[Unpack[Ts]], Awaitable[T]], *args: *Ts) -> T:
        """``await func(*args)`` on the runtime loop; this (HTTP) loop stays free meanwhile.

        Cancelling the caller cancels the call on the runtime loop too.
        """
        # uvicorn runs asyncio, so the portal's concurrent future is awaited as an asyncio one.
        return await asyncio.wrap_future(self._portal.start_task_soon(func, *args))

    async def with_store(self, func: Callable[[Store, Unpack[Ts]], Awaitable[T]], *args: *Ts) -> T:
        """``await func(store, *args)`` on the runtime loop, with the store that writes."""
        return await self.call(func, self._runtime.store, *args)

    # -- actions (on the runtime loop) ----------------------------------------------------

    async def submit(
        self,
        companies: Sequence[Company],
        campaign: Campaign,
        *,
        model: str | None,
        limits: BatchLimits,
        leads_digest: str | None,
        leads_name: str | None,
    ) -> Submission:
        return await self.call(
            partial(
                self._runtime.submit,
                companies,
                campaign,
                model=model,
                limits=limits,
                leads_digest=leads_digest,
                leads_name=leads_name,
            )
        )

    async def cancel(self, batch_id: str) -> bool:
        return await self.call(self._runtime.cancel, batch_id)

    async def retry(self, workflow: WorkflowRecord) -> WorkflowRecord:
        return await self.call(self._runtime.retry, workflow)

    # -- status (plain values read across the threads) ------------------------------------

    def running(self, batch_id: str) -> bool:
        return self._runtime.running(batch_id)

    def cancelled(self, batch_id: str) -> bool:
        return self._runtime.cancelled(batch_id)

    def failure(self, batch_id: str) -> str | None:
        return self._runtime.failures.get(batch_id)

    def progress_rate(self, batch_id: str, finished: int) -> float | None:
        return self._runtime.progress_rate(batch_id, finished)

    @property
    def running_batches(self) -> int:
        return len(self._runtime.running_batches)

    @property
    def in_flight(self) -> int:
        return self._runtime.admission.in_flight

    @property
    def stopping(self) -> bool:
        return self._runtime.stopping


@asynccontextmanager
async def runtime_thread(
    db: Path,
    settings: RunSettings,
    *,
    grace_seconds: float,
    instrumentation: Instrumentation | None = None,
) -> AsyncIterator[RuntimeThread]:
    """Start the runtime on its own thread: open the store, resume unfinished batches.

    On exit: admit nothing more, give in-flight steps ``grace_seconds`` to end,
    close the store (its writes flushed) and stop the thread. Entering and
    leaving block on the portal, so they run in a worker thread, never on the
    HTTP loop.
    """
    portal_context = start_blocking_portal()
    portal = await anyio.to_thread.run_sync(portal_context.__enter__)
    try:
        running = portal.wrap_async_context_manager(
            _runtime(db, settings, grace_seconds, instrumentation)
        )
        runtime = await anyio.to_thread.run_sync(running.__enter__)
        try:
            with _latency_first():
                yield RuntimeThread(portal, runtime)
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(running.__exit__, None, None, None)
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(portal_context.__exit__, None, None, None)


@contextmanager
def _latency_first() -> Iterator[None]:
    """While the service runs: GIL hand-offs every 0.5 ms, and the start-up heap frozen.

    Both are process-wide and undone on exit. Freezing moves every object alive now
    (modules, classes, schemas, the application) out of the collector's reach, so a
    full collection walks only what batches made since.
    """
    previous = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL)
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
        sys.setswitchinterval(previous)


@asynccontextmanager
async def _runtime(
    db: Path,
    settings: RunSettings,
    grace_seconds: float,
    instrumentation: Instrumentation | None,
) -> AsyncIterator[ServiceRuntime]:
    """The runtime's whole life, on the runtime loop (entered through the portal).

    The usage rollup is recomputed and re-armed before anything runs or is read
    (:mod:`.batch_rollup`)."""
    async with open_store(db) as store:
        await install_rollup(store)
        runtime = ServiceRuntime(store, settings, instrumentation=instrumentation)
        try:
            async with open_reads(store.path) as reads:
                resume = await reads.unfinished_batches()
            async with anyio.create_task_group() as group:
                await runtime.serve(group, resume=resume)
                try:
                    yield runtime
                finally:
                    runtime.stop()
                    with anyio.move_on_after(grace_seconds):
                        await runtime.wait_idle()
                    group.cancel_scope.cancel()
        finally:
            await runtime.aclose()
