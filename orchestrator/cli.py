"""The ``salesbus`` command line: run batches, watch them, decide on drafts, export.

Every command that reads or writes results takes ``--db`` (default
``./salesbus.db``, or ``SALESBUS_DB``). ``run`` is resumable: the same command
again finds the same batch and finishes what is left.
"""

from __future__ import annotations

import getpass
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from functools import partial
from importlib.metadata import version
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import anyio
import typer
from rich import box
from rich.console import Console
from rich.table import Column, Table

from salesbus.agents.campaign import Campaign, load_campaign
from salesbus.agents.leads import parse_column_map, stream_companies
from salesbus.agents.leads.report import inspect_leads, lead_columns
from salesbus.agents.models import Company
from salesbus.bus import decode_event
from salesbus.observability import Telemetry, configure_telemetry

from . import approval
from .batch import PreparedBatch, leads_file_digest
from .cli_claude import estimate as estimate_command
from .cli_errors import CliError as CliError  # re-exported: cli_inspect raises it
from .cli_errors import debug_mode, guarded, ignore_interrupts
from .cli_logging import command_logging, configure_command_logging
from .engine import BatchProgress, Orchestrator
from .export import export_batch
from .lead_summary import print_lead_summary
from .metrics import batch_metrics
from .progress import render_metrics, run_progress, state_line
from .retrying import reopen
from .runner import Instrumentation, RunSettings, Simulation, run_batch
from .safe_text import safe
from .sales import STEP_STATES
from .states import AWAITING_APPROVAL, COMPLETED, FAILED, PENDING, TERMINAL_STATES, parse_states
from .store import Store, open_store
from .store_check import StoreCheckError, require_existing, watch_file
from .telemetry import instrumentation_for
from .transports import check_transport, is_broker

app: typer.Typer = typer.Typer(
    help="Research, analyse and draft outreach for B2B companies — durably, concurrently, traced.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
out = Console(soft_wrap=True, emoji=False)
err = Console(stderr=True, soft_wrap=True, emoji=False)

T = TypeVar("T")

DbOption = Annotated[
    Path,
    typer.Option("--db", envvar="SALESBUS_DB", help="SQLite file holding batches and results."),
]
WorkflowArg = Annotated[str, typer.Argument(help="Workflow id or prefix.")]
NoteOption = Annotated[str | None, typer.Option(help="Why, for the record.")]
TRANSPORT = typer.Option(
    "--transport",
    envvar="SALESBUS_TRANSPORT",
    help="memory (agents in this process) or nats://host:port (agents in salesbus workers).",
)
MapOption = Annotated[
    str | None,
    typer.Option("--map", help='Header to field, e.g. "Company Name=name,HQ=location".'),
]
LlmChoice = Literal["auto", "offline", "anthropic"]
GRACE_SECONDS = 30.0


def _run(main: Callable[[], Awaitable[T]]) -> T:
    return _guard(lambda: anyio.run(main))


def _guard(action: Callable[[], T]) -> T:
    """Errors become one red line and an exit code, not a traceback (see cli_errors)."""
    return guarded(action, err)


@app.callback()
def _group(
    ctx: typer.Context,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of failures.")] = False,
) -> None:
    """salesbus — see README.md for the lead-list and campaign formats."""
    debug_mode(debug)
    ctx.with_resource(command_logging())  # the handler a command installs ends with it


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
    column_map: MapOption = None,
    concurrency: Annotated[int, typer.Option(min=1, help="Workflows in flight at once.")] = 50,
    llm: Annotated[
        str, typer.Option(help="auto (Claude when ANTHROPIC_API_KEY is set), offline, anthropic.")
    ] = "auto",
    model: Annotated[str | None, typer.Option(help="Claude model id (or SALESBUS_MODEL).")] = None,
    llm_concurrency: Annotated[
        int | None,
        typer.Option(min=1, help="Model calls at once, at most (default: learnt from the API)."),
    ] = None,
    rpm: Annotated[
        float | None,
        typer.Option(help="Model requests per minute, at most (default: the API's limit)."),
    ] = None,
    max_attempts: Annotated[int, typer.Option(min=1, help="Attempts per step.")] = 4,
    retry_base: Annotated[float, typer.Option(help="First retry backoff, seconds.")] = 1.0,
    step_timeout: Annotated[float, typer.Option(help="Seconds per step attempt.")] = 120.0,
    max_cost: Annotated[
        float | None,
        typer.Option(help="USD: stop admitting companies before spending would pass this."),
    ] = None,
    batch_api: Annotated[
        bool,
        typer.Option(
            "--batch-api", help="Claude via Message Batches: half price, answers within 24 h."
        ),
    ] = False,
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
    transport: Annotated[str, TRANSPORT] = "memory",
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Run every company again, even finished ones.")
    ] = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="If another run holds these workflows, wait for it.")
    ] = False,
) -> None:
    """Run (or resume) a batch: research, analyse and draft outreach for every lead."""
    settings = _guard(
        lambda: RunSettings(
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
            max_cost_usd=max_cost,
            batch_api=batch_api,
            simulation=Simulation(simulate_latency, simulate_failures, simulate_permanent_failures),
            transport=check_transport(transport),
        )
    )
    _logging(log_level, log_format)
    campaign_loaded, companies, digest = _guard(lambda: _inputs(leads, campaign, column_map))
    with configure_telemetry(otlp_endpoint=otlp) as telemetry:
        instrumentation = _instrumentation(telemetry, broker=is_broker(transport))
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


