"""A batch: a lead list run under one campaign by one provider, with stable ids.

Ids are digests of what defines the work, so running the same command again
finds the same batch and the same workflows, and resumes instead of starting
over; change the leads, the campaign or the model and it is a new batch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from salesbus.agents.campaign import Campaign
from salesbus.agents.models import Company

from .store import BatchRecord, Store

__all__ = ["PreparedBatch", "batch_id_for", "prepare_batch", "workflow_id_for"]


def _digest(*parts: str) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(part.encode())
        hasher.update(b"\x00")
    return hasher.hexdigest()


def batch_id_for(leads_digest: str, campaign_digest: str, provider: str, model: str) -> str:
    return "b-" + _digest(leads_digest, campaign_digest, provider, model)[:10]


def workflow_id_for(batch_id: str, company: Company) -> str:
    return "wf-" + _digest(batch_id, company.key)[:12]


def companies_digest(companies: Sequence[Company]) -> str:
    return _digest(*(c.model_dump_json() for c in companies))


@dataclass(frozen=True, slots=True)
class PreparedBatch:
    batch: BatchRecord
    created: bool
    """``False`` when the batch already existed: this run resumes it."""
    added: int
    """Workflows new in this run."""


async def prepare_batch(
    store: Store,
    companies: Sequence[Company],
    campaign: Campaign,
    *,
    provider: str,
    model: str,
    leads_path: str | None = None,
    leads_digest: str | None = None,
    settings: dict[str, object] | None = None,
) -> PreparedBatch:
    """Record the batch and one workflow per company (idempotent)."""
    campaign_json = campaign.model_dump_json()
    campaign_digest = _digest(campaign_json)
    leads_digest = leads_digest or companies_digest(companies)
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
    added = await store.add_workflows(
        batch.id, [(workflow_id_for(batch.id, c), c) for c in companies]
    )
    return PreparedBatch(batch=await store.batch(batch.id), created=created, added=added)
