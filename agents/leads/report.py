"""What a lead file will give a run, without running anything: ``salesbus inspect``
and the block ``salesbus run`` prints before it starts.

A report is built in one streaming pass and keeps only what it prints: counts,
the column mapping, the first rows and (up to a cap) the first warnings, so its
memory does not grow with the file."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..campaign import Campaign
from ..models import Company
from .columns import ColumnMapping, Target
from .problems import LeadWarning
from .reader import open_leads

__all__ = ["LeadReport", "inspect_leads", "lead_columns", "lead_warnings"]

SAMPLE_ROWS = 5


@dataclass(slots=True)
class LeadReport:
    path: Path
    encoding: str
    columns: list[ColumnMapping]
    companies: int = 0
    warnings: list[LeadWarning] = field(default_factory=list)
    """The first ``keep_warnings`` warnings in line order (all of them when ``None``)."""
    keep_warnings: int | None = None
    warning_count: int = 0
    """Every warning of the file, kept or not (``dropped_count`` of them left a row out)."""
    dropped_count: int = 0
    first: list[Company] = field(default_factory=list)
    """The first rows, as they will be used."""
    blocked: int | None = None
    """Companies the campaign's do-not-contact list stops (``None`` without a campaign)."""

    @property
    def dropped(self) -> list[LeadWarning]:
        """The kept warnings that left a row out (``dropped_count`` counts them all)."""
        return [warning for warning in self.warnings if warning.dropped]

    def add(self, item: Company | LeadWarning, campaign: Campaign | None) -> None:
        if isinstance(item, LeadWarning):
            self.warning_count += 1
            self.dropped_count += item.dropped
            if self.keep_warnings is None or len(self.warnings) < self.keep_warnings:
                self.warnings.append(item)
            return
        self.companies += 1
        if len(self.first) < SAMPLE_ROWS:
            self.first.append(item)
        if campaign is not None and campaign.do_not_contact.blocks(item):
            self.blocked = (self.blocked or 0) + 1


def inspect_leads(
    path: str | Path,
    *,
    campaign: Campaign | None = None,
    columns: Mapping[str, Target] | None = None,
    keep_warnings: int | None = None,
) -> LeadReport:
    """Read ``path`` as ``run`` would (one row at a time) and say what it gives.

    ``keep_warnings`` caps the warnings held (every one is counted).

    :raises LeadFileError: as :func:`~salesbus.agents.leads.open_leads`.
    """
    with open_leads(path, columns=lead_columns(campaign, columns)) as stream:
        report = LeadReport(
            Path(path), stream.encoding, stream.columns, keep_warnings=keep_warnings
        )
        report.blocked = 0 if campaign is not None else None
        for item in stream:
            report.add(item, campaign)
        report.columns = stream.columns
    return report


def lead_warnings(
    path: str | Path,
    *,
    campaign: Campaign | None = None,
    columns: Mapping[str, Target] | None = None,
) -> Iterator[LeadWarning]:
    """Every warning of the file in line order, read as a stream (a second pass, for
    printing them all without holding them)."""
    with open_leads(path, columns=lead_columns(campaign, columns)) as stream:
        for item in stream:
            if isinstance(item, LeadWarning):
                yield item


def lead_columns(
    campaign: Campaign | None, columns: Mapping[str, Target] | None
) -> dict[str, Target]:
    """The campaign's ``[leads] columns``, overridden by an explicit ``--map``."""
    merged = campaign.leads.targets() if campaign is not None else {}
    merged.update(columns or {})
    return merged
