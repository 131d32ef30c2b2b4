"""Choosing a provider from configuration: Claude with a key, the offline rules without."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Literal

from .base import Provider

if TYPE_CHECKING:
    from .batch_ledger import BatchLedger
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
    batch: BatchLedger | None = None,
) -> Provider:
    """The provider asked for; Claude paces its calls with ``limiter``.

    With ``batch`` (a ledger), Claude sends its calls as Message Batches, recorded
    there; batch timing comes from the environment (:meth:`BatchSettings.from_env`).

    The SDK is imported only here, when Claude is chosen: it costs seconds at
    start-up that an offline run should not pay.

    :raises ProviderConfigError: ``anthropic`` asked for without an API key, or bad
        batch timing in the environment.
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
    from .anthropic_batch import BatchSettings

    batch_settings = None
    if batch is not None:
        try:
            batch_settings = BatchSettings.from_env()
        except ValueError as exc:
            raise ProviderConfigError(str(exc)) from None
    return AnthropicProvider(
        model=model, limiter=limiter, batch=batch, batch_settings=batch_settings
    )
