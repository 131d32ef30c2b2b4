"""``salesbus status``, ``show`` and ``metrics``: what a batch and its workflows did, read from
the store (nothing created: ``--db`` must exist)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Column, Table

from salesbus.bus import decode_event

from . import approval
from .cli import TRANSPORT, DbOption, WorkflowArg, _existing, _run, app, out
from .metrics import batch_metrics
from .progress import render_metrics
from .safe_text import safe
from .states import AWAITING_APPROVAL, FAILED
from .transports import is_broker


@app.command()
def status(
    batch: Annotated[
        str | None, typer.Argument(help="Batch id or prefix (default: latest).")
    ] = None,
    db: DbOption = Path("salesbus.db"),
    transport: Annotated[str, TRANSPORT] = "memory",
) -> None:
    """Counts by state for a batch, and the workflows waiting for a person (and, on a broker,
    the live workers and the stream's depth)."""

    async def main() -> None:
        async with _existing(db) as store:
            record = await store.batch(batch)
            counts = await store.state_counts(record.id)
            table = Table(
                "state",
                "workflows",
                title=safe(
                    f"batch {record.id} ({record.provider} {record.model}, {record.created_at})"
                ),
            )
            for state, count in sorted(counts.items()):
                table.add_row(state, str(count))
            out.print(table)
            for workflow in await store.workflows(record.id, [AWAITING_APPROVAL]):
                out.print(
                    f"  awaiting approval: {workflow.id}  {safe(workflow.company.name)}"
                    f"  ({safe(workflow.reason)})"
                )
            for workflow in await store.workflows(record.id, [FAILED]):
                out.print(
                    f"  failed: {workflow.id}  {safe(workflow.company.name)}"
                    f"  ({safe(workflow.reason)})"
                )
        if is_broker(transport):
            from .cli_worker import show_broker

            await show_broker(transport)

    _run(main)


@app.command()
def show(
    workflow: WorkflowArg,
    db: DbOption = Path("salesbus.db"),
    jaeger: Annotated[
        str, typer.Option(envvar="SALESBUS_JAEGER_URL", help="Jaeger UI base URL.")
    ] = "http://localhost:16686",
) -> None:
    """A workflow's steps, attempts, timings, errors and outputs."""

    async def main() -> None:
        async with _existing(db) as store:
            record = await store.workflow(workflow)
            out.print(
                f"[bold]{record.id}[/] {safe(record.company.name)} — {record.state}"
                + (f" ({safe(record.reason)})" if record.reason else "")
            )
            out.print(f"batch {record.batch_id}, lead line {record.company.line}")
            if record.trace_id:
                out.print(f"trace: {jaeger.rstrip('/')}/trace/{record.trace_id}")
            table = Table(  # fits 80 columns: nothing but the error text is ever cut
                *(Column(h, no_wrap=True) for h in ("step", "try", "status", "started")),
                *(Column(h, no_wrap=True, justify="right") for h in ("ms", "tokens", "cost $")),
                Column("error", overflow="fold", min_width=5),
                box=box.SIMPLE_HEAD,
                padding=(0, 1, 0, 0),
                pad_edge=False,
            )
            for attempt in await store.attempts(record.id):
                table.add_row(
                    attempt.step,
                    str(attempt.attempt),
                    attempt.status,
                    attempt.started_at[:19].replace("T", " "),
                    "-" if attempt.duration_ms is None else f"{attempt.duration_ms:.0f}",
                    str(
                        attempt.input_tokens
                        + attempt.cache_read_tokens
                        + attempt.cache_write_tokens
                        + attempt.output_tokens
                    ),
                    f"{attempt.cost_usd:.4f}",
                    safe(f"{attempt.error_kind}: {attempt.error_message}")
                    if attempt.error_kind
                    else "",
                )
            out.print(table)
            drafted = await approval.final_output(store, record.id)
            if drafted is not None:
                analysis = drafted.analysis
                out.print(
                    f"ICP score {analysis.icp_score} (tier {analysis.tier.value}),"
                    f" strategy {drafted.outreach.strategy.value},"
                    f" quality {drafted.outreach.quality.decision.value}"
                )
                for check in drafted.outreach.quality.failed:
                    out.print(f"  [yellow]{safe(check.rule)}[/]: {safe(check.detail)}")
                for message in drafted.outreach.messages:
                    title = f"{message.channel.value} {message.kind.value} day {message.day_offset}"
                    out.rule(title)
                    if message.subject:
                        out.print(f"Subject: {safe(message.subject)}")
                    out.print(safe(message.body, single_line=False))
            else:
                for attempt in reversed(await store.attempts(record.id)):
                    if attempt.output_json:
                        event = decode_event(attempt.output_json)
                        out.print(f"last output ({attempt.step}):")
                        out.print_json(event.model_dump_json(exclude={"trace_context"}))
                        break

    _run(main)


@app.command()
def metrics(
    batch: Annotated[
        str | None, typer.Argument(help="Batch id or prefix (default: latest).")
    ] = None,
    db: DbOption = Path("salesbus.db"),
) -> None:
    """Counts by status, success rate, p50/p95 per step, failure points, tokens and cost."""

    async def main() -> None:
        async with _existing(db) as store:
            record = await store.batch(batch)
            render_metrics(await batch_metrics(store, record.id), out)

    _run(main)
