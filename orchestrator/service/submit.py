"""Turning what a client posts into a batch's companies and campaign, or a clear refusal.

The lead file goes through the same reader as ``salesbus run`` (CSV with any
common delimiter, TSV, JSONL), so its warnings are the same lines with the
same numbers. Nothing is stored unless the whole submission is usable.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from salesbus.agents.campaign import Campaign
from salesbus.agents.errors import LeadFileError
from salesbus.agents.leads import RowError, read_leads_text
from salesbus.agents.models import Company

__all__ = [
    "BatchRequest",
    "Leads",
    "LimitsIn",
    "SubmissionError",
    "parse_campaign",
    "parse_json_companies",
    "parse_lead_file",
]


class SubmissionError(Exception):
    """A submission that cannot run: ``status`` is the HTTP answer (413 or 422)."""

    def __init__(self, status: int, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.errors = errors or []


class LimitsIn(BaseModel):
    """What a batch may set for itself (the form fields of a multipart upload, too)."""

    model_config = ConfigDict(extra="forbid")
    model: str | None = Field(default=None, max_length=200)
    concurrency: int | None = Field(default=None, ge=1, le=10_000)
    max_attempts: int | None = Field(default=None, ge=1, le=20)
    step_timeout: float | None = Field(default=None, gt=0, le=3600)


class BatchRequest(LimitsIn):
    """``POST /batches`` as JSON: the companies themselves instead of a lead file."""

    companies: list[dict[str, Any]] = Field(min_length=1)
    campaign_toml: str | None = None
    """A campaign as TOML text; the service's default campaign when absent."""


@dataclass(slots=True)
class Leads:
    companies: list[Company]
    warnings: list[str] = field(default_factory=list)
    digest: str | None = None
    name: str | None = None


def parse_lead_file(name: str, data: bytes, max_rows: int) -> Leads:
    """:raises SubmissionError: unreadable, over ``max_rows`` rows, or no usable row."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SubmissionError(422, f"{name} is not UTF-8 text: {exc.reason}") from None
    suffix = name.lower().rsplit(".", 1)[-1] if "." in name else "csv"
    kind = "jsonl" if suffix in {"jsonl", "ndjson", "json"} else "csv"
    try:
        parsed = read_leads_text(text, kind=kind, delimiter="\t" if suffix == "tsv" else None)
    except LeadFileError as exc:
        raise SubmissionError(422, f"{name}: {exc}") from None
    warnings = [f"{name}:{e.line}: {e.reason}" for e in parsed.errors]
    if parsed.ignored_columns:
        warnings.append(f"ignored columns: {', '.join(parsed.ignored_columns)}")
    _check_rows(len(parsed.companies) + len(parsed.errors), max_rows)
    if not parsed.companies:
        raise SubmissionError(422, f"{name} has no usable rows", warnings)
    return Leads(parsed.companies, warnings, hashlib.sha256(data).hexdigest(), name)


def parse_json_companies(rows: list[dict[str, Any]], max_rows: int) -> Leads:
    """Companies given as JSON objects (the ``Company`` fields), each checked on its own."""
    _check_rows(len(rows), max_rows)
    companies: list[Company] = []
    problems: list[RowError] = []
    for index, row in enumerate(rows, start=1):
        try:
            companies.append(Company.model_validate({**row, "line": index}))
        except ValidationError as exc:
            reason = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'row'}: {e['msg']}" for e in exc.errors()
            )
            problems.append(RowError(index, reason))
    warnings = [f"companies[{p.line - 1}]: {p.reason}" for p in problems]
    if not companies:
        raise SubmissionError(422, "no company can run", warnings)
    return Leads(companies, warnings)


def parse_campaign(text: str | None, default: Campaign | None) -> Campaign:
    """:raises SubmissionError: invalid TOML or fields, or no campaign at all."""
    if text is None or not text.strip():
        if default is None:
            raise SubmissionError(
                422, "no campaign: send one, or start the service with --campaign"
            )
        return default
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SubmissionError(422, f"the campaign is not valid TOML: {exc}") from None
    try:
        return Campaign.model_validate(data)
    except ValidationError as exc:
        errors = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise SubmissionError(422, "the campaign is invalid", errors) from None


def _check_rows(rows: int, max_rows: int) -> None:
    if rows > max_rows:
        raise SubmissionError(413, f"{rows} rows is more than this service takes ({max_rows})")
