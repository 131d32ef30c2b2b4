"""The ``salesbus`` command line: run batches, watch them, decide on drafts, export.

Every command that reads or writes results takes ``--db`` (default
``./salesbus.db``, or ``SALESBUS_DB``). ``run`` is resumable: the same command
again finds the same batch and finishes what is left.
"""

from __future__ import annotations

import getpass
import hashlib
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial
from importlib.metadata import version
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import anyio
import typer
from rich.console import Console
from rich.table import Table

from salesbus.agents.campaign import Campaign, load_campaign
from salesbus.agents.errors import CampaignError, LeadFileError
from salesbus.agents.leads import read_leads
from salesbus.agents.models import Company
from salesbus.agents.providers.factory import ProviderConfigError
from salesbus.bus import decode_event
from salesbus.observability import Telemetry, configure_logging, configure_telemetry

from . import approval
from .batch import PreparedBatch
from .engine import MAX_CONCURRENCY, BatchProgress, ConcurrencyError, Orchestrator
from .export import export_batch
from .lease import LeaseHeld
from .metrics import batch_metrics
from .progress import render_metrics, run_progress, state_line
from .runner import Instrumentation, RunSettings, Simulation, run_batch
from .states import AWAITING_APPROVAL, COMPLETED, FAILED, PENDING
from .store import Statement, Store, StoreError, open_store
from .telemetry import instrumentation_for

app = typer.Typer(
    help="Research, analyse and draft outreach for B2B companies — durably, concurrently, traced.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

T = TypeVar("T")

DbOption = Annotated[
    Path,
    typer.Option("--db", envvar="SALESBUS_DB", help="SQLite file holding batches and results."),
]
WorkflowArg = Annotated[str, typer.Argument(help="Workflow id or prefix.")]
NoteOption = Annotated[str | None, typer.Option(help="Why, for the record.")]
LlmChoice = Literal["auto", "offline", "anthropic"]
GRACE_SECONDS = 30.0


class CliError(Exception):
    """A problem the user can fix; printed without a traceback, exit code 2."""


def _run(main: Callable[[], Awaitable[T]]) -> T:
    return _guard(lambda: anyio.run(main))


_USER_ERRORS = (
    CliError,
    StoreError,
    CampaignError,
    LeadFileError,
    ProviderConfigError,
    LeaseHeld,
    ConcurrencyError,
)


def _guard(action: Callable[[], T]) -> T:
    """Errors a user can act on become one red line and an exit code, not a traceback."""
    try:
        return action()
    except BaseExceptionGroup as group:  # raised through a task group: judge what is inside
        _report(_only_exception(group))
        raise
    except (*_USER_ERRORS, approval.ApprovalError) as exc:
        _report(exc)
        raise


def _report(exc: BaseException) -> None:
    """Exit with one line for an error a user can act on; return for anything else."""
    if isinstance(exc, _USER_ERRORS):
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    if isinstance(exc, approval.ApprovalError):
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None


def _only_exception(group: BaseExceptionGroup[BaseException]) -> BaseException:
    inner: BaseException = group
    while isinstance(inner, BaseExceptionGroup) and len(inner.exceptions) == 1:
        inner = inner.exceptions[0]
    return inner


@app.callback()
def _group() -> None:
    """salesbus — see README.md for the lead-list and campaign formats."""


@app.command("version")
def show_version() -> None:
    """Print the installed salesbus version."""
    out.print(version("salesbus"))


# -- run -----------------------------------------------------------------------------


@app.command()
def run(
    leads: Annotated[Path, typer.Argument(help="Lead list: .csv, .tsv or .jsonl.")],
    campaign: Annotated[Path, typer.Option("--campaign", "-c", help="Campaign TOML file.")] = Path(
        "campaign.toml"
    ),
    db: DbOption = Path("salesbus.db"),
    concurrency: Annotated[int, typer.Option(min=1, help="Workflows in flight at once.")] = 50,
    llm: Annotated[
        str, typer.Option(help="auto (Claude when ANTHROPIC_API_KEY is set), offline, anthropic.")
    ] = "auto",
    model: Annotated[str | None, typer.Option(help="Claude model id (or SALESBUS_MODEL).")] = None,
    llm_concurrency: Annotated[int, typer.Option(min=1, help="Model calls at once.")] = 16,
    rpm: Annotated[float | None, typer.Option(help="Model requests per minute, at most.")] = None,
    max_attempts: Annotated[int, typer.Option(min=1, help="Attempts per step.")] = 4,
    retry_base: Annotated[float, typer.Option(help="First retry backoff, seconds.")] = 1.0,
    step_timeout: Annotated[float, typer.Option(help="Seconds per step attempt.")] = 120.0,
    fetch_websites: Annotated[
        bool | None,
        typer.Option(
            "--fetch-websites/--no-fetch-websites",
            help="Read company websites (default: with Claude yes, offline no).",
        ),
    ] = None,
    otlp: Annotated[
        str | None,
        typer.Option(help="OTLP endpoint for traces and metrics (else OTEL_EXPORTER_OTLP_*)."),
    ] = None,
    log_format: Annotated[str, typer.Option(help="text or json.")] = "text",
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING, ERROR.")] = "WARNING",
    allow_private_websites: Annotated[bool, typer.Option(hidden=True)] = False,
    simulate_latency: Annotated[float, typer.Option(hidden=True)] = 0.0,
    simulate_failures: Annotated[float, typer.Option(hidden=True)] = 0.0,
    simulate_permanent_failures: Annotated[float, typer.Option(hidden=True)] = 0.0,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Run every company again, even finished ones.")
    ] = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="If another run holds these workflows, wait for it.")
    ] = False,
) -> None:
    """Run (or resume) a batch: research, analyse and draft outreach for every lead."""
    _guard(lambda: _check_concurrency(concurrency))
    settings = RunSettings(
        llm=_choice(llm),
        model=model,
        concurrency=concurrency,
        llm_concurrency=llm_concurrency,
        requests_per_minute=rpm,
        max_attempts=max_attempts,
        retry_base_delay=retry_base,
        step_timeout=step_timeout,
        fetch_websites=fetch_websites,
        allow_private_websites=allow_private_websites,
        simulation=Simulation(simulate_latency, simulate_failures, simulate_permanent_failures),
    )
    _logging(log_level, log_format)
    campaign_loaded, companies, digest = _guard(lambda: _inputs(leads, campaign))
    with configure_telemetry(otlp_endpoint=otlp) as telemetry:
        instrumentation = _instrumentation(telemetry)
        stopped = _run(
            partial(
                _run_leads,
                leads,
                companies,
                digest,
                campaign_loaded,
                db,
                settings,
                instrumentation,
                refresh=refresh,
                wait=wait,
            )
        )
    if stopped:
        raise typer.Exit(130)


