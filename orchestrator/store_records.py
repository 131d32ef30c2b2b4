"""What the store's rows read as: batches, workflows, attempts, and where a workflow stands.

Plain frozen records, so callers never hold a database row; the converters
from rows and the column lists the workflow queries share live here too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiosqlite

from salesbus.agents.models import Company

from .states import TERMINAL_STATES

__all__ = [
    "MEMBER_COLUMNS",
    "OWN_COLUMNS",
    "PAGE",
    "AttemptRecord",
    "BatchRecord",
    "ResumePoint",
    "StepHistory",
    "WorkflowRecord",
    "attempt_from_row",
    "batch_from_row",
    "now",
    "workflow_from_row",
]

PAGE = 500
"""Rows read per query when a batch is streamed."""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True, slots=True)
class BatchRecord:
    id: str
    leads_digest: str
    campaign_json: str
    campaign_digest: str
    provider: str
    model: str
    leads_path: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    created_at: str = field(default_factory=now)


@dataclass(frozen=True, slots=True)
class WorkflowRecord:
    id: str
    batch_id: str
    seq: int
    company: Company
    state: str
    step: str | None
    reason: str | None
    retry_base: int
    trace_id: str | None
    span_id: str | None
    created_at: str
    updated_at: str
    finished_at: str | None

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL_STATES


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    workflow_id: str
    step: str
    attempt: int
    status: str
    started_at: str
    ended_at: str | None
    duration_ms: float | None
    error_kind: str | None
    error_message: str | None
    retryable: bool | None
    input_json: str | None
    output_json: str | None
    calls: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: float


@dataclass(slots=True)
class StepHistory:
    last_attempt: int = 0
    """The highest attempt number recorded (new attempts number on from it)."""
    failures: int = 0
    """Failed attempts since the retry base: what the retry budget counts."""
    crashes: int = 0
    """Attempts a crash or stop interrupted since the retry base: outside the budget."""


@dataclass(slots=True)
class ResumePoint:
    outputs: dict[str, str] = field(default_factory=dict)
    steps: dict[str, StepHistory] = field(default_factory=dict)


_FIELDS = (
    "w.company_json, w.state, w.step, w.reason, w.retry_base, w.trace_id, w.span_id,"
    " w.created_at, w.updated_at, w.finished_at"
)
MEMBER_COLUMNS = f"w.id, m.batch_id, m.seq, {_FIELDS}"
"""A workflow seen as a member of a batch: that batch's id and lead-list order."""
OWN_COLUMNS = f"w.id, w.batch_id, w.seq, {_FIELDS}"
"""A workflow on its own: the batch that first recorded it."""


def batch_from_row(row: aiosqlite.Row) -> BatchRecord:
    return BatchRecord(
        id=row["id"],
        leads_digest=row["leads_digest"],
        campaign_json=row["campaign_json"],
        campaign_digest=row["campaign_digest"],
        provider=row["provider"],
        model=row["model"],
        leads_path=row["leads_path"],
        settings=json.loads(row["settings_json"]),
        created_at=row["created_at"],
    )


def workflow_from_row(row: aiosqlite.Row) -> WorkflowRecord:
    return WorkflowRecord(
        id=row["id"],
        batch_id=row["batch_id"],
        seq=row["seq"],
        company=Company.model_validate_json(row["company_json"]),
        state=row["state"],
        step=row["step"],
        reason=row["reason"],
        retry_base=row["retry_base"],
        trace_id=row["trace_id"],
        span_id=row["span_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        finished_at=row["finished_at"],
    )


def attempt_from_row(row: aiosqlite.Row, output_json: str | None) -> AttemptRecord:
    retryable = row["retryable"]
    return AttemptRecord(
        workflow_id=row["workflow_id"],
        step=row["step"],
        attempt=row["attempt"],
        status=row["status"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        duration_ms=row["duration_ms"],
        error_kind=row["error_kind"],
        error_message=row["error_message"],
        retryable=None if retryable is None else bool(retryable),
        input_json=row["input_json"],
        output_json=output_json,
        calls=row["calls"],
        input_tokens=row["input_tokens"],
        output_tokens=row["output_tokens"],
        cache_read_tokens=row["cache_read_tokens"],
        cache_write_tokens=row["cache_write_tokens"],
        cost_usd=row["cost_usd"],
    )
