"""What Claude costs: USD per million tokens for each model id, kept as data.

Prices change more often than code, so they are a table, and a JSON or TOML file
(``SALESBUS_PRICES=/path/prices.toml``) can add models or override rows::

    [models."claude-sonnet-5"]
    input = 2.0
    output = 10.0
    cache_write = 2.5
    cache_read = 0.2

    batch_factor = 0.5   # optional: what Message Batches pay of these prices

(JSON: ``{"models": {"claude-sonnet-5": {"input": 2.0, ...}}}``.)

A model the table does not know costs 0.0 and is logged once as a warning, so a
new model id never stops a batch; it only leaves that model's cost uncounted
until the table learns it. :meth:`PriceTable.knows` is the flag to check.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import threading
import tomllib
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..usage import Usage

__all__ = [
    "BATCH_PRICE_FACTOR",
    "DEFAULT_PRICES",
    "PRICES_AS_OF",
    "PRICES_ENV",
    "ModelPrice",
    "PriceTable",
    "cost_usd",
    "default_prices",
    "load_prices",
]

logger = logging.getLogger(__name__)

PRICES_ENV = "SALESBUS_PRICES"
"""Environment variable naming a JSON or TOML file of prices to add or override."""

PRICES_AS_OF = "2026-11"
"""When :data:`DEFAULT_PRICES` was last read off the pricing page."""


class ModelPrice(BaseModel):
    """USD per million tokens of each kind one model bills."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input: float = Field(ge=0)
    """Uncached input tokens."""
    output: float = Field(ge=0)
    cache_write: float = Field(ge=0)
    """Tokens written to the prompt cache with the default 5-minute lifetime."""
    cache_read: float = Field(ge=0)
    """Tokens read from the prompt cache."""

    def cost_usd(self, usage: Usage) -> float:
        """What the tokens in ``usage`` cost (its own ``cost_usd`` is ignored)."""
        micro_dollars = (
            usage.input_tokens * self.input
            + usage.output_tokens * self.output
            + usage.cache_write_tokens * self.cache_write
            + usage.cache_read_tokens * self.cache_read
        )
        return round(micro_dollars / 1_000_000, 8)


# As of 2026-11, check anthropic.com/pricing (platform.claude.com/docs/en/about-claude/pricing).
# Claude Haiku 5.5 bills prompts over 100k tokens (cache included) at five times these
# rates; salesbus prompts are bounded far below that, so only the lower band is here.
DEFAULT_PRICES: Mapping[str, ModelPrice] = {
    "claude-haiku-5-5": ModelPrice(input=0.10, output=0.50, cache_write=0.125, cache_read=0.01),
    "claude-sonnet-5-5": ModelPrice(input=2.0, output=10.0, cache_write=2.5, cache_read=0.10),
    "claude-sonnet-5": ModelPrice(input=2.0, output=10.0, cache_write=2.5, cache_read=0.20),
    "claude-opus-5-5": ModelPrice(input=4.0, output=20.0, cache_write=5.0, cache_read=0.20),
    "claude-opus-5": ModelPrice(input=5.0, output=25.0, cache_write=6.25, cache_read=0.50),
    "claude-haiku-4-5": ModelPrice(input=1.0, output=5.0, cache_write=1.25, cache_read=0.10),
    "claude-sonnet-4-5": ModelPrice(input=3.0, output=15.0, cache_write=3.75, cache_read=0.30),
}

BATCH_PRICE_FACTOR = 0.5
"""What a Message Batches request pays of the prices above (every token kind: half)."""

_SNAPSHOT_SUFFIX = re.compile(r"-\d{8}$")


def _without_snapshot(model: str) -> str:
    """``claude-haiku-4-5-20251001`` → ``claude-haiku-4-5``: a dated snapshot bills as its alias.

    Only an exact id or a dated snapshot of it matches; a prefix match would price
    ``claude-sonnet-5-5`` as ``claude-sonnet-5`` without anyone noticing.
    """
    return _SNAPSHOT_SUFFIX.sub("", model)


class PriceTable:
    """Prices by model id, and the cost of a call's usage under them."""

    def __init__(
        self, prices: Mapping[str, ModelPrice], batch_factor: float = BATCH_PRICE_FACTOR
    ) -> None:
        self._prices = dict(prices)
        self.batch_factor = batch_factor
        """The share of these prices a Message Batches request pays."""
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    @property
    def models(self) -> list[str]:
        return sorted(self._prices)

    def price(self, model: str) -> ModelPrice | None:
        """The price of ``model`` (or of the alias of a dated snapshot), if known."""
        return self._prices.get(model) or self._prices.get(_without_snapshot(model))

    def knows(self, model: str) -> bool:
        """Whether :meth:`cost_usd` can price ``model``; when not, costs read 0.0."""
        return self.price(model) is not None

    def cost_usd(self, model: str, usage: Usage) -> float:
        """The cost of ``usage`` on ``model``; 0.0, logged once, for a model not in the table."""
        price = self.price(model)
        if price is None:
            self._warn_unknown(model)
            return 0.0
        return price.cost_usd(usage)

    def batch_cost_usd(self, model: str, usage: Usage) -> float:
        """The cost of ``usage`` sent through Message Batches: :attr:`batch_factor` of the price."""
        return round(self.cost_usd(model, usage) * self.batch_factor, 8)

    def with_overrides(
        self, prices: Mapping[str, ModelPrice], batch_factor: float | None = None
    ) -> PriceTable:
        """This table with ``prices`` added, replacing rows of the same model."""
        factor = self.batch_factor if batch_factor is None else batch_factor
        return PriceTable({**self._prices, **prices}, factor)

    def _warn_unknown(self, model: str) -> None:
        with self._lock:
            if model in self._warned:
                return
            self._warned.add(model)
        logger.warning(
            "no price for model %r: its cost counts as 0.0; add it to a %s file",
            model,
            PRICES_ENV,
        )


class _PriceFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: dict[str, ModelPrice] = Field(default_factory=dict)
    batch_factor: float | None = Field(default=None, gt=0, le=1, allow_inf_nan=False)


def _read_price_file(path: Path) -> _PriceFile:
    """:raises ValueError: unreadable file, bad JSON/TOML or bad rows, naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
        return _PriceFile.model_validate(data)
    except OSError as exc:
        raise ValueError(f"cannot read price file {path}: {exc.strerror}") from exc
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"price file {path} is not valid JSON/TOML: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ValueError(f"price file {path}: {problems}") from exc


def load_prices(path: str | Path | None = None) -> PriceTable:
    """The default prices, overridden by ``path`` or else by the file ``$SALESBUS_PRICES`` names.

    A ``.json`` file is read as JSON, anything else as TOML.

    :raises ValueError: the override file cannot be read or is invalid.
    """
    table = PriceTable(DEFAULT_PRICES)
    source = path if path is not None else os.environ.get(PRICES_ENV)
    if not source:
        return table
    overrides = _read_price_file(Path(source))
    return table.with_overrides(overrides.models, overrides.batch_factor)


@functools.cache
def default_prices() -> PriceTable:
    """The process-wide table, loaded once (environment read on first use)."""
    return load_prices()


def cost_usd(model: str, usage: Usage) -> float:
    """The cost of ``usage`` on ``model`` under :func:`default_prices` (0.0 if unknown)."""
    return default_prices().cost_usd(model, usage)
