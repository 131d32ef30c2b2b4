"""``salesbus inspect LEADS``: read a lead file as ``run`` would, run nothing, and say
how its columns are read, how many companies will run, every warning and left-out
row with its line, and the first rows as they will be used."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from salesbus.agents.campaign import load_campaign
from salesbus.agents.leads import parse_column_map
from salesbus.agents.leads.report import LeadReport, inspect_leads, lead_warnings

from .cli import CliError, MapOption, _guard, app, out
from .lead_summary import print_first_rows, print_lead_summary


@app.command()
def inspect(
    leads: Annotated[Path, typer.Argument(help="Lead list: .csv, .tsv or .jsonl.")],
    campaign: Annotated[
        Path | None,
        typer.Option("--campaign", "-c", help="Also count the do-not-contact list's stops."),
    ] = None,
    column_map: MapOption = None,
) -> None:
    """Show how a lead file will be read, without running anything (exit 2: nothing can run)."""

    def read() -> LeadReport:
        loaded = load_campaign(campaign) if campaign is not None else None
        explicit = parse_column_map(column_map) if column_map else None
        report = inspect_leads(leads, campaign=loaded, columns=explicit, keep_warnings=0)
        every = lead_warnings(leads, campaign=loaded, columns=explicit)
        print_lead_summary(report, out, warnings=every)
        print_first_rows(report, out)
        if report.companies == 0:
            raise CliError(f"{leads} has no company that can run")
        return report

    _guard(read)