def _check_concurrency(concurrency: int) -> None:
    if concurrency > MAX_CONCURRENCY:
        raise CliError(
            f"--concurrency {concurrency} is more than one process holds in flight"
            f" (at most {MAX_CONCURRENCY})"
        )


def _logging(level: str, fmt: str) -> None:
    if fmt not in ("text", "json"):
        raise typer.BadParameter("choose text or json", param_hint="--log-format")
    configure_logging(level.upper(), fmt)  # type: ignore[arg-type]


def _instrumentation(telemetry: Telemetry) -> Instrumentation | None:
    """Tracing and metrics only when something receives them: off costs nothing."""
    if telemetry.tracing_enabled or telemetry.metrics_enabled:
        return instrumentation_for(telemetry)
    return None


def _choice(llm: str) -> LlmChoice:
    if llm not in ("auto", "offline", "anthropic"):
        raise typer.BadParameter("choose auto, offline or anthropic", param_hint="--llm")
    return llm  # type: ignore[return-value]


def _inputs(leads_path: Path, campaign_path: Path) -> tuple[Campaign, list[Company], str]:
    """Load the campaign and the leads, reporting each unusable row with its line."""
    if not campaign_path.exists():
        raise CliError(f"no campaign file at {campaign_path} (pass --campaign FILE)")
    campaign = load_campaign(campaign_path)
    leads = read_leads(leads_path)
    for problem in leads.errors:
        err.print(f"[yellow]skipped[/] {leads_path}:{problem.line}: {problem.reason}")
    if leads.ignored_columns:
        err.print(f"[dim]ignored columns: {', '.join(leads.ignored_columns)}[/]")
    if not leads.companies:
        raise CliError(f"{leads_path} has no usable rows")
    digest = hashlib.sha256(leads_path.read_bytes()).hexdigest()
    return campaign, leads.companies, digest


