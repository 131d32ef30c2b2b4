"""Choosing a provider from configuration: Claude with a key, the offline rules without."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Literal

from .base import Provider

if TYPE_CHECKING:
    from .limits import AdaptiveLimiter

__all__ = ["ProviderChoice", "ProviderConfigError", "make_provider", "resolve_choice"]

ProviderChoice = Literal["auto", "offline", "anthropic"]


class ProviderConfigError(Exception):
    """The provider asked for cannot be built (Claude without an API key, say)."""


def resolve_choice(choice: ProviderChoice) -> Literal["offline", "anthropic"]:
    """``auto`` means Claude when ``ANTHROPIC_API_KEY`` is set, else the offline rules."""
    if choice == "auto":
        return "anthropic" if os.environ.get("ANTHROPIC_API_KEY") else "offline"
    return choice


def make_provider(
    choice: ProviderChoice = "auto",
    *,
    model: str | None = None,
    limiter: AdaptiveLimiter | None = None,
) -> Provider:
    """The provider asked for; Claude paces its calls with ``limiter``.

    The SDK is imported only here, when Claude is chosen: it costs seconds at
    start-up that an offline run should not pay.

    :raises ProviderConfigError: ``anthropic`` asked for without an API key.
    """
    resolved = resolve_choice(choice)
    if resolved == "offline":
        from .offline import OfflineProvider

        return OfflineProvider()
    if not os.environ.get("ANTHROPIC_API_KEY"):
        raise ProviderConfigError(
            "--llm anthropic needs ANTHROPIC_API_KEY in the environment"
            " (or use --llm offline, the rule-based provider that needs no network)"
        )
    from .anthropic import AnthropicProvider

    return AnthropicProvider(model=model, limiter=limiter)
