"""Fault injection for tests and benchmarks: every failure path needs a way to be reached.

Each fault is switched on by an environment variable (so a real ``salesbus
run`` process can be made to fail) or set directly on a :class:`Faults` in
process. With nothing set, every hook is ``None`` and costs one attribute test.

``SALESBUS_FAULT_KILL_IN_WRITE=N``
    SIGKILL the process inside its Nth write transaction.
``SALESBUS_FAULT_STORE_ERRORS=P``
    each try of each store write fails with probability P (a ``sqlite3.OperationalError``).
``SALESBUS_FAULT_HANDLER_ERRORS=P``
    each reaction of the orchestrator raises with probability P before doing anything.
``SALESBUS_FAULT_KILL_IN_STEP=STEP:COMPANY``
    SIGKILL the process when that step of that company starts (after the
    attempt is recorded): a step that crashes its process every time.
``SALESBUS_FAULT_KILL_AFTER_OUTCOME=STEP:N:POINT``
    SIGKILL a worker at its Nth outcome of that step, at POINT: ``recorded``
    (in its step ledger, not yet published) or ``published`` (not yet acked):
    the two moments a redelivery must not pay the step's model again.
``SALESBUS_FAULT_SEED=N``
    seed for the random faults.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

__all__ = ["Faults", "InjectedFault", "faults_from_env"]


class InjectedFault(RuntimeError):
    """An exception raised on purpose by a fault hook."""


@dataclass
class Faults:
    kill_in_write: int = 0
    store_error_rate: float = 0.0
    handler_error_rate: float = 0.0
    kill_in_step: tuple[str, str] | None = None
    kill_after_outcome: tuple[str, int, str] | None = None
    """(step, n, point): see ``SALESBUS_FAULT_KILL_AFTER_OUTCOME``."""
    outcomes: dict[str, int] = field(default_factory=dict)
    statement: Callable[[str], None] | None = None
    """Called with each statement's SQL before it runs; raise to make it fail."""
    rng: random.Random = field(default_factory=random.Random)

    def maybe_fail_write(self) -> None:
        """Called once per try of each write, before its statements run."""
        if self.store_error_rate and self.rng.random() < self.store_error_rate:
            raise sqlite3.OperationalError("injected store error")

    def maybe_raise_in_handler(self, where: str) -> None:
        if self.handler_error_rate and self.rng.random() < self.handler_error_rate:
            raise InjectedFault(f"injected handler error in {where}")

    def kills_step(self, step: str, company: str) -> bool:
        return self.kill_in_step is not None and self.kill_in_step == (step, company)

    def after_outcome(self, step: str, point: str) -> None:
        """Called by a worker at ``recorded`` then ``published`` for each step outcome."""
        if self.kill_after_outcome is None:
            return
        kill_step, n, kill_point = self.kill_after_outcome
        if step != kill_step:
            return
        if point == "recorded":
            self.outcomes[step] = self.outcomes.get(step, 0) + 1
        if point == kill_point and self.outcomes.get(step) == n:
            self.kill_now()

    @staticmethod
    def kill_now() -> None:
        os.kill(os.getpid(), signal.SIGKILL)


def faults_from_env(env: Mapping[str, str] | None = None) -> Faults:
    env = os.environ if env is None else env
    step = env.get("SALESBUS_FAULT_KILL_IN_STEP")
    kill_in_step = tuple(step.split(":", 1)) if step and ":" in step else None
    seed = env.get("SALESBUS_FAULT_SEED")
    outcome = env.get("SALESBUS_FAULT_KILL_AFTER_OUTCOME", "").split(":")
    return Faults(
        kill_in_write=int(env.get("SALESBUS_FAULT_KILL_IN_WRITE", "0") or 0),
        store_error_rate=float(env.get("SALESBUS_FAULT_STORE_ERRORS", "0") or 0),
        handler_error_rate=float(env.get("SALESBUS_FAULT_HANDLER_ERRORS", "0") or 0),
        kill_in_step=kill_in_step,  # type: ignore[arg-type]
        kill_after_outcome=(outcome[0], int(outcome[1]), outcome[2]) if len(outcome) == 3 else None,
        rng=random.Random(int(seed)) if seed else random.Random(),
    )
