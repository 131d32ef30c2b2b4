"""Reopening a failed workflow: back to pending at the step that failed, with a fresh budget.

Shared by ``salesbus retry`` and the HTTP service's ``POST /workflows/{id}/retry``.
"""

from __future__ import annotations

from .states import PENDING
from .store import Statement, Store

__all__ = ["reopen"]


async def reopen(store: Store, workflow_id: str, step: str | None) -> Statement:
    """The statement that sets the workflow pending again, the attempts used so far set aside."""
    used = max((a.attempt for a in await store.attempts(workflow_id) if a.step == step), default=0)
    return store.set_state(
        workflow_id, PENDING, step=step, retry_base=used, reason="retry requested"
    )
