"""Batches and workflows, with ids that say what the work is.

A workflow is one company under one campaign with one model: its id digests
the campaign, the provider and model, and the company's normalised key, not
the file it came in. A batch is a lead list run under that campaign and model
(its id digests the list too) and groups workflows by membership. So a rerun
of an unchanged file resumes its batch; a file with one row added is a new
batch whose unchanged rows are the same workflows, already done: only the new
row runs. ``--refresh`` runs a batch's workflows again on purpose.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from salesbus.agents.campaign import Campaign
from salesbus.agents.models import Company, domain_of

from .store import BatchRecord, Store

__all__ = [
    "PreparedBatch",
    "batch_id_for",
    "company_key",
    "leads_file_digest",
    "lease_scope",
    "prepare_batch",
    "workflow_id_for",
]

_PUNCTUATION = re.compile(r"[.,;:'\"()]+")
_SPACES = re.compile(r"\s+")


def _digest(*parts: str) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(part.encode())
        hasher.update(b"\x00")
    return hasher.hexdigest()


def company_key(company: Company) -> str:
    """The normalised domain (lower case, no scheme, ``www.`` or path), else the name.

    A name is case-folded with its whitespace collapsed and the punctuation of
    legal suffixes dropped, so "Acme, Inc." and "acme  inc" are one company.
    """
    domain = domain_of(company.domain) or domain_of(company.website)
    if domain:
        return domain.rstrip(".")
    name = _PUNCTUATION.sub(" ", company.name.casefold())
    return _SPACES.sub(" ", name).strip()


def leads_file_digest(path: Path, columns: Mapping[str, object] | None = None) -> str:
    """The digest of a lead file's bytes (read a block at a time), and of an explicit
    column map: another mapping reads other companies from the same bytes."""
    with path.open("rb") as handle:
        content = hashlib.file_digest(handle, "sha256")
    if columns:
        content.update(repr(sorted(columns.items())).encode())
    return content.hexdigest()


def batch_id_for(leads_digest: str, campaign_digest: str, provider: str, model: str) -> str:
    return "b-" + _digest(leads_digest, campaign_digest, provider, model)[:10]


def workflow_id_for(campaign_digest: str, provider: str, model: str, key: str) -> str:
    return "wf-" + _digest(campaign_digest, provider, model, key)[:12]


def lease_scope(batch: BatchRecord) -> str:
    """What one process at a time may run: every workflow of this campaign and model.

    Wider than the batch on purpose: two lead lists under one campaign share
    workflows, so two runs of them at once could run one company twice.
    """
    return "scope-" + _digest(batch.campaign_digest, batch.provider, batch.model)[:12]


@dataclass(frozen=True, slots=True)
class PreparedBatch:
    batch: BatchRecord
    created: bool
    """``False`` when the batch already existed: this run resumes it."""
    added: int
    """Workflows new to the store in this run (the others were known already)."""


async def prepare_batch(
    store: Store,
    companies: Iterable[Company],
    campaign: Campaign,
    *,
    provider: str,
    model: str,
    leads_path: str | None = None,
    leads_digest: str | None = None,
    settings: dict[str, object] | None = None,
) -> PreparedBatch:
    """Record the batch and its workflows (idempotent); companies are consumed as a stream.

    Without ``leads_digest`` (the CLI passes the file's) the companies are
    digested first, which needs them in memory.
    """
    campaign_json = campaign.model_dump_json()
    campaign_digest = _digest(campaign_json)
    if leads_digest is None:
        companies = list(companies)
        leads_digest = _digest(*(c.model_dump_json() for c in companies))
    batch = BatchRecord(
        id=batch_id_for(leads_digest, campaign_digest, provider, model),
        leads_digest=leads_digest,
        campaign_json=campaign_json,
        campaign_digest=campaign_digest,
        provider=provider,
        model=model,
        leads_path=leads_path,
        settings=dict(settings or {}),
    )

    def keyed() -> Iterator[tuple[str, str, Company]]:
        for company in companies:
            key = company_key(company)
            yield workflow_id_for(campaign_digest, provider, model, key), key, company

    created = await store.create_batch(batch)
    _, added = await store.add_workflows(batch.id, keyed())
    return PreparedBatch(batch=await store.batch(batch.id), created=created, added=added)