async def _run_leads(
    leads_path: Path,
    companies: list[Company],
    digest: str,
    campaign: Campaign,
    db: Path,
    settings: RunSettings,
    instrumentation: Instrumentation | None,
    *,
    refresh: bool = False,
    wait: bool = False,
) -> bool:
    async with open_store(db) as store:

        def drive(on_start: OnStart) -> Awaitable[tuple[PreparedBatch, BatchProgress]]:
            return run_batch(
                store,
                companies,
                campaign,
                settings,
                leads_path=leads_path,
                leads_digest=digest,
                instrumentation=instrumentation,
                refresh=refresh,
                wait=wait,
                on_start=on_start,
            )

        stopped, prepared, progress = await _supervised(drive)
        _summary(prepared, progress, stopped, db)
        if stopped:
            command = " ".join(["salesbus", *sys.argv[1:]])
            err.print(f"[yellow]Stopped.[/] Resume with: {command}")
    return stopped


OnStart = Callable[[PreparedBatch, Orchestrator], Awaitable[None]]


async def _supervised(
    drive: Callable[[OnStart], Awaitable[tuple[PreparedBatch, BatchProgress]]],
) -> tuple[bool, PreparedBatch, BatchProgress]:
    """Run ``drive`` with a progress bar; Ctrl-C stops admitting, a second one stops now."""
    state: dict[str, Any] = {"stopped": False}

    async with anyio.create_task_group() as tg:

        async def started(prepared: PreparedBatch, orchestrator: Orchestrator) -> None:
            state["orchestrator"] = orchestrator
            verb = "started" if prepared.created else "resumed"
            err.print(f"batch [bold]{prepared.batch.id}[/] {verb} ({prepared.batch.provider})")
            tg.start_soon(run_progress, lambda: orchestrator.progress, err)
            tg.start_soon(_watch_signals, orchestrator, tg.cancel_scope, state)

        prepared, progress = await drive(started)
        tg.cancel_scope.cancel()
    return bool(state["stopped"]), prepared, progress


async def _watch_signals(
    orchestrator: Orchestrator, scope: anyio.CancelScope, state: dict[str, Any]
) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for _ in signals:
            if state["stopped"]:
                err.print("[red]stopping now[/]; unfinished steps will run again on resume")
                scope.cancel()
                return
            state["stopped"] = True
            orchestrator.stop()
            err.print(
                f"[yellow]stopping:[/] no new companies; in-flight steps get {GRACE_SECONDS:.0f}s"
                " to finish (Ctrl-C again to stop now)"
            )
            scope.deadline = anyio.current_time() + GRACE_SECONDS


def _summary(prepared: PreparedBatch, progress: BatchProgress, stopped: bool, db: Path) -> None:
    batch = prepared.batch.id
    out.print(f"[bold]batch {batch}[/]: {state_line(progress)}")
    completed = progress.states.get(COMPLETED, 0)
    waiting = progress.states.get(AWAITING_APPROVAL, 0)
    failed = progress.states.get(FAILED, 0)
    out.print(f"results in {db}:")
    out.print(
        f"  salesbus export {batch} --db {db} --status completed --format csv -o outreach.csv"
        f"   ({completed} completed)"
    )
    if waiting:
        out.print(
            f"  salesbus status {batch} --db {db}   ({waiting} awaiting approval:"
            " salesbus approve|reject|edit WORKFLOW)"
        )
    if failed:
        out.print(f"  salesbus retry --failed --db {db}   ({failed} failed)")
    if not stopped and progress.states.get(PENDING, 0):
        out.print(f"  {progress.states[PENDING]} still pending")


# -- inspecting ----------------------------------------------------------------------


