"""What the API answers about a batch and a workflow, as pydantic models (the OpenAPI schema)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from salesbus.bus import decode_event

from ..approval import final_output
from ..states import AWAITING_APPROVAL, TERMINAL_STATES
from ..store import Store, StoreError
from .reads import Reads
from .runtime_thread import RuntimeThread

__all__ = ["BatchView", "WorkflowView", "batch_view", "workflow_view"]


class BatchView(BaseModel):
    id: str
    created_at: str
    provider: str
    model: str
    leads: str | None
    total: int
    states: dict[str, int]
    finished: int
    awaiting_approval: int
    progress: float
    """Share of workflows that are finished or waiting for a person (0–1)."""
    running: bool
    cancelled: bool
    calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    retries: int
    eta_seconds: float | None
    error: str | None = None


class AttemptView(BaseModel):
    step: str
    attempt: int
    status: str
    started_at: str
    ended_at: str | None
    duration_ms: float | None
    error: str | None
    calls: int
    tokens: int
    cost_usd: float


class WorkflowView(BaseModel):
    id: str
    batch_id: str
    company: dict[str, Any]
    state: str
    step: str | None
    reason: str | None
    trace_id: str | None
    trace_url: str | None
    attempts: list[AttemptView]
    facts: list[dict[str, Any]]
    analysis: dict[str, Any] | None
    outreach: dict[str, Any] | None
    quality: dict[str, Any] | None
    decisions: list[dict[str, Any]]


async def batch_view(
    store: Store, reads: Reads, runtime: RuntimeThread, batch_id: str
) -> BatchView:
    summary = await reads.summary(batch_id)
    if summary is None:  # an id prefix (or no such batch: StoreError, a 404)
        summary = await reads.summary((await store.batch(batch_id)).id)
        if summary is None:
            raise StoreError(f"no batch {batch_id!r}")
    record, states, usage = summary, summary.states, summary.usage
    total = sum(states.values())
    finished = sum(n for s, n in states.items() if s in TERMINAL_STATES)
    waiting = states.get(AWAITING_APPROVAL, 0)
    rate = runtime.progress_rate(record.id, finished + waiting)
    left = total - finished - waiting
    return BatchView(
        id=record.id,
        created_at=record.created_at,
        provider=record.provider,
        model=record.model,
        leads=summary.leads_path,
        total=total,
        states=states,
        finished=finished,
        awaiting_approval=waiting,
        progress=(finished + waiting) / total if total else 1.0,
        running=runtime.running(record.id),
        cancelled=runtime.cancelled(record.id),
        calls=usage.calls,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cost_usd=round(usage.cost_usd, 6),
        retries=usage.retries,
        eta_seconds=round(left / rate, 1) if rate and left else (0.0 if not left else None),
        error=runtime.failure(record.id),
    )


async def workflow_view(store: Store, workflow_id: str, jaeger_url: str) -> WorkflowView:
    record = await store.workflow(workflow_id)
    attempts = await store.attempts(record.id)
    drafted = await final_output(store, record.id)
    facts: list[dict[str, Any]] = []
    analysis = outreach = quality = None
    if drafted is not None:
        facts = list(drafted.profile.model_dump(mode="json")["facts"])
        analysis = drafted.analysis.model_dump(mode="json")
        outreach = drafted.outreach.model_dump(mode="json")
        quality = outreach.pop("quality")
    else:
        for attempt in reversed(attempts):
            if attempt.status == "succeeded" and attempt.output_json:
                dumped = decode_event(attempt.output_json).model_dump(mode="json")
                profile = dumped.get("profile")
                if isinstance(profile, dict):
                    facts = list(profile.get("facts", []))
                if isinstance(dumped.get("analysis"), dict):
                    analysis = dumped["analysis"]
                break
    return WorkflowView(
        id=record.id,
        batch_id=record.batch_id,
        company=record.company.model_dump(mode="json", exclude_none=True),
        state=record.state,
        step=record.step,
        reason=record.reason,
        trace_id=record.trace_id,
        trace_url=f"{jaeger_url.rstrip('/')}/trace/{record.trace_id}" if record.trace_id else None,
        attempts=[
            AttemptView(
                step=a.step,
                attempt=a.attempt,
                status=a.status,
                started_at=a.started_at,
                ended_at=a.ended_at,
                duration_ms=a.duration_ms,
                error=f"{a.error_kind}: {a.error_message}" if a.error_kind else None,
                calls=a.calls,
                tokens=a.input_tokens
                + a.cache_read_tokens
                + a.cache_write_tokens
                + a.output_tokens,
                cost_usd=a.cost_usd,
            )
            for a in attempts
        ],
        facts=facts,
        analysis=analysis,
        outreach=outreach,
        quality=quality,
        decisions=await store.decisions(record.id),
    )
