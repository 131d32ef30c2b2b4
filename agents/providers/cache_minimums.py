"""The smallest cacheable prompt prefix per model, read from ``cache_minimums.toml``.

Kept as data beside the code (like :mod:`.prices`): the numbers change with the
models, and the file says where they come from. Validated when first read, so
a bad row fails loudly instead of silently turning caching off.
"""

from __future__ import annotations

import functools
import re
import tomllib
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError

__all__ = ["CacheMinimums", "cache_minimums", "min_cacheable_tokens"]

_SNAPSHOT_SUFFIX = re.compile(r"-\d{8}$")


class CacheMinimums(BaseModel):
    """``default`` for unknown models, and the minimum of each listed model."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default: PositiveInt
    models: dict[str, PositiveInt] = Field(default_factory=dict)

    def tokens(self, model: str) -> int:
        """The minimum for ``model``, a dated snapshot of it, or else the default."""
        found = self.models.get(model) or self.models.get(_SNAPSHOT_SUFFIX.sub("", model))
        return found or self.default


@functools.cache
def cache_minimums() -> CacheMinimums:
    """The table shipped with salesbus.

    :raises ValueError: the data file is invalid (a packaging or editing error).
    """
    text = resources.files(__package__).joinpath("cache_minimums.toml").read_text("utf-8")
    try:
        return CacheMinimums.model_validate(tomllib.loads(text))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ValueError(f"cache_minimums.toml is invalid: {exc}") from exc


def min_cacheable_tokens(model: str) -> int:
    return cache_minimums().tokens(model)
