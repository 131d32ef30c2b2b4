"""The ``salesbus`` command line."""

from __future__ import annotations

from importlib.metadata import version

import typer

app = typer.Typer(
    help="Research, analyse and draft outreach for B2B companies, durably and traced."
)


@app.callback()
def _group() -> None:
    """Keep ``salesbus`` a group of subcommands even while it has only one."""


@app.command("version")
def show_version() -> None:
    """Print the installed salesbus version."""
    typer.echo(version("salesbus"))


def main() -> None:
    app()
