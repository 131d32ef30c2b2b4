"""Exporting results: every workflow with its state and reason, or a CRM-ready sheet.

The CSV is one row per company that a CRM or sequencer imports as is: every
touch of the sequence (the first email, each follow-up with its day, the
LinkedIn note, the call script), the contact's first and last name apart, and
the company fields a rep filters on. The columns are listed in
:data:`CRM_COLUMNS` and README.md; the number of follow-up columns comes from
the batch's campaign (``limits.follow_up_days``), so every row has the same.

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
``excel=True`` starts the file with a UTF-8 byte-order mark, which
is how Windows Excel knows the file is UTF-8 (accents survive).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import AsyncIterator, Iterable
from typing import Any, Literal, TextIO

from nameparser import HumanName

from salesbus.agents.campaign import Campaign
from salesbus.agents.events import OutreachDrafted
from salesbus.agents.models import Channel, Contact, Message, MessageKind, Severity
from salesbus.observability.secrets import scrub_secrets

from .approval import final_output
from .store import Store, WorkflowRecord

__all__ = [
    "CRM_COLUMNS",
    "clean_text",
    "crm_columns",
    "export_batch",
    "export_chunks",
    "neutralise_cell",
    "split_name",
]

ExportFormat = Literal["jsonl", "csv"]

JAEGER_URL_ENV = "SALESBUS_JAEGER_URL"
DEFAULT_JAEGER_URL = "http://localhost:16686"

CRM_COLUMNS = [
    "workflow_id",
    "state",
    "reason",
    "company",
    "domain",
    "website",
    "industry",
    "country",
    "employees",
    "icp_score",
    "tier",
    "top_pain_point",
    "quality",
    "trace_url",
    "contact_first_name",
    "contact_last_name",
    "contact_name",
    "contact_title",
    "contact_email",
    "contact_linkedin",
    "email_day",
    "email_subject",
    "email_body",
]
"""The columns before the follow-ups; :func:`crm_columns` adds those and the last touches."""

_LAST_COLUMNS = ["linkedin_day", "linkedin_note", "call_day", "call_script"]

_SEVERITY = list(Severity)
"""Least to most severe: the top pain point is the first of the most severe."""

_ALWAYS_FORMULA = ("=", "@", "\t", "\r")
_SIGNED = ("+", "-")
_FORMULA_CHARS = re.compile(r"[-+*/^&%=()|!:;,<>\[\]{}\"']")
"""In the rest of a ``+``/``-`` cell: what makes it compute or call something."""
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def crm_columns(follow_ups: int) -> list[str]:
    """Every CSV column for a campaign with ``follow_ups`` follow-up emails."""
    middle = [
        f"follow_up_{n}_{part}"
        for n in range(1, follow_ups + 1)
        for part in ("day", "subject", "body")
    ]
    return [*CRM_COLUMNS, *middle, *_LAST_COLUMNS]


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


def split_name(name: str) -> tuple[str, str]:
    """(first, last) of a person's name: ``"Dr. Jane van der Berg"`` → ``"Jane", "van der Berg"``.

    nameparser knows titles, suffixes and particles; a single word is a first name.
    Middle names go with the last name, so nothing but titles and suffixes is dropped
    (``"José Álvarez Ruiz"`` → ``"José", "Álvarez Ruiz"``).
    """
    parsed = HumanName(name)
    first = str(parsed.first)
    last = " ".join(part for part in (str(parsed.middle), str(parsed.last)) if part)
    if not first and not last:
        return name.strip(), ""
    return first, last


async def _records(
    store: Store, batch_id: str, states: Iterable[str] | None
) -> AsyncIterator[tuple[WorkflowRecord, OutreachDrafted | None]]:
    """Streamed from the database a page at a time: memory stays flat for any batch."""
    async for workflow in store.iter_workflows(batch_id, states):
        yield workflow, await final_output(store, workflow.id)


def _contact_cells(contact: Contact | None) -> dict[str, Any]:
    if contact is None:
        return {}
    first, last = split_name(contact.name)
    return {
        "contact_first_name": first,
        "contact_last_name": last,
        "contact_name": contact.name,
        "contact_title": contact.title or "",
        "contact_email": contact.email or "",
        "contact_linkedin": contact.linkedin or "",
    }


def _touch_cells(messages: list[Message]) -> dict[str, Any]:
    cells: dict[str, Any] = {}
    follow_up = 0
    for message in messages:
        if message.channel is Channel.EMAIL and message.kind is MessageKind.INITIAL:
            prefix = "email"
        elif message.kind is MessageKind.FOLLOW_UP:
            follow_up += 1
            prefix = f"follow_up_{follow_up}"
        elif message.kind is MessageKind.CONNECTION_NOTE:
            cells.update(linkedin_day=message.day_offset, linkedin_note=message.body)
            continue
        elif message.kind is MessageKind.CALL_SCRIPT:
            cells.update(call_day=message.day_offset, call_script=message.body)
            continue
        else:
            continue
        cells[f"{prefix}_day"] = message.day_offset
        cells[f"{prefix}_subject"] = message.subject or ""
        cells[f"{prefix}_body"] = message.body
    return cells


def _row(
    workflow: WorkflowRecord, drafted: OutreachDrafted | None, jaeger_url: str
) -> dict[str, Any]:
    company = workflow.company
    row: dict[str, Any] = {
        "workflow_id": workflow.id,
        "state": workflow.state,
        "reason": workflow.reason or "",
        "company": company.name,
        "domain": company.domain or "",
        "website": company.website or "",
        "industry": company.industry or "",
        "country": company.country or "",
        "employees": company.employees if company.employees is not None else "",
        "trace_url": f"{jaeger_url.rstrip('/')}/trace/{workflow.trace_id}"
        if workflow.trace_id
        else "",
    }
    contact = (drafted.outreach.primary_contact if drafted else None) or company.contact
    row.update(_contact_cells(contact))
    if drafted is not None:
        outreach, analysis, profile = drafted.outreach, drafted.analysis, drafted.profile
        top = max(analysis.pain_points, key=lambda p: _SEVERITY.index(p.severity), default=None)
        row.update(
            industry=row["industry"] or profile.industry or "",
            country=row["country"] or profile.location or "",
            employees=row["employees"] if row["employees"] != "" else (profile.employees or ""),
            icp_score=analysis.icp_score,
            tier=analysis.tier.value,
            top_pain_point=top.description if top else "",
            quality=outreach.quality.decision.value,
        )
        row.update(_touch_cells(list(outreach.messages)))
    return row


async def export_batch(
    store: Store,
    batch_id: str,
    out: TextIO,
    *,
    fmt: ExportFormat = "jsonl",
    states: Iterable[str] | None = None,
    excel: bool = False,
    jaeger_url: str | None = None,
) -> int:
    """Write the batch's workflows to ``out``; returns how many were written."""
    count = 0
    async for chunk, rows in export_chunks(
        store, batch_id, fmt=fmt, states=states, excel=excel, jaeger_url=jaeger_url
    ):
        out.write(chunk)
        count += rows
    return count


