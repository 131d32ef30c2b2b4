"""Workflow-level status events, published by the orchestrator."""

from __future__ import annotations

from salesbus.bus import Event

__all__ = ["ApprovalDecided", "ApprovalRequested", "WorkflowCompleted", "WorkflowFailed"]


class WorkflowCompleted(Event):
    """The workflow finished: ``completed``, ``disqualified`` or ``rejected``."""

    type_name = "salesbus.WorkflowCompleted"
    batch_id: str
    outcome: str
    reason: str | None = None


class WorkflowFailed(Event):
    type_name = "salesbus.WorkflowFailed"
    batch_id: str
    step: str
    reason: str


class ApprovalRequested(Event):
    type_name = "salesbus.ApprovalRequested"
    batch_id: str
    reason: str


class ApprovalDecided(Event):
    type_name = "salesbus.ApprovalDecided"
    batch_id: str
    decision: str
    note: str | None = None
