"""``salesbus run``: a batch run (or resumed) from a lead list and a campaign, supervised as in
``cli_supervise.py``."""

from __future__ import annotations

import signal
import sys
from collections.abc import Awaitable, Iterable
from functools import partial
from pathlib import Path
from typing import Annotated

import anyio
import typer

from salesbus.agents.campaign import Campaign
from salesbus.agents.models import Company
from salesbus.observability import configure_telemetry

from .batch import PreparedBatch
from .cli import (
    TRANSPORT,
    DbOption,
    MapOption,
    _choice,
    _guard,
    _inputs,
    _instrumentation,
    _logging,
    _run,
    app,
    err,
)
from .cli_errors import ignore_interrupts
from .cli_supervise import OnStart, _summary, _supervised
from .engine import BatchProgress
from .runner import Instrumentation, RunSettings, Simulation, run_batch
from .safe_text import safe
from .store import open_store
from .transports import check_transport, is_broker


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