@app.command()
def status(
    batch: Annotated[
        str | None, typer.Argument(help="Batch id or prefix (default: latest).")
    ] = None,
    db: DbOption = Path("salesbus.db"),
) -> None:
    """Counts by state for a batch, and the workflows waiting for a person."""

    async def main() -> None:
        async with open_store(db) as store:
            record = await store.batch(batch)
            counts = await store.state_counts(record.id)
            table = Table(
                "state",
                "workflows",
                title=f"batch {record.id} ({record.provider} {record.model}, {record.created_at})",
            )
            for state, count in sorted(counts.items()):
                table.add_row(state, str(count))
            out.print(table)
            for workflow in await store.workflows(record.id, [AWAITING_APPROVAL]):
                out.print(
                    f"  awaiting approval: {workflow.id}  {workflow.company.name}"
                    f"  ({workflow.reason})"
                )
            for workflow in await store.workflows(record.id, [FAILED]):
                out.print(f"  failed: {workflow.id}  {workflow.company.name}  ({workflow.reason})")

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
        async with open_store(db) as store:
            record = await store.workflow(workflow)
            out.print(
                f"[bold]{record.id}[/] {record.company.name} — {record.state}"
                + (f" ({record.reason})" if record.reason else "")
            )
            out.print(f"batch {record.batch_id}, lead line {record.company.line}")
            if record.trace_id:
                out.print(f"trace: {jaeger.rstrip('/')}/trace/{record.trace_id}")
            table = Table("step", "attempt", "status", "started", "ms", "tokens", "cost $", "error")
            for attempt in await store.attempts(record.id):
                table.add_row(
                    attempt.step,
                    str(attempt.attempt),
                    attempt.status,
                    attempt.started_at,
                    "-" if attempt.duration_ms is None else f"{attempt.duration_ms:.0f}",
                    str(
                        attempt.input_tokens
                        + attempt.cache_read_tokens
                        + attempt.cache_write_tokens
                        + attempt.output_tokens
                    ),
                    f"{attempt.cost_usd:.4f}",
                    f"{attempt.error_kind}: {attempt.error_message}" if attempt.error_kind else "",
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
                    out.print(f"  [yellow]{check.rule}[/]: {check.detail}")
                for message in drafted.outreach.messages:
                    title = f"{message.channel.value} {message.kind.value} day {message.day_offset}"
                    out.rule(title)
                    if message.subject:
                        out.print(f"Subject: {message.subject}")
                    out.print(message.body, markup=False)
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
        async with open_store(db) as store:
            record = await store.batch(batch)
            render_metrics(await batch_metrics(store, record.id), out)

    _run(main)


# -- deciding ------------------------------------------------------------------------


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
            out.print(f"{record.id} {record.company.name}: {record.state} ({record.reason})")
        else:
            err.print(f"[yellow]not decided:[/] {result.detail}")
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
        body = body_file.read_text(encoding="utf-8")
    change = approval.Edit(subject=subject, body=body, linkedin_note=linkedin_note)

    async def decide(store: Store) -> Any:
        record = await store.workflow(workflow)
        batch = await store.batch(record.batch_id)
        campaign = Campaign.model_validate_json(batch.campaign_json)
        return await approval.edit(store, workflow, change, campaign, note, _whoami())

    _decide(decide, db)


def _decide(action: Callable[[Store], Awaitable[Any]], db: Path) -> None:
    async def main() -> None:
        async with open_store(db) as store:
            record = await action(store)
            out.print(f"{record.id} {record.company.name}: {record.state} ({record.reason})")

    _run(main)


# -- retrying, exporting, pruning ----------------------------------------------------


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
        async with open_store(db) as store:
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
            await store.commit([await _reopen(store, t.id, t.step) for t in targets])
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

            stopped, prepared, progress = await _supervised(drive)
            _summary(prepared, progress, stopped, db)
            return stopped

    if _run(main):
        raise typer.Exit(130)


async def _reopen(store: Store, workflow_id: str, step: str | None) -> Statement:
    """Back to pending at its failed step, with the attempts used so far set aside."""
    used = max((a.attempt for a in await store.attempts(workflow_id) if a.step == step), default=0)
    return store.set_state(
        workflow_id, PENDING, step=step, retry_base=used, reason="retry requested"
    )


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
    db: DbOption = Path("salesbus.db"),
) -> None:
    """Export workflows with their state and reason; `--status completed --format csv` for a CRM."""
    if fmt not in ("jsonl", "csv"):
        raise typer.BadParameter("choose jsonl or csv", param_hint="--format")
    states = [s.strip() for s in status_filter.split(",")] if status_filter else None

    async def main() -> int:
        async with open_store(db) as store:
            record = await store.batch(batch)
            if output is None:
                return await export_batch(store, record.id, sys.stdout, fmt=fmt, states=states)  # type: ignore[arg-type]
            with output.open("w", encoding="utf-8", newline="") as handle:
                return await export_batch(store, record.id, handle, fmt=fmt, states=states)  # type: ignore[arg-type]

    count = _run(main)
    err.print(f"exported {count} workflow(s)" + (f" to {output}" if output else ""))


@app.command()
def prune(
    batch: Annotated[str, typer.Argument(help="Batch id or prefix.")],
    db: DbOption = Path("salesbus.db"),
) -> None:
    """Drop a finished batch's event-log bodies (outputs are stored once and kept)."""

    async def main() -> int:
        async with open_store(db) as store:
            record = await store.batch(batch)
            return await store.prune(record.id)

    changed = _run(main)
    out.print(f"pruned {changed} row(s)")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