def _logging(level: str, fmt: str) -> None:
    configure_command_logging(level, fmt)


def _instrumentation(telemetry: Telemetry, *, broker: bool = False) -> Instrumentation | None:
    """Tracing and metrics only when something receives them: off costs nothing.

    On a broker, hops leave the process: they get ``send``/``process`` spans.
    """
    if telemetry.tracing_enabled or telemetry.metrics_enabled:
        return instrumentation_for(telemetry, broker="nats" if broker else None)
    return None


def _states(text: str) -> list[str]:
    known = {PENDING, AWAITING_APPROVAL, *TERMINAL_STATES, *STEP_STATES}
    try:
        return parse_states(text, known)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--status") from None


def _choice(llm: str) -> LlmChoice:
    if llm not in ("auto", "offline", "anthropic"):
        raise typer.BadParameter("choose auto, offline or anthropic", param_hint="--llm")
    return llm  # type: ignore[return-value]


def _inputs(
    leads_path: Path, campaign_path: Path, column_map: str | None
) -> tuple[Campaign, Iterable[Company], str]:
    """Load the campaign, print the lead summary in one block, and give the leads as a
    stream: one pass counts them for the summary, a second feeds the run, so memory
    stays flat whatever the file's length."""
    if not campaign_path.exists():
        raise CliError(f"no campaign file at {campaign_path} (pass --campaign FILE)")
    campaign = load_campaign(campaign_path)
    explicit = parse_column_map(column_map) if column_map else None
    report = inspect_leads(leads_path, campaign=campaign, columns=explicit, keep_warnings=20)
    print_lead_summary(report, err)
    if not report.companies:
        raise CliError(f"{leads_path} has no company that can run")
    digest = leads_file_digest(leads_path, explicit)
    companies = stream_companies(leads_path, columns=lead_columns(campaign, explicit))
    return campaign, companies, digest


async def _run_leads(
    leads_path: Path,
    companies: Iterable[Company],
    digest: str,
    campaign: Campaign,
    db: Path,
    settings: RunSettings,
    instrumentation: Instrumentation | None,
    *,
    refresh: bool = False,
    wait: bool = False,
) -> bool:
    # Ctrl-C is received, never raised, from here until the store is closed.
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
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

            stopped, prepared, progress = await _supervised(drive, signals, store.path)
    if stopped:
        ignore_interrupts()
    _summary(prepared, progress, stopped, db)
    if stopped:
        command = " ".join(["salesbus", *sys.argv[1:]])
        err.print(f"[yellow]Stopped.[/] Resume with: {safe(command)}")
    return stopped


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


# -- inspecting ----------------------------------------------------------------------


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


def _existing(db: Path) -> AbstractAsyncContextManager[Store]:
    """The store at ``db`` for a command that reads it: never a new, empty one."""
    require_existing(db)
    return open_store(db)


def _fail(message: str) -> None:
    raise CliError(message)


# Commands in their own modules register on `app`; they import this module.
from . import cli_inspect, cli_serve, cli_worker  # noqa: E402, F401


def main() -> None:
    app()


app.command(name="estimate")(estimate_command)

if __name__ == "__main__":
    # The imported module's app, not this __main__ copy's: commands that other
    # modules (cli_worker) register on ``app`` are on the imported one.
    from salesbus.orchestrator.cli import main as _main

    _main()
