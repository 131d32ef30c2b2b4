"""Which step attempt a model call is made for, carried in a context variable.

A provider that makes its calls durable (Message Batches) must name each call
after the workflow, step and attempt it serves, so that a later run can find
it again; the agent runtime knows these, the provider does not. As with the
usage meter, the bus runs each handler in its own context, so the value
reaches every call made on the attempt's behalf without being passed around.
"""

from __future__ import annotations

from contextvars import ContextVar, Token

__all__ = ["StepRef", "current_step"]


class StepRef:
    """One step attempt: its workflow, step and attempt, and how many calls it has made."""

    __slots__ = ("_token", "attempt", "calls", "step", "workflow_id")

    def __init__(self, workflow_id: str, step: str, attempt: int) -> None:
        self.workflow_id = workflow_id
        self.step = step
        self.attempt = attempt
        self.calls = 0
        self._token: Token[StepRef | None] | None = None

    def next_call(self) -> int:
        """Number the attempt's next model call (1, 2…: a repair or a revision is a call)."""
        self.calls += 1
        return self.calls

    def __enter__(self) -> StepRef:
        self._token = _current.set(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._token is not None:
            _current.reset(self._token)
            self._token = None


_current: ContextVar[StepRef | None] = ContextVar("salesbus_step", default=None)


def current_step() -> StepRef | None:
    """The step attempt being run, or ``None`` outside the agent runtime."""
    return _current.get()