async def export_chunks(
    store: Store,
    batch_id: str,
    *,
    fmt: ExportFormat = "jsonl",
    states: Iterable[str] | None = None,
    excel: bool = False,
    jaeger_url: str | None = None,
) -> AsyncIterator[tuple[str, int]]:
    """The export as text chunks (the header, then one per workflow) and the rows in each.

    Read from the store a page at a time, so the HTTP service streams a batch
    of any size without holding it: memory stays flat.
    """
    jaeger_url = jaeger_url or os.environ.get(JAEGER_URL_ENV) or DEFAULT_JAEGER_URL
    writer: csv.DictWriter[str] | None = None
    buffer = io.StringIO()
    if fmt == "csv":
        batch = await store.batch(batch_id)
        follow_ups = len(Campaign.model_validate_json(batch.campaign_json).limits.follow_up_days)
        writer = csv.DictWriter(
            buffer, fieldnames=crm_columns(follow_ups), extrasaction="ignore", restval=""
        )
        writer.writeheader()
        yield ("\ufeff" if excel else "") + _take(buffer), 0
    async for workflow, drafted in _records(store, batch_id, states):
        if writer is not None:
            row = _row(workflow, drafted, jaeger_url)
            writer.writerow({k: neutralise_cell(v) for k, v in row.items()})
            yield _take(buffer), 1
        else:
            yield json.dumps(_cleaned(_full(workflow, drafted)), ensure_ascii=False) + "\n", 1


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


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
