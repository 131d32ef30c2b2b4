"""Personalization: a grounded outreach sequence that passes its quality checks."""

from __future__ import annotations

from .campaign import Campaign
from .events import AnalysisReady, OutreachDrafted
from .models import Outreach, QualityDecision, QualityReport, Tier
from .providers.base import Draft, Provider
from .quality import check_outreach
from .runtime import Agent, Skip

__all__ = ["PersonalizationAgent"]


class PersonalizationAgent(Agent[AnalysisReady, OutreachDrafted]):
    """Drafts outreach for qualified companies only, and checks it before it counts.

    An unqualified company is skipped before any model call: no tokens are spent
    on a lead nobody will contact. A draft that fails a check which a rewrite can
    fix (``REVISE``) gets one revision with the failed rules as notes; whatever
    the second draft's verdict, it is kept with its report, and the approval
    policy decides what a person must see.
    """

    name = "personalization"
    consumes = AnalysisReady
    produces = OutreachDrafted

    def __init__(self, provider: Provider, campaign: Campaign) -> None:
        self.provider = provider
        self.campaign = campaign

    async def handle(self, event: AnalysisReady) -> OutreachDrafted | Skip:
        analysis = event.analysis
        if not analysis.qualified:
            reasons = "; ".join(analysis.disqualify_reasons) or "below the ICP threshold"
            return Skip(outcome="disqualified", reason=f"ICP score {analysis.icp_score}: {reasons}")
        if analysis.tier is Tier.D and self.campaign.approval.tier_d == "skip":
            reason = f"tier D (ICP score {analysis.icp_score}): the campaign sends tier D nothing"
            return Skip(outcome="disqualified", reason=reason)
        draft = await self.provider.personalize(event.profile, analysis, self.campaign)
        report = check_outreach(draft, event.profile, self.campaign)
        if report.decision is QualityDecision.REVISE:
            notes = [f"{check.rule}: {check.detail}" for check in report.failed]
            draft = await self.provider.personalize(
                event.profile, analysis, self.campaign, revision_notes=notes
            )
            report = check_outreach(draft, event.profile, self.campaign)
        outreach = _outreach(draft, report)
        return event.follow(
            OutreachDrafted, profile=event.profile, analysis=analysis, outreach=outreach
        )


def _outreach(draft: Draft, report: QualityReport) -> Outreach:
    return Outreach(**dict(draft), quality=report)
