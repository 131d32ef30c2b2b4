"""When to try a failed step again: backoff with full jitter, or what the server said."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = ["RetryPolicy"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``max_attempts`` per step; the n-th retry waits a random time in [0, min(cap, base·2ⁿ⁻¹)].

    Full jitter spreads the retries of many workflows that failed together (a
    rate limit hits them all at once) instead of sending them back in a herd.
    A server's ``retry-after`` overrides the backoff: it knows when it will
    have room, and waiting less only earns another refusal. It is bounded by
    ``max_delay`` (a server asking for an hour does not park a batch for one)
    and jittered by up to ``base_delay`` on top, so that the workflows one
    refusal sent away do not all come back in the same instant.
    """

    max_attempts: int = 4
    base_delay: float = 1.0
    max_delay: float = 60.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def delay(self, failed_attempts: int, retry_after: float | None = None) -> float:
        """Seconds to wait after the ``failed_attempts``-th failure of a step."""
        if retry_after is not None and retry_after >= 0:
            bounded = min(retry_after, self.max_delay)
            return min(bounded + self.rng.uniform(0, self.base_delay), self.max_delay)
        ceiling = min(self.max_delay, self.base_delay * 2 ** max(failed_attempts - 1, 0))
        return self.rng.uniform(0, ceiling)

    def allows(self, failed_attempts: int) -> bool:
        return failed_attempts < self.max_attempts
