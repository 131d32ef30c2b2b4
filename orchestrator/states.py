"""The per-company state machine.

A workflow is ``pending`` until admitted, then in the state its current step
declares (``researching``, ``analyzing``, ``personalizing`` for the sales
pipeline; a new step brings its own), then ``awaiting_approval`` if the policy
asks for a person, and finally one of the terminal states. States are plain
strings so a pipeline declaration can add steps without touching this module.
"""

from __future__ import annotations

from collections.abc import Iterable
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
    "parse_states",
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


def parse_states(text: str, known: Iterable[str]) -> list[str]:
    """``"completed, failed"`` → ``["completed", "failed"]``.

    :raises ValueError: a state that is not in ``known``, naming the ones that are.
    """
    known = sorted(known)
    states = [state.strip() for state in text.split(",") if state.strip()]
    unknown = [state for state in states if state not in known]
    if unknown or not states:
        shown = ", ".join(unknown) or repr(text)
        raise ValueError(f"unknown state {shown}; choose from {', '.join(known)}")
    return states
