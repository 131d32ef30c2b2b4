"""``salesbus approve``, ``reject`` and ``edit``: a person's decision on drafts awaiting approval,
each a compare-and-set on the store (see ``approval.py``)."""

from __future__ import annotations

import getpass
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from salesbus.agents.campaign import Campaign

from . import approval
from .cli import CliError, DbOption, NoteOption, WorkflowArg, _existing, _guard, _run, app, err, out
from .safe_text import safe
from .store import Store, open_store

WorkflowsArg = Annotated[list[str] | None, typer.Argument(help="Workflow ids or prefixes.")]
BatchOption = Annotated[
    str | None, typer.Option("--batch", help="Decide on drafts of this batch (with a filter).")
]
TierOption = Annotated[
    list[str] | None, typer.Option("--tier", help="With --batch: only these ICP tiers.")
]
MinScoreOption = Annotated[
    int | None, typer.Option("--min-score", help="With --batch: only ICP scores at least this.")
]
AllOption = Annotated[bool, typer.Option("--all", help="With --batch: every waiting draft.")]
ReviewerOption = Annotated[
    str | None,
    typer.Option(envvar="SALESBUS_REVIEWER", help="Who decides, for the record (default: you)."),
]


@app.command()
def approve(
    workflows: WorkflowsArg = None,
    batch: BatchOption = None,
    tier: TierOption = None,
    min_score: MinScoreOption = None,
    all_: AllOption = False,
    note: NoteOption = None,
    reviewer: ReviewerOption = None,
    db: DbOption = Path("salesbus.db"),
) -> None:
    """Approve drafts awaiting approval (ids, or --batch with --tier/--min-score/--all)."""
    _decide_many("approve", workflows, batch, tier, min_score, all_, note, reviewer, db)


@app.command()
def reject(
    workflows: WorkflowsArg = None,
    batch: BatchOption = None,
    tier: TierOption = None,
    min_score: MinScoreOption = None,
    all_: AllOption = False,
    note: NoteOption = None,
    reviewer: ReviewerOption = None,
    db: DbOption = Path("salesbus.db"),
) -> None:
    """Reject drafts awaiting approval (ids, or --batch with --tier/--min-score/--all)."""
    _decide_many("reject", workflows, batch, tier, min_score, all_, note, reviewer, db)


def _decide_many(
    decision: str,
    workflows: list[str] | None,
    batch: str | None,
    tier: list[str] | None,
    min_score: int | None,
    all_: bool,
    note: str | None,
    reviewer: str | None,
    db: Path,
) -> None:
    if bool(workflows) == (batch is not None):
        raise typer.BadParameter("give WORKFLOW ids or --batch, not both")
    if batch is not None and not (tier or min_score is not None or all_):
        raise typer.BadParameter("with --batch, choose --tier, --min-score or --all")
    who = reviewer or _whoami()

    async def main() -> list[approval.Decided]:
        async with open_store(db) as store:
            targets: list[str] | approval.Selection = list(workflows or [])
            if batch is not None:
                chosen = (await store.batch(batch)).id
                tiers = frozenset(t.upper() for t in tier or ())
                targets = approval.Selection(chosen, tiers=tiers, min_score=min_score)
            return await approval.decide_many(store, decision, targets, note=note, reviewer=who)

    results = _run(main)
    for result in results:
        record = result.workflow
        if result.won:
            out.print(
                f"{record.id} {safe(record.company.name)}: {record.state} ({safe(record.reason)})"
            )
        else:
            err.print(f"[yellow]not decided:[/] {safe(result.detail)}")
    if not results:
        out.print("nothing to decide: no draft matched")
    if any(not r.won for r in results):
        raise typer.Exit(1)


def _whoami() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "a reviewer"


@app.command()
def edit(
    workflow: WorkflowArg,
    subject: Annotated[str | None, typer.Option(help="New subject of the first email.")] = None,
    body: Annotated[str | None, typer.Option(help="New body of the first email.")] = None,
    body_file: Annotated[Path | None, typer.Option(help="Read the new body from a file.")] = None,
    linkedin_note: Annotated[str | None, typer.Option(help="New LinkedIn note.")] = None,
    note: NoteOption = None,
    db: DbOption = Path("salesbus.db"),
) -> None:
    """Edit a draft awaiting approval; the edit is re-checked and, if it passes, completes it."""
    if body_file is not None:
        body = _guard(lambda: _read_text(body_file))
    change = approval.Edit(subject=subject, body=body, linkedin_note=linkedin_note)

    async def decide(store: Store) -> Any:
        record = await store.workflow(workflow)
        batch = await store.batch(record.batch_id)
        campaign = Campaign.model_validate_json(batch.campaign_json)
        return await approval.edit(store, workflow, change, campaign, note, _whoami())

    _decide(decide, db)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise CliError(f"{path} is not UTF-8 text") from exc


def _decide(action: Callable[[Store], Awaitable[Any]], db: Path) -> None:
    async def main() -> None:
        async with _existing(db) as store:
            record = await action(store)
            out.print(
                f"{record.id} {safe(record.company.name)}: {record.state} ({safe(record.reason)})"
            )

    _run(main)
