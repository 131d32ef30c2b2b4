"""Human decisions on drafts awaiting approval: approve, reject, or edit and re-check.

Decisions go straight to the store, from any process (the CLI while a run is
going, or the HTTP service): a draft waiting for a person holds no resources,
so there is nothing to wake — the decision completes the workflow.
"""

from __future__ import annotations

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

__all__ = ["ApprovalError", "Edit", "approve", "edit", "final_output", "reject"]


class ApprovalError(Exception):
    """A decision that cannot be taken: the workflow is not waiting, or an edit fails its checks."""

    def __init__(self, message: str, report: QualityReport | None = None) -> None:
        super().__init__(message)
        self.report = report


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
        raise ApprovalError(f"workflow {workflow.id} is {workflow.state}, not awaiting approval")
    return workflow


async def approve(store: Store, workflow_id: str, note: str | None = None) -> WorkflowRecord:
    workflow = await _waiting(store, workflow_id)
    await _decide(store, workflow, "approve", COMPLETED, note)
    return await store.workflow(workflow.id)


async def reject(store: Store, workflow_id: str, note: str | None = None) -> WorkflowRecord:
    workflow = await _waiting(store, workflow_id)
    await _decide(store, workflow, "reject", REJECTED, note or "rejected by a reviewer")
    return await store.workflow(workflow.id)


async def edit(
    store: Store, workflow_id: str, change: Edit, campaign: Campaign, note: str | None = None
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
    await _decide(store, workflow, "edit", COMPLETED, note, outreach.model_dump_json())
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
) -> None:
    verb = {"approve": "approved", "reject": "rejected", "edit": "edited and approved"}[decision]
    reason = f"{verb} by a reviewer" + (f": {note}" if note else "")
    await store.commit(
        [
            store.decision(workflow.id, decision, note, outreach_json),
            store.set_state(workflow.id, state, step=workflow.step, reason=reason),
        ]
    )
    store.log_event(
        ApprovalDecided(
            correlation_id=workflow.id, batch_id=workflow.batch_id, decision=decision, note=note
        )
    )
    await store.flush()
