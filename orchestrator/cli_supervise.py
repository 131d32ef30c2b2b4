"""The supervision ``run`` and ``retry`` share: a batch driven under a progress bar, Ctrl-C
received (never raised) by a watcher that outlives the work it stops, and the summary with
the commands to go on with. No command lives here, so both command modules import it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

import anyio

from .batch import PreparedBatch
from .cli import err, out
from .engine import BatchProgress, Orchestrator
from .progress import run_progress, state_line
from .safe_text import safe
from .states import AWAITING_APPROVAL, COMPLETED, FAILED, PENDING
from .store_check import StoreCheckError, watch_file

GRACE_SECONDS = 30.0


OnStart = Callable[[PreparedBatch, Orchestrator], Awaitable[None]]


async def _supervised(
    drive: Callable[[OnStart], Awaitable[tuple[PreparedBatch, BatchProgress]]],
    signals: AsyncIterator[int],
    store_path: str,
) -> tuple[bool, PreparedBatch, BatchProgress]:
    """Run ``drive`` with a progress bar; Ctrl-C stops admitting, a second one stops now.

    The signal watcher outlives the work it stops, so a third Ctrl-C during the
    shutdown is one more signal received, not a ``KeyboardInterrupt`` tearing
    through the store's threads. Stopped before the batch started, it raises
    ``KeyboardInterrupt`` once everything is closed (exit 130, resume command).
    A database file deleted or replaced meanwhile stops the run at once.
    """
    state: dict[str, Any] = {"stopped": False}
    work = anyio.CancelScope()

    async with anyio.create_task_group() as watching:
        watching.start_soon(_watch_signals, signals, work, state)
        with work:
            async with anyio.create_task_group() as tg:

                async def started(prepared: PreparedBatch, orchestrator: Orchestrator) -> None:
                    state["prepared"] = prepared
                    state["orchestrator"] = orchestrator
                    verb = "started" if prepared.created else "resumed"
                    err.print(
                        f"batch [bold]{prepared.batch.id}[/] {verb} ({prepared.batch.provider})"
                    )
                    tg.start_soon(run_progress, lambda: orchestrator.progress, err)
                    tg.start_soon(watch_file, store_path, partial(_vanished, work, state))

                state["result"] = await drive(started)
                tg.cancel_scope.cancel()
        watching.cancel_scope.cancel()
    if state.get("vanished"):
        raise StoreCheckError(
            f"{store_path} was deleted or replaced during the run: what it recorded is lost;"
            " run the same command again to redo it"
        )
    if "result" in state:
        prepared, progress = state["result"]
    elif "orchestrator" in state:  # stopped at once: drive was cancelled
        prepared, progress = state["prepared"], state["orchestrator"].progress
    else:
        raise KeyboardInterrupt
    return bool(state["stopped"]), prepared, progress


def _vanished(work: anyio.CancelScope, state: dict[str, Any]) -> None:
    state["vanished"] = True
    work.cancel()


async def _watch_signals(
    signals: AsyncIterator[int], work: anyio.CancelScope, state: dict[str, Any]
) -> None:
    async for _ in signals:
        orchestrator: Orchestrator | None = state.get("orchestrator")
        if state["stopped"] or orchestrator is None:
            state["stopped"] = True
            err.print("[red]stopping now[/]; unfinished steps will run again on resume")
            work.cancel()
            continue
        state["stopped"] = True
        orchestrator.stop()
        err.print(
            f"[yellow]stopping:[/] no new companies; in-flight steps get {GRACE_SECONDS:.0f}s"
            " to finish (Ctrl-C again to stop now)"
        )
        work.deadline = anyio.current_time() + GRACE_SECONDS


def _summary(prepared: PreparedBatch, progress: BatchProgress, stopped: bool, db: Path) -> None:
    batch = prepared.batch.id
    out.print(f"[bold]batch {batch}[/]: {state_line(progress)}")
    if progress.held:
        err.print(f"[yellow]stopped admitting[/]: {progress.held}")
    completed = progress.states.get(COMPLETED, 0)
    waiting = progress.states.get(AWAITING_APPROVAL, 0)
    failed = progress.states.get(FAILED, 0)
    out.print(f"results in {safe(db)}:")
    out.print(
        f"  salesbus export {batch} --db {safe(db)} --status completed --format csv -o outreach.csv"
        f"   ({completed} completed)"
    )
    if waiting:
        out.print(
            f"  salesbus status {batch} --db {safe(db)}   ({waiting} awaiting approval:"
            " salesbus approve|reject|edit WORKFLOW)"
        )
    if failed:
        out.print(f"  salesbus retry --failed --db {safe(db)}   ({failed} failed)")
    if not stopped and progress.states.get(PENDING, 0):
        out.print(f"  {progress.states[PENDING]} still pending")
