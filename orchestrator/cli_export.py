"""``salesbus export`` and ``prune``: a batch's results out (JSONL, or the CRM CSV), and a finished
batch's event-log bodies dropped."""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path
from typing import Annotated, Literal

import typer

from .cli import DbOption, _existing, _fail, _guard, _run, app, err, out
from .export import export_batch
from .sales import STEP_STATES
from .states import AWAITING_APPROVAL, PENDING, TERMINAL_STATES, parse_states


@app.command("export")
def export_(
    batch: Annotated[
        str | None, typer.Argument(help="Batch id or prefix (default: latest).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv.")] = "jsonl",
    status_filter: Annotated[
        str | None, typer.Option("--status", help="Only these states, comma-separated.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="File (default stdout).")
    ] = None,
    excel: Annotated[
        bool, typer.Option("--excel", help="CSV starting with a UTF-8 BOM, for Windows Excel.")
    ] = False,
    db: DbOption = Path("salesbus.db"),
) -> None:
    """Export workflows with their state and reason; `--status completed --format csv` for a CRM."""
    if fmt not in ("jsonl", "csv"):
        raise typer.BadParameter("choose jsonl or csv", param_hint="--format")
    states = _states(status_filter) if status_filter is not None else None
    kind: Literal["jsonl", "csv"] = "csv" if fmt == "csv" else "jsonl"
    if output is not None and not output.parent.is_dir():
        _guard(partial(_fail, f"cannot write {output}: no folder {output.parent}"))

    async def main() -> int:
        async with _existing(db) as store:
            record = await store.batch(batch)
            if output is None:
                return await export_batch(
                    store,
                    record.id,
                    sys.stdout,
                    fmt=kind,
                    states=states,
                    excel=excel,
                )
            with output.open("w", encoding="utf-8", newline="") as handle:
                return await export_batch(
                    store,
                    record.id,
                    handle,
                    fmt=kind,
                    states=states,
                    excel=excel,
                )

    count = _run(main)
    err.print(f"exported {count} workflow(s)" + (f" to {output}" if output else ""))


@app.command()
def prune(
    batch: Annotated[str, typer.Argument(help="Batch id or prefix.")],
    db: DbOption = Path("salesbus.db"),
) -> None:
    """Drop a finished batch's event-log bodies (outputs are stored once and kept)."""

    async def main() -> int:
        async with _existing(db) as store:
            record = await store.batch(batch)
            return await store.prune(record.id)

    changed = _run(main)
    out.print(f"pruned {changed} row(s)")


def _states(text: str) -> list[str]:
    known = {PENDING, AWAITING_APPROVAL, *TERMINAL_STATES, *STEP_STATES}
    try:
        return parse_states(text, known)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--status") from None
