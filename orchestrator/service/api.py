"""The JSON API: batches, workflows, decisions, the event stream, metrics and health.

Each endpoint parses, calls one function of the package and answers; the
work lives in :mod:`.runtime`, :mod:`.drafts`, :mod:`..approval` and
:mod:`..export`. Reads run here, on the HTTP loop, through ``svc.store`` and
``svc.reads`` (a read-only connection); every write is handed to the
runtime's loop through ``svc.runtime`` (see :mod:`.runtime_thread`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import UploadFile

from salesbus.agents.campaign import Campaign

from .. import approval
from ..export import export_chunks
from .app import Service, service
from .drafts import BulkResult, DraftFilter, bulk_approve, bulk_choice
from .prometheus import CONTENT_TYPE, prometheus_text
from .runtime import BatchLimits
from .sse import event_stream
from .submit import (
    BatchRequest,
    Leads,
    LimitsIn,
    SubmissionError,
    parse_campaign,
    parse_json_companies,
    parse_lead_file,
)
from .views import BatchView, WorkflowView, batch_view, workflow_view

__all__ = ["health", "router"]

health = APIRouter(tags=["health"])
router = APIRouter()
Svc = Annotated[Service, Depends(service)]


class Problem(BaseModel):
    """Every error answer: a message, and the row or field errors when there are several."""

    message: str
    errors: list[str] = Field(default_factory=list)


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem} for code in (401, 404, 409, 413, 422)
}


class Submitted(BaseModel):
    batch: BatchView
    created: bool
    """``False``: the same leads, campaign and model were posted before; this is that batch."""
    started: bool
    warnings: list[str]


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(default=None, max_length=2000)
    reviewer: str | None = Field(
        default=None, max_length=200, description="Who decides: named to whoever loses a race."
    )


class EditIn(Note):
    subject: str | None = Field(default=None, max_length=1000)
    body: str | None = Field(default=None, max_length=20_000)
    linkedin_note: str | None = Field(default=None, max_length=5000)


class BulkIn(DraftFilter):
    note: str | None = Field(default=None, max_length=2000)
    reviewer: str | None = Field(default=None, max_length=200)


# -- health --------------------------------------------------------------------------


@health.get("/healthz")
async def healthz() -> dict[str, str]:
    """Alive: answers without a token."""
    return {"status": "ok"}


@health.get("/readyz", responses={503: {"model": Problem}})
async def readyz(svc: Svc) -> Any:
    """Ready for work: the store answers and the service is not shutting down."""
    if svc.closing or svc.runtime.stopping:
        return JSONResponse({"message": "shutting down"}, 503)
    await svc.reads.last_seq()
    return {"status": "ready"}


# -- batches -------------------------------------------------------------------------

_UPLOAD_SCHEMA = {
    "type": "object",
    "required": ["leads"],
    "properties": {
        "leads": {"type": "string", "format": "binary", "description": "CSV, TSV or JSONL"},
        "campaign": {"type": "string", "format": "binary", "description": "campaign TOML"},
        **LimitsIn.model_json_schema()["properties"],
    },
}


@router.post(
    "/batches",
    status_code=202,
    response_model=Submitted,
    responses={200: {"model": Submitted, "description": "posted before"}, **ERRORS},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {"schema": _UPLOAD_SCHEMA},
                "application/json": {"schema": BatchRequest.model_json_schema()},
            },
        }
    },
)
async def submit_batch(request: Request, response: Response, svc: Svc) -> Submitted:
    """Submit a batch: a lead file (multipart) or companies as JSON; runs at once.

    Posting the same leads with the same campaign and model again answers the
    existing batch (200) instead of a new one (202).
    """
    config = svc.config
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        leads, campaign_text, limits = await _multipart(request, config.max_rows)
    elif kind == "application/json":
        try:
            body = BatchRequest.model_validate_json(await request.body())
        except ValidationError as exc:
            errors = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
            raise SubmissionError(422, "the request is invalid", errors) from None
        leads = parse_json_companies(body.companies, config.max_rows)
        campaign_text, limits = body.campaign_toml, body
    else:
        raise SubmissionError(422, "send multipart/form-data (a lead file) or application/json")
    campaign = parse_campaign(campaign_text, config.campaign)
    submitted = await svc.runtime.submit(
        leads.companies,
        campaign,
        model=limits.model,
        limits=BatchLimits(limits.concurrency, limits.max_attempts, limits.step_timeout),
        leads_digest=leads.digest,
        leads_name=leads.name,
    )
    batch = submitted.batch
    if not batch.created:
        response.status_code = 200
    return Submitted(
        batch=await batch_view(svc.store, svc.reads, svc.runtime, batch.batch.id),
        created=batch.created,
        started=submitted.started,
        warnings=leads.warnings,
    )


async def _multipart(request: Request, max_rows: int) -> tuple[Leads, str | None, LimitsIn]:
    form = await request.form(max_files=2, max_fields=10)
    upload = form.get("leads")
    if not isinstance(upload, UploadFile):
        raise SubmissionError(422, "the form needs a `leads` file")
    leads = await parse_lead_file(upload.filename or "leads.csv", await upload.read(), max_rows)
    campaign = form.get("campaign")
    if isinstance(campaign, UploadFile):
        raw = await campaign.read()
        try:
            campaign_text: str | None = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise SubmissionError(422, "the campaign is not UTF-8 text") from None
    else:
        campaign_text = campaign
    fields = {k: v for k, v in form.items() if k in LimitsIn.model_fields and v != ""}
    try:
        limits = LimitsIn.model_validate(fields)
    except ValidationError as exc:
        errors = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise SubmissionError(422, "the form is invalid", errors) from None
    return leads, campaign_text, limits


@router.get("/batches", response_model=list[BatchView], responses=ERRORS)
async def list_batches(svc: Svc) -> list[BatchView]:
    """Every batch in the store, oldest first, with counts, progress, cost and ETA."""
    return [
        await batch_view(svc.store, svc.reads, svc.runtime, batch_id)
        for batch_id in await svc.reads.batch_ids()
    ]


@router.get("/batches/{batch_id}", response_model=BatchView, responses=ERRORS)
async def get_batch(batch_id: str, svc: Svc) -> BatchView:
    """Counts by state, progress, tokens, cost and ETA of one batch."""
    return await batch_view(svc.store, svc.reads, svc.runtime, batch_id)


@router.get(
    "/batches/{batch_id}/results",
    responses={200: {"content": {"application/x-ndjson": {}, "text/csv": {}}}, **ERRORS},
)
async def batch_results(
    batch_id: str,
    svc: Svc,
    format: Literal["jsonl", "csv"] = "jsonl",
    status: Annotated[str | None, Query(description="States, comma-separated.")] = None,
    excel: Annotated[bool, Query(description="CSV with a UTF-8 BOM for Excel.")] = False,
) -> Response:
    """The export: every workflow (JSONL) or the CRM sheet (CSV, columns in the README)."""
    record = await svc.store.batch(batch_id)  # 404 before the first byte
    states = [s.strip() for s in status.split(",") if s.strip()] if status else None
    kind = "text/csv; charset=utf-8" if format == "csv" else "application/x-ndjson"
    name = f"{record.id}.{format}"

    async def body() -> AsyncIterator[bytes]:
        async for chunk, _ in export_chunks(
            svc.store, record.id, fmt=format, states=states, excel=excel
        ):
            yield chunk.encode("utf-8")

    return StreamingResponse(
        body(),
        media_type=kind,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/batches/{batch_id}/approve", response_model=BulkResult, responses=ERRORS)
async def approve_batch(batch_id: str, filters: BulkIn, svc: Svc) -> BulkResult:
    """Approve every draft of the batch awaiting approval that the filters select."""
    record = await svc.store.batch(batch_id)
    where = DraftFilter(
        ids=filters.ids, tier=filters.tier, min_score=filters.min_score, quality=filters.quality
    )
    chosen = await bulk_choice(svc.store, svc.reads, record.id, where)
    return await svc.runtime.with_store(bulk_approve, chosen, filters.note, filters.reviewer)


@router.post("/batches/{batch_id}/cancel", response_model=BatchView, responses=ERRORS)
async def cancel_batch(batch_id: str, svc: Svc) -> BatchView:
    """Stop admitting the batch's companies; steps in flight finish. 409 when not running."""
    record = await svc.store.batch(batch_id)
    if not await svc.runtime.cancel(record.id):
        raise SubmissionError(409, f"batch {record.id} is not running")
    return await batch_view(svc.store, svc.reads, svc.runtime, record.id)


