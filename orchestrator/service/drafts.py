"""Drafts awaiting approval, filtered the way reviewers filter them, and bulk decisions.

The inbox lists with :func:`awaiting_drafts` and ``POST /batches/{id}/approve``
chooses with :func:`bulk_choice` (reads) and decides with :func:`bulk_approve`
(writes, on the runtime's loop); listing and choosing use the same :class:`DraftFilter`, so
"approve what I see" approves exactly what was shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from salesbus.agents.events import OutreachDrafted
from salesbus.agents.models import QualityDecision, Tier

from .. import approval
from ..states import AWAITING_APPROVAL
from ..store import Store, StoreError, WorkflowRecord
from .reads import Reads

__all__ = ["BulkResult", "Draft", "DraftFilter", "awaiting_drafts", "bulk_approve", "bulk_choice"]

SCAN_LIMIT = 100_000
"""Most drafts awaiting approval looked at for one listing or bulk decision."""


class DraftFilter(BaseModel):
    """Which drafts awaiting approval: every given condition must hold."""

    model_config = ConfigDict(extra="forbid")
    ids: list[str] | None = Field(default=None, max_length=10_000)
    tier: Tier | None = None
    min_score: int | None = Field(default=None, ge=0, le=100)
    quality: QualityDecision | None = None

    def matches(self, workflow: WorkflowRecord, drafted: OutreachDrafted | None) -> bool:
        if self.ids is not None and workflow.id not in self.ids:
            return False
        if drafted is None:
            return self.tier is None and self.min_score is None and self.quality is None
        if self.tier is not None and drafted.analysis.tier is not self.tier:
            return False
        if self.min_score is not None and drafted.analysis.icp_score < self.min_score:
            return False
        return self.quality is None or drafted.outreach.quality.decision is self.quality


@dataclass(frozen=True, slots=True)
class Draft:
    workflow: WorkflowRecord
    drafted: OutreachDrafted | None


class BulkResult(BaseModel):
    approved: list[str]
    skipped: dict[str, str]
    """Workflows that matched but were not approved, and why: who decided them first."""


async def awaiting_drafts(
    store: Store, reads: Reads, batch_id: str | None, where: DraftFilter, limit: int = 500
) -> list[Draft]:
    """The first ``limit`` drafts awaiting approval that ``where`` selects, oldest first."""
    drafts: list[Draft] = []
    for workflow_id in await reads.awaiting(batch_id, limit=SCAN_LIMIT):
        workflow = await store.workflow(workflow_id)
        drafted = await approval.final_output(store, workflow.id)
        if where.matches(workflow, drafted):
            drafts.append(Draft(workflow, drafted))
            if len(drafts) >= limit:
                break
    return drafts


async def bulk_choice(store: Store, reads: Reads, batch_id: str, where: DraftFilter) -> list[str]:
    """What a bulk approval decides: the batch's drafts awaiting approval that ``where``
    selects, then the ids it names that were already decided (so that they are reported
    with who won rather than silently left out)."""
    chosen = [
        d.workflow.id for d in await awaiting_drafts(store, reads, batch_id, where, SCAN_LIMIT)
    ]
    return [*chosen, *await _decided_already(store, batch_id, where.ids or [], set(chosen))]


async def bulk_approve(
    store: Store, ids: list[str], note: str | None = None, reviewer: str | None = None
) -> BulkResult:
    """Approve the workflows :func:`bulk_choice` chose (with the store that writes).

    The decisions are :func:`approval.decide_many`'s compare-and-sets: a draft
    another reviewer (or the CLI) decided first is reported as skipped with who
    won, never decided twice.
    """
    result = BulkResult(approved=[], skipped={})
    for decided in await approval.decide_many(store, "approve", ids, note=note, reviewer=reviewer):
        if decided.won:
            result.approved.append(decided.workflow.id)
        else:
            result.skipped[decided.workflow.id] = decided.detail
    return result


async def _decided_already(
    store: Store, batch_id: str, ids: list[str], chosen: set[str]
) -> list[str]:
    """The named workflows of the batch that are no longer awaiting approval."""
    found: list[str] = []
    for workflow_id in ids:
        if workflow_id in chosen:
            continue
        try:
            workflow = await store.workflow(workflow_id)
        except StoreError:
            continue  # not a workflow at all: nothing to report a winner for
        if workflow.batch_id == batch_id and workflow.state != AWAITING_APPROVAL:
            found.append(workflow_id)
    return found
