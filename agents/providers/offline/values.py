"""The seller's value propositions: which one answers a finding, and how it reads.

A finding's words (its category and description) pick the proposition sharing
the most of them; propositions that use a flagged phrase (a spam phrase, or one
a revision note quoted) are never chosen.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from ...campaign import Campaign, Seller
from ...grammar import lower_first
from ...knowledge import mentions_any
from ...quality import SPAM_PHRASES

__all__ = [
    "best_value_proposition",
    "flagged_phrases",
    "is_clean",
    "solution",
    "value_sentence",
]


def flagged_phrases(campaign: Campaign) -> tuple[str, ...]:
    """What outreach never says: the phrases the quality checks flag, and the campaign's own."""
    return (*SPAM_PHRASES, *campaign.limits.extra_spam_phrases)


@functools.lru_cache(maxsize=4096)
def is_clean(text: str, flagged: tuple[str, ...]) -> bool:
    """Cached: calls to action, proof points and subjects recur in every draft."""
    return not mentions_any(text, flagged)


def _value_propositions(campaign: Campaign, flagged: Sequence[str]) -> tuple[str, ...]:
    return _clean_value_propositions(tuple(campaign.seller.value_propositions), tuple(flagged))


@functools.lru_cache(maxsize=64)
def _clean_value_propositions(
    value_propositions: tuple[str, ...], flagged: tuple[str, ...]
) -> tuple[str, ...]:
    """Computed once per campaign, not once per message of every company."""
    return tuple(vp for vp in value_propositions if is_clean(vp, flagged))


def best_value_proposition(
    keywords: Sequence[str], campaign: Campaign, flagged: Sequence[str], avoid: str | None = None
) -> str | None:
    """The value proposition sharing most words with ``keywords``; the first one on ties."""
    return _best_of(_value_propositions(campaign, flagged), tuple(keywords), avoid)


@functools.lru_cache(maxsize=1024)
def _best_of(
    value_propositions: tuple[str, ...], keywords: tuple[str, ...], avoid: str | None
) -> str | None:
    """Cached: each pain rule asks with the same keywords for every company."""
    options = [vp for vp in value_propositions if vp != avoid] or list(value_propositions)
    if not options:
        return None
    return max(options, key=lambda vp: sum(word in vp.lower() for word in keywords))


def value_sentence(seller: Seller, value_proposition: str) -> str:
    """One value proposition as a sentence about the seller.

    A proposition written as a verb phrase ("Unifies CRM data…") reads as
    "Tallyline unifies CRM data…"; anything else is introduced instead.
    """
    text = value_proposition.strip().rstrip(".")
    first_word = text.split(" ", 1)[0]
    if first_word.istitle() and first_word.endswith("s"):
        return f"{seller.company} {lower_first(text)}."
    return f"How {seller.company} helps: {lower_first(text)}."


def solution(keywords: Sequence[str], campaign: Campaign) -> str:
    flagged = flagged_phrases(campaign)
    value_proposition = best_value_proposition(keywords, campaign, flagged)
    if value_proposition is None:
        return f"{campaign.seller.product} addresses this directly."
    return value_sentence(campaign.seller, value_proposition)
