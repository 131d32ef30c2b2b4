"""Batch metrics from the store: outcomes, step timings, failure points, tokens and cost.

Attempts that a kill or a stop interrupted are counted apart: their model calls
happened (and were paid for) but were never reported, so the cost shown is a
lower bound whenever there are any.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .states import COMPLETED, TERMINAL_STATES
from .store import Store

__all__ = ["BatchMetrics", "StepMetrics", "batch_metrics", "percentile"]


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0–100); ``None`` for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[_rank(len(ordered), q) - 1]


@dataclass
class StepMetrics:
    step: str
    attempts: int = 0
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    abandoned: int = 0
    """Attempts a crash or a stop interrupted: their calls and cost are unknown (not counted)."""
    p50_ms: float | None = None
    p95_ms: float | None = None
    calls: int = 0
    input_tokens: int = 0
    """All input, cache reads and writes included."""
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


@dataclass
class BatchMetrics:
    batch_id: str
    total: int
    states: dict[str, int]
    steps: list[StepMetrics]
    top_failures: list[tuple[str, int]] = field(default_factory=list)
    """``step: error kind`` and how often, most common first."""

    @property
    def finished(self) -> int:
        return sum(n for s, n in self.states.items() if s in TERMINAL_STATES)

    @property
    def success_rate(self) -> float | None:
        """Completed share of finished workflows."""
        return self.states.get(COMPLETED, 0) / self.finished if self.finished else None

    @property
    def interrupted(self) -> int:
        """Attempts cut off by a kill or stop; what they spent on the model is not known."""
        return sum(s.abandoned for s in self.steps)

    @property
    def calls(self) -> int:
        return sum(s.calls for s in self.steps)

    @property
    def input_tokens(self) -> int:
        return sum(s.input_tokens for s in self.steps)

    @property
    def output_tokens(self) -> int:
        return sum(s.output_tokens for s in self.steps)

    @property
    def cache_read_tokens(self) -> int:
        return sum(s.cache_read_tokens for s in self.steps)

    @property
    def cache_write_tokens(self) -> int:
        return sum(s.cache_write_tokens for s in self.steps)

    @property
    def cost_usd(self) -> float:
        return sum(s.cost_usd for s in self.steps)


async def batch_metrics(store: Store, batch_id: str) -> BatchMetrics:
    """Aggregated in the database: memory stays flat however large the batch."""
    states = await store.state_counts(batch_id)
    by_step: dict[str, StepMetrics] = {}
    for row in await store.step_totals(batch_id):
        metrics = by_step.setdefault(row["step"], StepMetrics(row["step"]))
        status, count = str(row["status"]), int(row["n"])
        metrics.attempts += count
        if status in {"succeeded", "failed", "skipped", "abandoned"}:
            setattr(metrics, status, getattr(metrics, status) + count)
        metrics.calls += int(row["calls"] or 0)
        metrics.input_tokens += int(row["input_tokens"] or 0)
        metrics.cache_read_tokens += int(row["cache_read_tokens"] or 0)
        metrics.cache_write_tokens += int(row["cache_write_tokens"] or 0)
        metrics.output_tokens += int(row["output_tokens"] or 0)
        metrics.cost_usd += float(row["cost_usd"] or 0.0)
    for step, metrics in by_step.items():
        finished = await store.duration_count(batch_id, step)
        if finished:
            metrics.p50_ms = await store.duration_rank(batch_id, step, _rank(finished, 50))
            metrics.p95_ms = await store.duration_rank(batch_id, step, _rank(finished, 95))
    return BatchMetrics(
        batch_id=batch_id,
        total=sum(states.values()),
        states=states,
        steps=list(by_step.values()),
        top_failures=await store.top_failures(batch_id),
    )


def _rank(count: int, q: float) -> int:
    """The nearest rank of percentile ``q`` among ``count`` values (1-based)."""
    return max(1, min(count, round(q / 100 * count + 0.5)))
