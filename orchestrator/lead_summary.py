"""The lead-file summary: how columns were read, what will run, every warning.

``salesbus inspect`` prints all of it; ``salesbus run`` prints the same block,
with the warnings cut to a screenful, before it starts. Neither holds every
warning: ``run``'s report keeps the first few, ``inspect`` prints them from a
second streaming pass over the file.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console

from salesbus.agents.leads.problems import LeadWarning
from salesbus.agents.leads.report import LeadReport
from salesbus.agents.models import Company

from .safe_text import safe

__all__ = ["print_first_rows", "print_lead_summary"]


def print_lead_summary(
    report: LeadReport,
    console: Console,
    *,
    warnings_shown: int | None = None,
    warnings: Iterable[LeadWarning] | None = None,
) -> None:
    """Print ``report``; ``warnings_shown`` caps the warning lines (``None``: all the
    report kept). ``warnings``, when given, are printed instead of the kept ones: a
    stream of every warning, so that none need be held."""
    path = safe(report.path)
    dropped = report.dropped_count
    kept = report.warning_count - dropped
    blocked = (
        f" ({report.blocked} stopped at once by the do-not-contact list)" if report.blocked else ""
    )
    console.print(
        f"[bold]{path}[/] ({report.encoding}): [bold]{report.companies}[/] companies will run"
        f"{blocked}, {dropped} row(s) left out, {kept} warning(s)"
    )
    console.print(
        "columns: "
        + "; ".join(
            f"{safe(m.header) or f'column {m.index + 1}'} → {m.target.value}"
            for m in report.columns
        )
    )
    for mapping in report.columns:
        if mapping.reason not in ("known header", "as mapped"):
            console.print(f"  [dim]{safe(mapping.header)}: {safe(mapping.reason)}[/]")
    if warnings is None:
        warnings = report.warnings
    printed = 0
    for warning in warnings:
        if warnings_shown is not None and printed >= warnings_shown:
            break
        label = "[red]left out[/]" if warning.dropped else "[yellow]warning[/]"
        column = f", {safe(warning.column)}" if warning.column else ""
        console.print(
            f"  {label} {path}:{warning.line}{column}: {safe(warning.message)}"
            f" [dim]({warning.kind.value})[/]"
        )
        printed += 1
    hidden = report.warning_count - printed
    if hidden:
        console.print(f"  … and {hidden} more: salesbus inspect {path}")


def print_first_rows(report: LeadReport, console: Console) -> None:
    """The first companies as the agents will see them."""
    if not report.first:
        return
    console.print("first rows as they will be used:")
    for company in report.first:
        console.print(f"  line {company.line}: {_describe(company)}")
        for header, value in company.extra_fields.items():
            console.print(f"      {safe(header)}: {safe(_cut(value))}")


def _describe(company: Company) -> str:
    parts = [f"[bold]{safe(company.name)}[/]"]
    if company.domain:
        parts.append(safe(company.domain))
    if company.industry:
        parts.append(safe(company.industry))
    if company.employees is not None:
        parts.append(f"{company.employees:,} employees")
    if company.country:
        code = f" ({company.country_code})" if company.country_code else " (country unknown)"
        parts.append(safe(company.country) + code)
    if company.contact:
        parts.append(f"contact {safe(company.contact.name)}")
    return " · ".join(parts)


def _cut(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
