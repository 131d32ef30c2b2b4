"""The ``salesbus`` command line: the typer ``app``, what its commands share, and the list of
modules that hold the commands (run, status/show/metrics, decisions, retry, export/prune, …).

Every command that reads or writes results takes ``--db`` (default
``./salesbus.db``, or ``SALESBUS_DB``). ``run`` is resumable: the same command
again finds the same batch and finishes what is left.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from importlib.metadata import version
from pathlib import Path
from typing import Annotated, Literal, TypeVar

import anyio
import typer
from rich.console import Console

from salesbus.agents.campaign import Campaign, load_campaign
from salesbus.agents.leads import parse_column_map, stream_companies
from salesbus.agents.leads.report import inspect_leads, lead_columns
from salesbus.agents.models import Company
from salesbus.observability import Telemetry

from .batch import leads_file_digest
from .cli_claude import estimate as estimate_command
from .cli_errors import CliError as CliError  # re-exported: cli_inspect raises it
from .cli_errors import debug_mode, guarded
from .cli_logging import command_logging, configure_command_logging
from .lead_summary import print_lead_summary
from .runner import Instrumentation
from .store import Store, open_store
from .store_check import require_existing
from .telemetry import instrumentation_for

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


def _logging(level: str, fmt: str) -> None:
    configure_command_logging(level, fmt)


def _instrumentation(telemetry: Telemetry, *, broker: bool = False) -> Instrumentation | None:
    """Tracing and metrics only when something receives them: off costs nothing.

    On a broker, hops leave the process: they get ``send``/``process`` spans.
    """
    if telemetry.tracing_enabled or telemetry.metrics_enabled:
        return instrumentation_for(telemetry, broker="nats" if broker else None)
    return None


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


def _existing(db: Path) -> AbstractAsyncContextManager[Store]:
    """The store at ``db`` for a command that reads it: never a new, empty one."""
    require_existing(db)
    return open_store(db)


def _fail(message: str) -> None:
    raise CliError(message)


def main() -> None:
    app()


if __name__ == "__main__":
    # ``python -m``: this copy is not the module the command modules import and
    # register on; the imported one (which imports them, below) runs the command.
    from salesbus.orchestrator.cli import main as _main

    _main()
else:
    # Commands live in modules of their own and register on `app` as they are
    # imported: in this order, the order `salesbus --help` lists them.
    # isort: off
    from . import cli_run, cli_status, cli_decide, cli_retry, cli_export  # noqa: F401
    from . import cli_inspect, cli_serve, cli_worker  # noqa: F401

    # isort: on
    app.command(name="estimate")(estimate_command)
