"""Turning what a client posts into a batch's companies and campaign, or a clear refusal.

The lead file goes through the same reader as ``salesbus run`` (CSV with any
common delimiter, TSV, JSONL), so its warnings are the same lines with the
same numbers. Nothing is stored unless the whole submission is usable.
"""

from __future__ import annotations

import hashlib
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from salesbus.agents.campaign import Campaign
from salesbus.agents.errors import LeadFileError
from salesbus.agents.leads import LeadFile, read_leads
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


LEAD_SUFFIXES = frozenset({".csv", ".tsv", ".txt", ".jsonl", ".ndjson", ".json"})


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


async def parse_lead_file(name: str, data: bytes, max_rows: int) -> Leads:
    """:raises SubmissionError: unreadable, over ``max_rows`` rows, or no usable row.

    The upload goes through :func:`read_leads` itself (from a scratch file named
    with the upload's suffix, in a worker thread), so its encodings, columns and
    warnings are exactly those of ``salesbus run``.
    """
    suffix = Path(name).suffix.lower()
    if suffix not in LEAD_SUFFIXES:
        suffix = ".csv"
    try:
        parsed = await anyio.to_thread.run_sync(_read_upload, data, suffix)
    except LeadFileError as exc:
        raise SubmissionError(422, f"{name}: {exc}") from None
    warnings = [
        f"{name}:{w.line}: " + (f"{w.column}: " if w.column else "") + w.message
        for w in parsed.warnings
    ]
    _check_rows(len(parsed.companies) + len(parsed.dropped), max_rows)
    if not parsed.companies:
        raise SubmissionError(422, f"{name} has no usable rows", warnings)
    return Leads(parsed.companies, warnings, hashlib.sha256(data).hexdigest(), name)


def _read_upload(data: bytes, suffix: str) -> LeadFile:
    with tempfile.TemporaryDirectory(prefix="salesbus-upload-") as scratch:
        path = Path(scratch) / f"leads{suffix}"
        path.write_bytes(data)
        return read_leads(path)


def parse_json_companies(rows: list[dict[str, Any]], max_rows: int) -> Leads:
    """Companies given as JSON objects (the ``Company`` fields), each checked on its own."""
    _check_rows(len(rows), max_rows)
    companies: list[Company] = []
    warnings: list[str] = []
    for index, row in enumerate(rows):
        try:
            companies.append(Company.model_validate({**row, "line": index + 1}))
        except ValidationError as exc:
            reason = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'row'}: {e['msg']}" for e in exc.errors()
            )
            warnings.append(f"companies[{index}]: {reason}")
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
