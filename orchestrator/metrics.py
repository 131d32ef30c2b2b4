"""Batch metrics from the store: outcomes, step timings, failure points, tokens and cost."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .states import COMPLETED, TERMINAL_STATES
from .store import AttemptRecord, Store

__all__ = ["BatchMetrics", "StepMetrics", "batch_metrics", "percentile"]


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0–100); ``None`` for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class StepMetrics:
    step: str
    attempts: int = 0
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    abandoned: int = 0
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
    states = await store.state_counts(batch_id)
    attempts = await store.batch_attempts(batch_id)
    return BatchMetrics(
        batch_id=batch_id,
        total=sum(states.values()),
        states=states,
        steps=_steps(attempts),
        top_failures=_failures(attempts),
    )


def _steps(attempts: list[AttemptRecord]) -> list[StepMetrics]:
    by_step: dict[str, StepMetrics] = {}
    durations: dict[str, list[float]] = {}
    for attempt in attempts:
        metrics = by_step.setdefault(attempt.step, StepMetrics(attempt.step))
        metrics.attempts += 1
        if attempt.status in {"succeeded", "failed", "skipped", "abandoned"}:
            setattr(metrics, attempt.status, getattr(metrics, attempt.status) + 1)
        if attempt.duration_ms is not None and attempt.status != "abandoned":
            durations.setdefault(attempt.step, []).append(attempt.duration_ms)
        metrics.calls += attempt.calls
        metrics.input_tokens += (
            attempt.input_tokens + attempt.cache_read_tokens + attempt.cache_write_tokens
        )
        metrics.cache_read_tokens += attempt.cache_read_tokens
        metrics.cache_write_tokens += attempt.cache_write_tokens
        metrics.output_tokens += attempt.output_tokens
        metrics.cost_usd += attempt.cost_usd
    for step, metrics in by_step.items():
        metrics.p50_ms = percentile(durations.get(step, []), 50)
        metrics.p95_ms = percentile(durations.get(step, []), 95)
    return list(by_step.values())


def _failures(attempts: list[AttemptRecord]) -> list[tuple[str, int]]:
    counts = Counter(
        f"{a.step}: {a.error_kind}" for a in attempts if a.status in {"failed", "abandoned"}
    )
    return counts.most_common(5)
