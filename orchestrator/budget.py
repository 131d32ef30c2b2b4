"""Spend control: what a batch will cost before it runs, and a cap while it runs.

:func:`estimate_batch` prices a lead list on a model: calls, tokens by kind
(uncached, cache writes, cache reads, output), cost, the cached share of input
and the time it takes at a request rate. Per-company figures come from what
earlier batches on the same model measured in the store, when there are any,
else from ``agents/providers/step_tokens.toml``; the shared system prefix is
measured from the prompt itself, written once and read by every later call.

:class:`Budget` is the admission check ``run --max-cost`` installs: a company
is admitted only while what was spent, plus the estimate for the companies in
flight and for this one, stays within the cap.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

from pydantic import BaseModel, ConfigDict, NonNegativeFloat

from salesbus.agents.campaign import Campaign
from salesbus.agents.models import Company
from salesbus.agents.providers.prices import PriceTable, default_prices
from salesbus.agents.usage import Usage

from .engine import BatchProgress
from .store import Store

__all__ = ["ASSUMED_RPM", "Budget", "Estimate", "StepFigures", "estimate_batch"]

ASSUMED_RPM = 50.0
"""Requests a minute assumed when none is given: the API's lowest tier."""
_CHARS_PER_TOKEN = 4.0
"""A typical rate for English and JSON, for cost (the cache-length check uses a safe 5)."""


class StepFigures(BaseModel):
    """What one company uses on one step."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    calls: NonNegativeFloat
    input: NonNegativeFloat
    output: NonNegativeFloat


class _StepFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    steps: dict[str, StepFigures]


@functools.cache
def typical_steps() -> dict[str, StepFigures]:
    """The shipped per-step figures; :raises ValueError: the data file is invalid."""
    text = (
        resources.files("salesbus.agents.providers").joinpath("step_tokens.toml").read_text("utf-8")
    )
    try:
        return _StepFile.model_validate(tomllib.loads(text)).steps
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise ValueError(f"step_tokens.toml is invalid: {exc}") from exc


@dataclass(frozen=True)
class Estimate:
    companies: int
    model: str
    calls: float
    input_tokens: float
    """Uncached input."""
    cache_write_tokens: float
    cache_read_tokens: float
    output_tokens: float
    cost_usd: float
    requests_per_minute: float
    basis: str
    """Where the per-company figures come from, in words."""
    batch: bool = False
    """Priced and timed as Message Batches (``run --batch-api``)."""

    @property
    def per_company_usd(self) -> float:
        return self.cost_usd / self.companies if self.companies else 0.0

    @property
    def cached_share(self) -> float:
        """Cache reads as a share of all input tokens."""
        total = self.input_tokens + self.cache_write_tokens + self.cache_read_tokens
        return self.cache_read_tokens / total if total else 0.0

    @property
    def minutes(self) -> float:
        return self.calls / self.requests_per_minute

    def lines(self) -> list[str]:
        return [
            f"{self.companies} companies on {self.model}: {self.calls:,.0f} model calls",
            f"input tokens: {self.input_tokens:,.0f} uncached, {self.cache_write_tokens:,.0f}"
            f" cache writes, {self.cache_read_tokens:,.0f} cache reads"
            f" ({self.cached_share:.0%} of input cached); output {self.output_tokens:,.0f}",
            f"cost: ${self.cost_usd:,.4f} (${self.per_company_usd:.5f} a company)"
            + (" at the Message Batches price" if self.batch else ""),
            "time: three batches in turn, each usually within an hour, at most 24 h"
            if self.batch
            else f"time: {self.minutes:,.1f} min at {self.requests_per_minute:g} requests a minute",
            f"basis: {self.basis}",
        ]


async def estimate_batch(
    companies: Sequence[Company],
    campaign: Campaign,
    model: str,
    *,
    store: Store | None = None,
    prices: PriceTable | None = None,
    requests_per_minute: float | None = None,
    batch: bool = False,
) -> Estimate:
    """What running ``companies`` on ``model`` will use and cost (nothing is called).

    ``batch``: sent as Message Batches, at :attr:`PriceTable.batch_factor` of the price.
    """
    from salesbus.agents.providers.anthropic_prompts import system_prefix

    prices = prices if prices is not None else default_prices()
    history = await store.usage_per_company(model) if store is not None else {}
    n = len(companies)
    prefix = len(system_prefix(campaign, model)) / _CHARS_PER_TOKEN
    if history:
        measured = min(int(step["companies"]) for step in history.values())
        basis = f"measured on {measured} earlier companies on this model"
        calls = sum(step["calls"] for step in history.values()) * n
        uncached = sum(step["input_tokens"] for step in history.values()) * n
        output = sum(step["output_tokens"] for step in history.values()) * n
        prefix_per_call = sum(
            step["cache_read"] + step["cache_write"] for step in history.values()
        ) / max(sum(step["calls"] for step in history.values()), 1e-9)
        prefix = prefix_per_call or prefix
    else:
        typical = typical_steps().values()
        basis = "typical figures (no earlier batch on this model in the database)"
        calls = sum(step.calls for step in typical) * n
        uncached = sum(step.input for step in typical) * n
        output = sum(step.output for step in typical) * n
    writes = prefix if calls else 0.0
    reads = prefix * max(calls - 1, 0)
    usage = Usage(
        calls=round(calls),
        input_tokens=round(uncached),
        output_tokens=round(output),
        cache_read_tokens=round(reads),
        cache_write_tokens=round(writes),
    )
    rpm = requests_per_minute or ASSUMED_RPM
    return Estimate(
        companies=n,
        model=model,
        calls=calls,
        input_tokens=uncached,
        cache_write_tokens=writes,
        cache_read_tokens=reads,
        output_tokens=output,
        cost_usd=prices.batch_cost_usd(model, usage) if batch else prices.cost_usd(model, usage),
        requests_per_minute=rpm,
        basis=basis,
        batch=batch,
    )


@dataclass
class Budget:
    """Admit a company only while spent + in flight + this one stays within ``cap_usd``.

    ``per_company_usd`` is the estimate for a whole company (see :func:`estimate_batch`);
    a company in flight is counted at the whole estimate, whatever it has spent,
    which errs on the side of the cap.
    """

    cap_usd: float
    per_company_usd: float

    def refuse(self, progress: BatchProgress, in_flight: int) -> str | None:
        """Why the next company must not start, or ``None``."""
        committed = progress.cost_usd + (in_flight + 1) * self.per_company_usd
        if committed <= self.cap_usd:
            return None
        return (
            f"budget: ${progress.cost_usd:.4f} spent and ${in_flight * self.per_company_usd:.4f}"
            f" estimated for {in_flight} in flight; another company"
            f" (${self.per_company_usd:.4f}) would pass --max-cost ${self.cap_usd:g}"
        )
