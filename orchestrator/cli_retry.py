"""``salesbus retry``: failed workflows run again from the step that failed, with a fresh retry
budget and otherwise what the batch ran with."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator, Awaitable
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import anyio
import typer

from salesbus.agents.campaign import Campaign

from .batch import PreparedBatch
from .cli import CliError, DbOption, _choice, _existing, _run, app, out
from .cli_errors import ignore_interrupts
from .cli_supervise import OnStart, _summary, _supervised
from .engine import BatchProgress
from .retrying import reopen
from .runner import RunSettings, run_batch
from .states import FAILED


@app.command()
def retry(
    workflow: Annotated[str | None, typer.Argument(help="Workflow id or prefix.")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="Every failed workflow.")] = False,
    batch: Annotated[str | None, typer.Option(help="Batch for --failed (default: latest).")] = None,
    db: DbOption = Path("salesbus.db"),
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Default: what the batch ran with.")
    ] = None,
    max_attempts: Annotated[
        int | None, typer.Option(min=1, help="Default: what the batch ran with.")
    ] = None,
    retry_base: Annotated[float | None, typer.Option(help="Default: the batch's.")] = None,
    simulate_latency: Annotated[float | None, typer.Option(hidden=True)] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="If another run holds these workflows, wait for it.")
    ] = False,
) -> None:
    """Run failed workflows again, from the step that failed, with a fresh retry budget.

    Everything not given here is what the batch ran with.
    """
    if (workflow is None) == (not failed):
        raise typer.BadParameter("give a WORKFLOW or --failed, not both")

    async def main() -> bool:
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            stopped = await _retry(signals)
        if stopped:
            ignore_interrupts()
        return stopped

    async def _retry(signals: AsyncIterator[int]) -> bool:
        async with _existing(db) as store:
            if workflow is not None:
                targets = [await store.workflow(workflow)]
                batch_id = targets[0].batch_id
            else:
                batch_id = (await store.batch(batch)).id
                targets = await store.workflows(batch_id, [FAILED])
            not_failed = [t for t in targets if t.state != FAILED]
            if not_failed:
                raise CliError(f"{not_failed[0].id} is {not_failed[0].state}, not failed")
            if not targets:
                out.print("nothing to retry: no failed workflows")
                return False
            record = await store.batch(batch_id)
            campaign = Campaign.model_validate_json(record.campaign_json)
            await store.commit([await reopen(store, t.id, t.step) for t in targets])
            settings = RunSettings.from_record(
                record.settings,
                llm=_choice(record.provider),
                model=None if record.provider == "offline" else record.model,
                concurrency=concurrency,
                max_attempts=max_attempts,
                retry_base_delay=retry_base,
            )
            if simulate_latency is not None:
                settings = replace(
                    settings, simulation=replace(settings.simulation, latency=simulate_latency)
                )
            out.print(f"retrying {len(targets)} workflow(s) of batch {batch_id}")

            def drive(on_start: OnStart) -> Awaitable[tuple[PreparedBatch, BatchProgress]]:
                only = [t.id for t in targets]
                return run_batch(
                    store,
                    [],
                    campaign,
                    settings,
                    batch_id=batch_id,
                    only=only,
                    wait=wait,
                    on_start=on_start,
                )

            stopped, prepared, progress = await _supervised(drive, signals, store.path)
            _summary(prepared, progress, stopped, db)
            return stopped

    if _run(main):
        raise typer.Exit(130)
