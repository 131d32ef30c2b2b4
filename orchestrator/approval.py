"""Human decisions on drafts awaiting approval: approve, reject, or edit and re-check.

Decisions go straight to the store, from any process (the CLI while a run is
going, or the HTTP service): a draft waiting for a person holds no resources,
so there is nothing to wake — the decision completes the workflow.

Each decision is a compare-and-set: the decision row and the state change are
written in one transaction, both on condition that the workflow is still
awaiting approval. Of two reviewers deciding at once exactly one wins; the
other is told who won and when.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, replace

from salesbus.agents.campaign import Campaign
from salesbus.agents.events import OutreachDrafted
from salesbus.agents.models import Channel, MessageKind, Outreach, QualityDecision, QualityReport
from salesbus.agents.providers.base import Draft
from salesbus.agents.quality import check_outreach
from salesbus.bus import decode_event

from .events import ApprovalDecided
from .states import AWAITING_APPROVAL, COMPLETED, REJECTED
from .store import Store, StoreError, WorkflowRecord

__all__ = [
    "ApprovalError",
    "Decided",
    "Edit",
    "Selection",
    "approve",
    "decide_many",
    "edit",
    "final_output",
    "reject",
]


class ApprovalError(Exception):
    """A decision that cannot be taken: the workflow is not waiting, or an edit fails its checks."""

    def __init__(self, message: str, report: QualityReport | None = None) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True, slots=True)
class Decided:
    """One workflow of a bulk decision: what it is now, and whether this decision took."""

    workflow: WorkflowRecord
    won: bool
    detail: str


@dataclass(frozen=True, slots=True)
class Selection:
    """Which drafts of a batch a bulk decision covers: a tier, a minimum score, or all."""

    batch_id: str
    tiers: frozenset[str] = frozenset()
    min_score: int | None = None

    def matches(self, drafted: OutreachDrafted | None) -> bool:
        if drafted is None:
            return not self.tiers and self.min_score is None
        analysis = drafted.analysis
        if self.tiers and analysis.tier.value not in self.tiers:
            return False
        return self.min_score is None or analysis.icp_score >= self.min_score


@dataclass(frozen=True, slots=True)
class Edit:
    """Replacement text for the first email and/or the LinkedIn note."""

    subject: str | None = None
    body: str | None = None
    linkedin_note: str | None = None


async def final_output(store: Store, workflow_id: str) -> OutreachDrafted | None:
    """The drafted outreach of a workflow, with the latest edit applied."""
    edited = [d for d in await store.decisions(workflow_id) if d["outreach_json"]]
    for attempt in reversed(await store.attempts(workflow_id)):
        if attempt.status == "succeeded" and attempt.output_json:
            event = decode_event(attempt.output_json)
            if isinstance(event, OutreachDrafted):
                if edited:
                    outreach = Outreach.model_validate_json(edited[-1]["outreach_json"])
                    event = event.model_copy(update={"outreach": outreach})
                return event
    return None


async def _waiting(store: Store, workflow_id: str) -> WorkflowRecord:
    workflow = await store.workflow(workflow_id)
    if workflow.state != AWAITING_APPROVAL:
        raise ApprovalError(await _who_won(store, workflow.id))
    return workflow


async def approve(
    store: Store, workflow_id: str, note: str | None = None, reviewer: str | None = None
) -> WorkflowRecord:
    """:raises ApprovalError: not awaiting approval, or another decision won the race."""
    workflow = await _waiting(store, workflow_id)
    await _decide(store, workflow, "approve", COMPLETED, note, reviewer=reviewer)
    return await store.workflow(workflow.id)


async def reject(
    store: Store, workflow_id: str, note: str | None = None, reviewer: str | None = None
) -> WorkflowRecord:
    """:raises ApprovalError: not awaiting approval, or another decision won the race."""
    workflow = await _waiting(store, workflow_id)
    await _decide(
        store, workflow, "reject", REJECTED, note or "rejected by a reviewer", reviewer=reviewer
    )
    return await store.workflow(workflow.id)


async def decide_many(
    store: Store,
    decision: str,
    targets: Iterable[str] | Selection,
    *,
    note: str | None = None,
    reviewer: str | None = None,
) -> list[Decided]:
    """Approve or reject several drafts: given ids, or a :class:`Selection` of a batch.

    Each is its own compare-and-set; one that is no longer waiting (or that
    another reviewer decided first) is reported, not an error.
    """
    if decision not in ("approve", "reject"):
        raise ValueError(f"bulk decisions approve or reject, not {decision!r}")
    act = approve if decision == "approve" else reject
    results: list[Decided] = []
    async for workflow in _targets(store, targets):
        try:
            after = await act(store, workflow.id, note, reviewer)
        except ApprovalError as exc:
            results.append(Decided(await store.workflow(workflow.id), False, str(exc)))
        else:
            results.append(Decided(after, True, after.reason or after.state))
    return results


async def _targets(
    store: Store, targets: Iterable[str] | Selection
) -> AsyncIterator[WorkflowRecord]:
    if not isinstance(targets, Selection):
        for workflow_id in targets:
            yield await store.workflow(workflow_id)
        return
    # Listed first, decided after: deciding moves workflows out of the state being paged.
    waiting = [w.id for w in await store.workflows(targets.batch_id, [AWAITING_APPROVAL])]
    for workflow_id in waiting:
        if targets.matches(await final_output(store, workflow_id)):
            yield await store.workflow(workflow_id)


async def edit(
    store: Store,
    workflow_id: str,
    change: Edit,
    campaign: Campaign,
    note: str | None = None,
    reviewer: str | None = None,
) -> WorkflowRecord:
    """Apply ``change``, re-run the quality checks, and complete the workflow if they pass.

    :raises ApprovalError: the edited draft still fails a check (nothing is saved).
    """
    workflow = await _waiting(store, workflow_id)
    drafted = await final_output(store, workflow.id)
    if drafted is None:
        raise StoreError(f"workflow {workflow.id} has no draft to edit")
    draft = _edited(drafted.outreach, change)
    report = check_outreach(draft, drafted.profile, campaign)
    if report.decision is not QualityDecision.PASS:
        failed = "; ".join(f"{c.rule}: {c.detail}" for c in report.failed)
        raise ApprovalError(f"the edited draft fails its checks: {failed}", report)
    outreach = Outreach(**dict(draft), quality=report)
    await _decide(
        store, workflow, "edit", COMPLETED, note, outreach.model_dump_json(), reviewer=reviewer
    )
    return await store.workflow(workflow.id)


def _edited(outreach: Outreach, change: Edit) -> Draft:
    messages = list(outreach.messages)
    for index, message in enumerate(messages):
        if message.channel is Channel.EMAIL and message.kind is MessageKind.INITIAL:
            messages[index] = replace(
                message,
                subject=message.subject if change.subject is None else change.subject,
                body=message.body if change.body is None else change.body,
            )
            break
    if change.linkedin_note is not None:
        for index, message in enumerate(messages):
            if message.kind is MessageKind.CONNECTION_NOTE:
                messages[index] = replace(message, body=change.linkedin_note)
                break
    return Draft(
        strategy=outreach.strategy,
        primary_contact=outreach.primary_contact,
        messages=messages,
        sequence=outreach.sequence,
        generated_by=f"{outreach.generated_by}, edited by a reviewer",
    )


async def _decide(
    store: Store,
    workflow: WorkflowRecord,
    decision: str,
    state: str,
    note: str | None,
    outreach_json: str | None = None,
    *,
    reviewer: str | None = None,
) -> None:
    verb = {"approve": "approved", "reject": "rejected", "edit": "edited and approved"}[decision]
    who = reviewer or "a reviewer"
    reason = f"{verb} by {who}" + (f": {note}" if note else "")
    _, moved = await store.commit(
        [
            store.decision(
                workflow.id,
                decision,
                note,
                outreach_json,
                reviewer=reviewer,
                if_state=AWAITING_APPROVAL,
            ),
            store.set_state(
                workflow.id, state, step=workflow.step, reason=reason, if_state=AWAITING_APPROVAL
            ),
        ]
    )
    if not moved:
        raise ApprovalError(await _who_won(store, workflow.id))
    store.log_event(
        ApprovalDecided(
            correlation_id=workflow.id, batch_id=workflow.batch_id, decision=decision, note=note
        )
    )
    await store.flush()


async def _who_won(store: Store, workflow_id: str) -> str:
    now = await store.workflow(workflow_id)
    decisions = await store.decisions(workflow_id)
    if not decisions:
        return f"workflow {workflow_id} is {now.state}, not awaiting approval"
    last = decisions[-1]
    return (
        f"workflow {workflow_id} is {now.state}, not awaiting approval: decided first:"
        f" {last['decision']} by {last['reviewer'] or 'a reviewer'} at {last['decided_at']}"
    )
