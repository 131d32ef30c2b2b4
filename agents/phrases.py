"""The one phrase matcher of the package: whole words, any case, spaces or hyphens.

Knowledge lookups (industries, signals, technologies) and the quality checks
(spam phrases, names) ask the same question — does this phrase occur in this
text as whole words? — and get the same answer: ``"ai"`` is not in
``"maintain"``, ``"risk-free"`` matches ``"risk free"``, ``&`` reads as ``and``
and a curly apostrophe as a straight one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

__all__ = ["first_position", "mentions", "mentions_any"]


def _searchable(text: str) -> str:
    return text.replace("’", "'").replace("&", " and ")


def _words(phrase: str) -> list[str]:
    return [word for word in re.split(r"[\s-]+", _searchable(phrase).strip()) if word]


def _phrase_regex(phrase: str) -> str:
    """Words in order, with spaces and hyphens between them interchangeable."""
    return r"[\s-]+".join(re.escape(word) for word in _words(phrase))


@lru_cache(maxsize=4096)
def _phrase_pattern(phrase: str, match_case: bool) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){_phrase_regex(phrase)}(?!\w)", 0 if match_case else re.IGNORECASE)


@lru_cache(maxsize=1024)
def _phrases_pattern(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern for a whole list: a single search instead of one per phrase."""
    bodies = [_phrase_regex(phrase) for phrase in phrases if _words(phrase)]
    if not bodies:
        return None
    return re.compile(rf"(?<!\w)(?:{'|'.join(bodies)})(?!\w)", re.IGNORECASE)


def mentions(text: str, phrase: str, *, match_case: bool = False) -> bool:
    """Whether ``phrase`` occurs in ``text`` as whole words (a blank phrase never does)."""
    if not _words(phrase):
        return False
    return _phrase_pattern(phrase, match_case).search(_searchable(text)) is not None


def mentions_any(text: str, phrases: Sequence[str]) -> bool:
    """Whether any of ``phrases`` occurs in ``text`` as whole words, ignoring case."""
    pattern = _phrases_pattern(tuple(phrases))
    return pattern is not None and pattern.search(_searchable(text)) is not None


def first_position(text: str, phrase: str) -> int | None:
    """Where ``phrase`` first occurs in ``text`` as whole words, ignoring case."""
    if not _words(phrase):
        return None
    found = _phrase_pattern(phrase, False).search(_searchable(text))
    return found.start() if found else None
