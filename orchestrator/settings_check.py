"""Run settings checked when they are made: a bad number stops a run before it starts.

``--step-timeout -1`` used to fail every step and ``--rpm -10`` every model
call, one company at a time; an infinite or NaN value did stranger things. Each
setting has a range here, and a value outside it (or not finite) is a
:class:`SettingsError` naming the setting.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from .engine import MAX_CONCURRENCY

__all__ = ["BOUNDS", "SettingsError", "check_run_settings"]


class SettingsError(ValueError):
    """A run setting outside its range; ``setting`` names it as :class:`RunSettings` does."""

    def __init__(self, setting: str, message: str) -> None:
        super().__init__(f"{setting}: {message}")
        self.setting = setting
        self.problem = message


class Bound(NamedTuple):
    low: float
    high: float
    low_open: bool = False
    """``True``: the value must be above ``low``, not equal to it."""


BOUNDS: dict[str, Bound] = {
    "concurrency": Bound(1, MAX_CONCURRENCY),
    "llm_concurrency": Bound(1, 10_000),
    "requests_per_minute": Bound(1, 1_000_000),
    "max_attempts": Bound(1, 100),
    "retry_base_delay": Bound(0, 3_600),
    "retry_max_delay": Bound(0, 86_400),
    "step_timeout": Bound(0, 86_400, low_open=True),
    "simulation.latency": Bound(0, 3_600),
    "simulation.failure_rate": Bound(0, 1),
    "simulation.permanent_failure_rate": Bound(0, 1),
}
"""The range of every numeric run setting (``None`` is allowed where the type allows it)."""


def check_run_settings(settings: Any) -> None:
    """:raises SettingsError: the first setting of ``settings`` outside :data:`BOUNDS`,
    or a combination that cannot run."""
    for name, bound in BOUNDS.items():
        value = settings
        for part in name.split("."):
            value = getattr(value, part)
        if value is not None:
            _check(name, value, bound)
    if getattr(settings, "batch_api", False):
        _check_batch_api(settings)


def _check_batch_api(settings: Any) -> None:
    """Message Batches are Claude's, and their requests are recorded in the run's own store."""
    if settings.llm != "anthropic":
        raise SettingsError("batch_api", "needs --llm anthropic (Message Batches are a Claude API)")
    if settings.transport not in (None, "memory"):
        raise SettingsError("batch_api", "runs its agents in this process: use --transport memory")


def _check(name: str, value: object, bound: Bound) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SettingsError(name, f"must be a number, not {value!r}")
    if not math.isfinite(value):
        raise SettingsError(name, f"must be a finite number, not {value}")
    too_low = value <= bound.low if bound.low_open else value < bound.low
    if too_low or value > bound.high:
        above = "above" if bound.low_open else "at least"
        raise SettingsError(
            name, f"must be {above} {bound.low:g} and at most {bound.high:g}, not {value:g}"
        )
