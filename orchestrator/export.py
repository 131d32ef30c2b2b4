"""Exporting results: every workflow with its state and reason, or CRM-ready drafts.

A CSV cell that a spreadsheet would run as a formula (starting with ``=``,
``+``, ``-``, ``@``, or a tab/carriage return) is prefixed with an apostrophe:
lead data comes from the internet, and a company description is no place for
a formula.
"""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator, Iterable
from typing import Any, Literal, TextIO

from salesbus.agents.events import OutreachDrafted
from salesbus.agents.models import Channel, MessageKind

from .approval import final_output
from .store import Store, WorkflowRecord

__all__ = ["CRM_COLUMNS", "export_batch", "neutralise_cell"]

ExportFormat = Literal["jsonl", "csv"]

CRM_COLUMNS = [
    "workflow_id",
    "state",
    "reason",
    "company",
    "domain",
    "contact_name",
    "contact_title",
    "contact_email",
    "email_subject",
    "email_body",
    "linkedin_note",
    "icp_score",
    "tier",
    "quality",
]

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


async def _records(
    store: Store, batch_id: str, states: Iterable[str] | None
) -> AsyncIterator[tuple[WorkflowRecord, OutreachDrafted | None]]:
    """Streamed from the database a page at a time: memory stays flat for any batch."""
    async for workflow in store.iter_workflows(batch_id, states):
        yield workflow, await final_output(store, workflow.id)


def _row(workflow: WorkflowRecord, drafted: OutreachDrafted | None) -> dict[str, Any]:
    company = workflow.company
    contact = (drafted.outreach.primary_contact if drafted else None) or company.contact
    row: dict[str, Any] = {
        "workflow_id": workflow.id,
        "state": workflow.state,
        "reason": workflow.reason or "",
        "company": company.name,
        "domain": company.domain or "",
        "contact_name": contact.name if contact else "",
        "contact_title": (contact.title or "") if contact else "",
        "contact_email": (contact.email or "") if contact else "",
        "email_subject": "",
        "email_body": "",
        "linkedin_note": "",
        "icp_score": "",
        "tier": "",
        "quality": "",
    }
    if drafted is not None:
        outreach, analysis = drafted.outreach, drafted.analysis
        email = next(
            (
                m
                for m in outreach.messages
                if m.channel is Channel.EMAIL and m.kind is MessageKind.INITIAL
            ),
            None,
        )
        note = next((m for m in outreach.messages if m.kind is MessageKind.CONNECTION_NOTE), None)
        row.update(
            email_subject=(email.subject or "") if email else "",
            email_body=email.body if email else "",
            linkedin_note=note.body if note else "",
            icp_score=analysis.icp_score,
            tier=analysis.tier.value,
            quality=outreach.quality.decision.value,
        )
    return row


async def export_batch(
    store: Store,
    batch_id: str,
    out: TextIO,
    *,
    fmt: ExportFormat = "jsonl",
    states: Iterable[str] | None = None,
) -> int:
    """Write the batch's workflows to ``out``; returns how many were written."""
    count = 0
    writer: csv.DictWriter[str] | None = None
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=CRM_COLUMNS, extrasaction="ignore")
        writer.writeheader()
    async for workflow, drafted in _records(store, batch_id, states):
        if writer is not None:
            row = _row(workflow, drafted)
            writer.writerow({k: neutralise_cell(v) for k, v in row.items()})
        else:
            out.write(json.dumps(_full(workflow, drafted), ensure_ascii=False) + "\n")
        count += 1
    return count


def _full(workflow: WorkflowRecord, drafted: OutreachDrafted | None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "workflow_id": workflow.id,
        "batch_id": workflow.batch_id,
        "state": workflow.state,
        "reason": workflow.reason,
        "company": workflow.company.model_dump(mode="json", exclude_none=True),
    }
    if drafted is not None:
        record["profile"] = drafted.profile.model_dump(mode="json")
        record["analysis"] = drafted.analysis.model_dump(mode="json")
        record["outreach"] = drafted.outreach.model_dump(mode="json")
    return record
