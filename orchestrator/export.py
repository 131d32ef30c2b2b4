"""Exporting results: every workflow with its state and reason, or CRM-ready drafts.

Everything exported came, at some point, from the internet (a lead file, a
website, a model), so every string is cleaned on the way out (:func:`clean_text`):
NUL and other control characters are dropped (a terminal would run an escape
sequence; a CRM import chokes on NUL; tab, newline and carriage return stay) and
secrets are scrubbed.

A CSV cell that a spreadsheet would evaluate is prefixed with an apostrophe
(:func:`neutralise_cell`): one starting with ``=`` or ``@`` (or a tab or
carriage return, which some spreadsheets skip before reading a formula), and
one starting with ``+`` or ``-`` whose rest has an operator, a parenthesis or a
reference character (``-2+3``, ``+SUM(A1)``, ``-cmd|' /C calc'!A0``). A plain
signed number (``-5``, ``+1 555 0100``) or a name (``-Dana``) is data and stays.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import AsyncIterator, Iterable
from typing import Any, Literal, TextIO

from salesbus.agents.events import OutreachDrafted
from salesbus.agents.models import Channel, MessageKind
from salesbus.observability.secrets import scrub_secrets

from .approval import final_output
from .store import Store, WorkflowRecord

__all__ = ["CRM_COLUMNS", "clean_text", "export_batch", "neutralise_cell"]

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

_ALWAYS_FORMULA = ("=", "@", "\t", "\r")
_SIGNED = ("+", "-")
_FORMULA_CHARS = re.compile(r"[-+*/^&%=()|!:;,<>\[\]{}\"']")
"""In the rest of a ``+``/``-`` cell: what makes it compute or call something."""
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clean_text(value: str) -> str:
    """``value`` without control characters (tab, newline, carriage return stay) and secrets."""
    return scrub_secrets(_CONTROL.sub("", value))


def neutralise_cell(value: object) -> object:
    """A CSV cell a spreadsheet will show as data: cleaned, and ``'``-prefixed if it
    would be evaluated (see the module's docstring for the rule)."""
    if not isinstance(value, str):
        return value
    value = clean_text(value)
    if value.startswith(_ALWAYS_FORMULA) or (
        value.startswith(_SIGNED) and _FORMULA_CHARS.search(value, 1)
    ):
        return "'" + value
    return value


def _cleaned(value: Any) -> Any:
    """A JSON value with every string in it cleaned."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): _cleaned(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_cleaned(v) for v in value]
    return value


async def _records(
    store: Store, workflows: Iterable[WorkflowRecord]
) -> AsyncIterator[tuple[WorkflowRecord, OutreachDrafted | None]]:
    for workflow in workflows:
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
    workflows = await store.workflows(batch_id, states)
    count = 0
    writer: csv.DictWriter[str] | None = None
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=CRM_COLUMNS, extrasaction="ignore")
        writer.writeheader()
    async for workflow, drafted in _records(store, workflows):
        if writer is not None:
            row = _row(workflow, drafted)
            writer.writerow({k: neutralise_cell(v) for k, v in row.items()})
        else:
            out.write(json.dumps(_cleaned(_full(workflow, drafted)), ensure_ascii=False) + "\n")
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
