"""CLI commands for a multi-process deployment on NATS: ``worker`` and ``dead-letters``.

Registered on the main ``app`` by one import in cli.py. Each command parses,
calls one package function and prints.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from salesbus.agents.campaign import load_campaign
from salesbus.observability import configure_telemetry

from .cli import CliError, _choice, _guard, _logging, _run, app, out
from .runner import RunSettings, Simulation
from .safe_text import safe
from .telemetry import instrumentation_for
from .transports import is_broker, nats_transport, require_nats

TransportOption = Annotated[
    str,
    typer.Option(
        "--transport",
        envvar="SALESBUS_TRANSPORT",
        help="The broker: nats://host:port (comma-separated for a cluster).",
    ),
]

dead_letters = typer.Typer(help="Events the broker gave up on: list them, replay them.")
app.add_typer(dead_letters, name="dead-letters")


def _fail(message: str) -> None:
    raise CliError(message)


def _broker(url: str) -> str:
    if not is_broker(url):
        raise CliError("this command needs a broker: --transport nats://host:port")
    return url


@app.command()
def worker(
    transport: TransportOption = "",
    agents: Annotated[
        str | None,
        typer.Option(help="Comma-separated steps to run: research,analysis,personalization."),
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, help="Events per agent at once.")] = 16,
    campaign: Annotated[Path, typer.Option("--campaign", "-c", help="Campaign TOML file.")] = Path(
        "campaign.toml"
    ),
    llm: Annotated[str, typer.Option(help="auto, offline or anthropic.")] = "auto",
    model: Annotated[str | None, typer.Option(help="Claude model id.")] = None,
    llm_concurrency: Annotated[int, typer.Option(min=1, help="Model calls at once.")] = 16,
    rpm: Annotated[float | None, typer.Option(help="Model requests per minute, at most.")] = None,
    step_timeout: Annotated[float, typer.Option(help="Seconds per step attempt.")] = 120.0,
    fetch_websites: Annotated[
        bool | None,
        typer.Option(
            "--fetch-websites/--no-fetch-websites",
            help="Read company websites (default: with Claude, not offline).",
        ),
    ] = None,
    log_format: Annotated[str, typer.Option(help="text or json.")] = "text",
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING, ERROR.")] = "WARNING",
    otlp: Annotated[
        str | None,
        typer.Option(help="OTLP endpoint for traces and metrics (else OTEL_EXPORTER_OTLP_*)."),
    ] = None,
    simulate_latency: Annotated[float, typer.Option(hidden=True)] = 0.0,
) -> None:
    """Run agents for an orchestrator elsewhere, until SIGINT/SIGTERM."""
    _logging(log_level, log_format)
    url = _guard(lambda: _broker(transport))
    _guard(require_nats)
    # Imported here, not with this module: cli.py registers these commands on every
    # start, and nats-py is the optional `nats` extra.
    from .worker import WorkerSettings, run_worker

    if not campaign.exists():
        _guard(partial(_fail, f"no campaign file at {campaign} (pass --campaign FILE)"))
    settings = WorkerSettings(
        transport=url,
        agents=[a.strip() for a in agents.split(",") if a.strip()] if agents else None,
        concurrency=concurrency,
        run=RunSettings(
            llm=_choice(llm),
            model=model,
            llm_concurrency=llm_concurrency,
            requests_per_minute=rpm,
            step_timeout=step_timeout,
            fetch_websites=fetch_websites,
            simulation=Simulation(latency=simulate_latency),
        ),
    )
    loaded = _guard(lambda: load_campaign(campaign))
    with configure_telemetry(otlp_endpoint=otlp) as telemetry:
        if telemetry.tracing_enabled or telemetry.metrics_enabled:
            settings = replace(
                settings, instrumentation=instrumentation_for(telemetry, broker="nats")
            )
        _run(partial(run_worker, settings, loaded))


@dead_letters.command("list")
def list_dead_letters(transport: TransportOption = "") -> None:
    """Every dead letter: its sequence, event, subscription, deliveries and error."""

    async def main() -> None:
        broker = nats_transport(_broker(transport))
        try:
            letters = await broker.dead_letters()
        finally:
            await broker.aclose()
        table = Table("seq", "event", "event id", "subscription", "deliveries", "error")
        for letter in letters:
            table.add_row(
                str(letter.sequence),
                safe(letter.event_type),
                safe(letter.event_id),
                safe(letter.subscription),
                str(letter.deliveries),
                safe(letter.error),
            )
        out.print(table)

    _run(main)


@dead_letters.command("replay")
def replay_dead_letters(
    sequences: Annotated[list[int] | None, typer.Argument(help="Sequences from list.")] = None,
    every: Annotated[bool, typer.Option("--all", help="Every dead letter.")] = False,
    transport: TransportOption = "",
) -> None:
    """Publish dead letters again on their own subjects (and remove them from the list)."""
    if not sequences and not every:
        raise typer.BadParameter("give sequences or --all")

    async def main() -> int:
        broker = nats_transport(_broker(transport))
        try:
            chosen = sequences or [letter.sequence for letter in await broker.dead_letters()]
            for sequence in chosen:
                try:
                    await broker.replay_dead_letter(sequence)
                except LookupError as exc:
                    raise CliError(str(exc)) from None
            return len(chosen)
        finally:
            await broker.aclose()

    out.print(f"replayed {_run(main)} dead letter(s)")


async def show_broker(url: str) -> None:
    """``status`` on a broker: live workers and what the stream holds per subject."""
    broker = nats_transport(url)  # first: without nats-py, a one-line error
    from .workers import live_workers

    try:
        workers = await live_workers(broker)
        depth = await broker.depth()
        backlog = await broker.backlog()
    finally:
        await broker.aclose()
    table = Table(
        "worker",
        "agents",
        "handled",
        "failed",
        "in flight",
        "replayed",
        "last beat",
        title="workers",
    )
    for beat in workers:
        table.add_row(
            safe(beat.worker),
            safe(",".join(beat.agents)),
            str(beat.handled),
            str(beat.failed),
            str(beat.in_flight),
            str(beat.replayed),
            beat.beat_at.strftime("%H:%M:%S"),
        )
    out.print(table if workers else "[yellow]no live workers[/]")
    subjects = Table("subject", "stored", title=f"stream {broker.stream}")
    for subject, count in depth.items():
        subjects.add_row(safe(subject), str(count))
    out.print(subjects)
    consumers = Table("subscription", "waiting", "in hand (unacked)", title="backlog")
    for name, (waiting, unacked) in sorted(backlog.items()):
        consumers.add_row(safe(name), str(waiting), str(unacked))
    out.print(consumers)
