"""``salesbus estimate``: what a batch on Claude will cost, before anything is spent.

Registered on the ``salesbus`` app by one line in ``orchestrator/cli.py`` (this
module imports nothing of it at load time, so ``python -m`` of either works);
the work is :func:`salesbus.orchestrator.budget.estimate_batch`, which
``run --max-cost`` uses too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from salesbus.agents.campaign import Campaign
from salesbus.agents.models import Company

from .budget import Estimate, estimate_batch
from .store import open_store

__all__ = ["estimate"]

DEFAULT_MODEL = "claude-haiku-5-5"
"""The provider's default, named here so that estimating never imports the SDK."""


DbOption = Annotated[
    Path,
    typer.Option("--db", envvar="SALESBUS_DB", help="SQLite file of earlier batches."),
]


def estimate(
    leads: Annotated[Path, typer.Argument(help="Lead list: .csv, .tsv or .jsonl.")],
    campaign: Annotated[Path, typer.Option("--campaign", "-c", help="Campaign TOML file.")] = Path(
        "campaign.toml"
    ),
    model: Annotated[str | None, typer.Option(help="Claude model id (or SALESBUS_MODEL).")] = None,
    rpm: Annotated[
        float | None, typer.Option(help="Requests per minute to time the run at (default 50).")
    ] = None,
    db: DbOption = Path("salesbus.db"),
    column_map: Annotated[
        str | None,
        typer.Option("--map", help='Columns to read as fields, e.g. "Company Name=name".'),
    ] = None,
    batch_api: Annotated[
        bool, typer.Option("--batch-api", help="Priced as run --batch-api: Message Batches.")
    ] = False,
) -> None:
    """Calls, tokens, cost, cached share and time of a Claude batch, before spending anything.

    Figures per company come from earlier batches on the same model in --db when
    there are any, else from typical figures.
    """
    from .cli import _guard, _inputs, _run, out

    loaded, companies, _ = _guard(lambda: _inputs(leads, campaign, column_map))
    chosen = model or os.environ.get("SALESBUS_MODEL") or DEFAULT_MODEL
    history = db if db.exists() else None
    listed = list(companies)  # the estimate reads every company more than once
    result = _run(lambda: _estimate(listed, loaded, chosen, rpm, history, batch_api))
    for line in result.lines():
        out.print(line)


async def _estimate(
    companies: list[Company],
    campaign: Campaign,
    model: str,
    rpm: float | None,
    db: Path | None,
    batch: bool,
) -> Estimate:
    """``db``: a store holding earlier batches to measure from, if there is one."""
    if db is None:
        return await estimate_batch(
            companies, campaign, model, requests_per_minute=rpm, batch=batch
        )
    async with open_store(db) as store:
        return await estimate_batch(
            companies, campaign, model, store=store, requests_per_minute=rpm, batch=batch
        )
