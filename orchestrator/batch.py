"""Batches and workflows, with ids that say what the work is.

A workflow is one company under one campaign with one model: its id digests
the campaign, the provider and model, and the company's key, not the file it
came in. The key is the lead reader's :func:`~salesbus.agents.leads.company_key`
(registrable domain, else normalised name), the same one that decides duplicate
rows; a store written under the older key is still joined (:func:`_keyed`).
A batch is a lead list run under that campaign and model
(its id digests the list too) and groups workflows by membership. So a rerun
of an unchanged file resumes its batch; a file with one row added is a new
batch whose unchanged rows are the same workflows, already done: only the new
row runs. ``--refresh`` runs a batch's workflows again on purpose.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from salesbus.agents.campaign import Campaign
from salesbus.agents.leads.websites import company_key
from salesbus.agents.models import Company, domain_of

from .store import PAGE, BatchRecord, Store

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


def legacy_company_key(company: Company) -> str:
    """The key workflows were identified by before :func:`company_key` was shared
    with the lead reader: the host (no ``www.``), else the case-folded name with
    punctuation dropped. Kept only to find those workflows in existing stores."""
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

    created = await store.create_batch(batch)
    added = 0
    seq = 0
    for page in _pages(companies):
        items = await _keyed(store, page, campaign_digest, provider, model)
        added += (await store.add_workflows(batch.id, items, first_seq=seq))[1]
        seq += len(page)
    return PreparedBatch(batch=await store.batch(batch.id), created=created, added=added)


async def _keyed(
    store: Store, companies: list[Company], campaign_digest: str, provider: str, model: str
) -> list[tuple[str, str, Company]]:
    """Each company's workflow id and key: by :func:`company_key`, unless the store
    already holds the company under its :func:`legacy_company_key` (a database
    written before the key was shared): then that workflow is joined, so an
    existing store neither runs nor pays for those companies again."""
    keyed = []
    for company in companies:
        key, legacy = company_key(company), legacy_company_key(company)
        ids = [workflow_id_for(campaign_digest, provider, model, k) for k in (key, legacy)]
        keyed.append((key, legacy, ids[0], ids[1]))
    differing = [i for key, legacy, *ids in keyed if legacy != key for i in ids]
    known = await store.known_workflows(differing)
    return [
        (old_id, legacy, company)
        if old_id in known and new_id not in known
        else (new_id, key, company)
        for (key, legacy, new_id, old_id), company in zip(keyed, companies, strict=True)
    ]


def _pages(companies: Iterable[Company]) -> Iterator[list[Company]]:
    iterator = iter(companies)
    while page := list(itertools.islice(iterator, PAGE)):
        yield page