# -- workflows -----------------------------------------------------------------------


@router.get("/workflows/{workflow_id}", response_model=WorkflowView, responses=ERRORS)
async def get_workflow(workflow_id: str, svc: Svc) -> WorkflowView:
    """Steps and attempts, facts with sources, analysis, drafts, quality report, trace link."""
    return await workflow_view(svc.store, workflow_id, svc.config.jaeger_url)


@router.post("/workflows/{workflow_id}/approve", response_model=WorkflowView, responses=ERRORS)
async def approve_workflow(
    workflow_id: str, svc: Svc, decision: Note | None = None
) -> WorkflowView:
    """Approve the draft; 409 naming who decided first when it is no longer waiting."""
    decision = decision or Note()
    record = await svc.runtime.with_store(
        approval.approve, workflow_id, decision.note, decision.reviewer
    )
    return await workflow_view(svc.store, record.id, svc.config.jaeger_url)


@router.post("/workflows/{workflow_id}/reject", response_model=WorkflowView, responses=ERRORS)
async def reject_workflow(workflow_id: str, svc: Svc, decision: Note | None = None) -> WorkflowView:
    """Reject the draft; 409 naming who decided first when it is no longer waiting."""
    decision = decision or Note()
    record = await svc.runtime.with_store(
        approval.reject, workflow_id, decision.note, decision.reviewer
    )
    return await workflow_view(svc.store, record.id, svc.config.jaeger_url)


