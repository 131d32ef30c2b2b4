"""The metrics salesbus records, through the OpenTelemetry metrics API.

:class:`SalesbusMetrics` owns every instrument and offers one method per thing
that happens (a step attempt ended, a model call was paid for…), so callers
never repeat instrument names or attribute keys. Instruments come from the
meter they are given; with the API's default (proxy) meter provider they cost
next to nothing until someone installs a real one.

Two views of model spend exist on purpose: ``salesbus.llm.*`` per model (from
each model call) and ``salesbus.step.*`` per step (from each attempt's total).
They count the same tokens, so add up one of them, never both.
"""

from __future__ import annotations

from opentelemetry.metrics import Counter, Meter

from . import semconv as sc

__all__ = ["STEP_DURATION_BUCKETS", "SalesbusMetrics"]

STEP_DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
"""Seconds: a rule-based step takes milliseconds, a model call tens of seconds."""


class SalesbusMetrics:
    """Every salesbus instrument, created once from ``meter``."""

    def __init__(self, meter: Meter) -> None:
        self._workflows_finished = meter.create_counter(
            sc.METRIC_WORKFLOWS_FINISHED, "{workflow}", "Workflows that ended, by outcome."
        )
        self._workflows_active = meter.create_up_down_counter(
            sc.METRIC_WORKFLOWS_ACTIVE, "{workflow}", "Workflows in flight in this process."
        )
        self._step_duration = meter.create_histogram(
            sc.METRIC_STEP_DURATION,
            "s",
            "Duration of one step attempt.",
            explicit_bucket_boundaries_advisory=STEP_DURATION_BUCKETS,
        )
        self._step_attempts = meter.create_counter(
            sc.METRIC_STEP_ATTEMPTS, "{attempt}", "Step attempts, by step and outcome."
        )
        self._step_retries = meter.create_counter(
            sc.METRIC_STEP_RETRIES, "{attempt}", "Step attempts after the first, by step."
        )
        self._step_tokens = meter.create_counter(
            sc.METRIC_STEP_TOKENS, "{token}", "Model tokens spent by step attempts, by step."
        )
        self._step_cost = meter.create_counter(
            sc.METRIC_STEP_COST, "USD", "Model cost of step attempts, by step."
        )
        self._llm_tokens = meter.create_counter(
            sc.METRIC_LLM_TOKENS, "{token}", "Model tokens, by provider, model and token type."
        )
        self._llm_cost = meter.create_counter(
            sc.METRIC_LLM_COST, "USD", "Model cost, by provider and model."
        )

    def workflow_started(self) -> None:
        """A workflow became active in this process (new, or resumed after a restart)."""
        self._workflows_active.add(1)

    def workflow_finished(self, outcome: str, *, was_active: bool = True) -> None:
        """A workflow ended with ``outcome``; ``was_active=False`` if it never started here."""
        if was_active:
            self._workflows_active.add(-1)
        self._workflows_finished.add(1, {sc.WORKFLOW_OUTCOME: outcome})

    def step_attempt(self, step: str, attempt: int, outcome: str, duration_s: float) -> None:
        """One step attempt ended: its duration, the attempt, and a retry if it was one."""
        attributes = {sc.STEP_NAME: step, sc.STEP_OUTCOME: outcome}
        self._step_duration.record(duration_s, attributes)
        self._step_attempts.add(1, attributes)
        if attempt > 1:
            self._step_retries.add(1, {sc.STEP_NAME: step})

    def step_usage(self, step: str, input_tokens: int, output_tokens: int, cost_usd: float) -> None:
        """What one step attempt's model calls used (input includes cache tokens)."""
        _add_tokens(self._step_tokens, input_tokens, output_tokens, {sc.STEP_NAME: step})
        if cost_usd:
            self._step_cost.add(cost_usd, {sc.STEP_NAME: step})

    def llm_usage(
        self, provider: str, model: str, input_tokens: int, output_tokens: int, cost_usd: float
    ) -> None:
        """What one model call used (input includes cache tokens)."""
        attributes = {sc.GEN_AI_PROVIDER_NAME: provider, sc.GEN_AI_REQUEST_MODEL: model}
        _add_tokens(self._llm_tokens, input_tokens, output_tokens, attributes)
        if cost_usd:
            self._llm_cost.add(cost_usd, attributes)


def _add_tokens(
    counter: Counter, input_tokens: int, output_tokens: int, attributes: dict[str, str]
) -> None:
    if input_tokens:
        counter.add(input_tokens, {**attributes, sc.GEN_AI_TOKEN_TYPE: sc.TOKEN_TYPE_INPUT})
    if output_tokens:
        counter.add(output_tokens, {**attributes, sc.GEN_AI_TOKEN_TYPE: sc.TOKEN_TYPE_OUTPUT})
