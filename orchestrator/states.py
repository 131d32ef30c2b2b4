"""The per-company state machine.

A workflow is ``pending`` until admitted, then in the state its current step
declares (``researching``, ``analyzing``, ``personalizing`` for the sales
pipeline; a new step brings its own), then ``awaiting_approval`` if the policy
asks for a person, and finally one of the terminal states. States are plain
strings so a pipeline declaration can add steps without touching this module.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "ACTIVE_STATES",
    "AWAITING_APPROVAL",
    "COMPLETED",
    "DISQUALIFIED",
    "FAILED",
    "PENDING",
    "REJECTED",
    "TERMINAL_STATES",
    "is_terminal",
]

PENDING: Final = "pending"
AWAITING_APPROVAL: Final = "awaiting_approval"
COMPLETED: Final = "completed"
DISQUALIFIED: Final = "disqualified"
FAILED: Final = "failed"
REJECTED: Final = "rejected"

TERMINAL_STATES: Final = frozenset({COMPLETED, DISQUALIFIED, FAILED, REJECTED})
"""A workflow in one of these states is finished; nothing runs it again unless retried."""

ACTIVE_STATES: Final = frozenset({PENDING})
"""Besides the step states: not finished and not waiting for a person."""


def is_terminal(state: str) -> bool:
    return state in TERMINAL_STATES