@router.post("/workflows/{workflow_id}/edit", response_model=WorkflowView, responses=ERRORS)
async def edit_workflow(workflow_id: str, change: EditIn, svc: Svc) -> WorkflowView:
    """Edit the first email or LinkedIn note: re-checked, approved if it passes, else 422."""
    record = await svc.store.workflow(workflow_id)
    batch = await svc.store.batch(record.batch_id)
    campaign = Campaign.model_validate_json(batch.campaign_json)
    edit = approval.Edit(
        subject=change.subject, body=change.body, linkedin_note=change.linkedin_note
    )
    record = await svc.runtime.with_store(
        approval.edit, record.id, edit, campaign, change.note, change.reviewer
    )
    return await workflow_view(svc.store, record.id, svc.config.jaeger_url)


@router.post("/workflows/{workflow_id}/retry", response_model=WorkflowView, responses=ERRORS)
async def retry_workflow(workflow_id: str, svc: Svc) -> WorkflowView:
    """Run a failed workflow again from its failed step, with a fresh retry budget."""
    record = await svc.runtime.retry(await svc.store.workflow(workflow_id))
    return await workflow_view(svc.store, record.id, svc.config.jaeger_url)


# -- feeds ---------------------------------------------------------------------------


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}, **ERRORS},
)
async def events(
    svc: Svc,
    batch: str | None = None,
    last_event_id: Annotated[str | None, Header()] = None,
    after: Annotated[int | None, Query(ge=0, description="Start after this event id.")] = None,
) -> StreamingResponse:
    """Server-sent events of state changes in log order; resumes after ``Last-Event-ID``."""
    if batch is not None:
        batch = (await svc.store.batch(batch)).id
    start = after or 0
    if last_event_id is not None and last_event_id.strip().isdigit():
        start = int(last_event_id.strip())
    stream = event_stream(svc.reads, start, batch, lambda: svc.closing)
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE: {}}}})
async def metrics(svc: Svc) -> Response:
    """Prometheus text: workflows by state, step latency, retries, tokens, cost, queue depth."""
    return Response(await prometheus_text(svc.reads, svc.runtime), media_type=CONTENT_TYPE)
