"""The sales pipeline: research → analysis → personalization, as one declaration."""

from __future__ import annotations

from salesbus.agents.analysis import AnalysisAgent
from salesbus.agents.campaign import ApprovalPolicy, Campaign
from salesbus.agents.events import CompanySubmitted, OutreachDrafted
from salesbus.agents.models import Company, QualityDecision, Tier
from salesbus.agents.personalization import PersonalizationAgent
from salesbus.agents.providers.base import Provider
from salesbus.agents.research import PageFetcher, ResearchAgent
from salesbus.bus import Event

from .pipeline import PipelineSpec, Step

__all__ = ["STEP_STATES", "approval_reason", "sales_pipeline"]

STEP_STATES = ("researching", "analyzing", "personalizing")
"""The workflow state while each step of :func:`sales_pipeline` runs, in order."""


def sales_pipeline(
    provider: Provider,
    campaign: Campaign,
    *,
    fetcher: PageFetcher | None = None,
    step_timeout: float | None = 120.0,
) -> PipelineSpec:
    """The declaration the CLI and :class:`Pipeline` run."""
    return PipelineSpec.of(
        [
            Step(ResearchAgent(provider, campaign, fetcher), STEP_STATES[0], step_timeout),
            Step(AnalysisAgent(provider, campaign), STEP_STATES[1], step_timeout),
            Step(PersonalizationAgent(provider, campaign), STEP_STATES[2], step_timeout),
        ],
        start=submit,
        needs_approval=lambda event: approval_reason(event, campaign.approval),
    )


def submit(company: Company, workflow_id: str, batch_id: str) -> Event:
    return CompanySubmitted(correlation_id=workflow_id, batch_id=batch_id, company=company)


def approval_reason(event: Event, policy: ApprovalPolicy) -> str | None:
    """Why a person must look at this draft before it counts, or ``None``."""
    if not isinstance(event, OutreachDrafted):
        return None
    if policy.mode == "always":
        return "the campaign asks for approval of every draft"
    decision = event.outreach.quality.decision
    if policy.on_quality_failure and decision is not QualityDecision.PASS:
        failed = ", ".join(check.rule for check in event.outreach.quality.failed)
        return f"quality checks ended in {decision.value}: {failed}"
    if event.analysis.tier is Tier.D:
        return None  # a single nurture note, not a sequence: nothing to approve
    if policy.mode == "below_score" and event.analysis.icp_score < policy.below_score:
        return f"ICP score {event.analysis.icp_score} is below {policy.below_score}"
    return None
