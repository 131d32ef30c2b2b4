"""The pipeline's domain events: each carries everything the next step needs.

``correlation_id`` is the workflow id. ``attempt`` counts deliveries of the same
step input: the orchestrator re-publishes an input with ``attempt + 1`` to retry
the step that consumes it, so observers can tell a retry from new work.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import Field

from salesbus.bus import Event

from .models import Analysis, Company, CompanyProfile, Outreach

__all__ = [
    "AnalysisReady",
    "CompanyResearched",
    "CompanySubmitted",
    "OutreachDrafted",
    "PipelineEvent",
]


P = TypeVar("P", bound="PipelineEvent")


class PipelineEvent(Event):
    type_name = "salesbus.PipelineEvent"
    attempt: int = Field(default=1, ge=1)
    batch_id: str | None = None

    def follow(self, event_type: type[P], **fields: Any) -> P:
        """The next event of the same workflow, caused by this one (first attempt)."""
        return event_type(**self.caused(), batch_id=self.batch_id, **fields)


class CompanySubmitted(PipelineEvent):
    type_name = "salesbus.CompanySubmitted"
    company: Company


class CompanyResearched(PipelineEvent):
    type_name = "salesbus.CompanyResearched"
    profile: CompanyProfile


class AnalysisReady(PipelineEvent):
    type_name = "salesbus.AnalysisReady"
    profile: CompanyProfile
    analysis: Analysis


class OutreachDrafted(PipelineEvent):
    type_name = "salesbus.OutreachDrafted"
    profile: CompanyProfile
    analysis: Analysis
    outreach: Outreach
