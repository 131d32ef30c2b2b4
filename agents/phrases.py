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


_FOLDS_ODDLY = ("ſ", "\u212a", "ı", "İ")
"""Characters a case-insensitive regex matches to an ASCII letter that ``str.lower``
does not turn into it (long s, Kelvin sign, dotless i, dotted capital I)."""


_TOKEN = re.compile(r"\w+")
"""A word as the word test reads it: a maximal run of word characters, which is what
the regex's word boundaries and separators leave of a phrase word (an apostrophe or
``%`` is a boundary to the regex, so ``it's`` holds the word ``s``)."""


@lru_cache(maxsize=4096)
def _readable(text: str) -> tuple[str, str, frozenset[str]]:
    """``text`` as phrases are searched for in it, that lower-cased, and its words —
    both empty when lower-casing could hide a match (cached: the same fact or message is
    read against many phrase lists)."""
    searchable = _searchable(text)
    if not searchable.isascii() and any(c in searchable for c in _FOLDS_ODDLY):
        return searchable, "", frozenset()
    lowered = searchable.lower()
    return searchable, lowered, frozenset(_TOKEN.findall(lowered))


@lru_cache(maxsize=4096)
def _plain_words(phrase: str) -> tuple[str, ...] | None:
    """The phrase's words lower-cased, when each is one token of ``_TOKEN`` (else ``None``:
    no word test for ``u.s.``, ``it's``, ``100%`` or a phrase that is not ASCII)."""
    if not phrase.isascii():  # a case-insensitive regex folds ``ı`` onto ``I``; lower() does not
        return None
    words = tuple(word.lower() for word in _words(phrase))
    return words if words and all(_TOKEN.fullmatch(word) for word in words) else None


def _all_words_in(tokens: frozenset[str], phrase: str) -> bool:
    """Every word of the phrase occurs in the text: needed for a match, and a set lookup."""
    words = _plain_words(phrase)
    return words is None or all(word in tokens for word in words)


@lru_cache(maxsize=4096)
def _first_word(phrase: str) -> str:
    words = _words(phrase)
    return words[0].lower() if words else ""


def _may_occur(lowered: str, phrase: str) -> bool:
    """A phrase's first word must occur in the lower-cased text for the phrase to: a
    substring test that rules most phrases out for a fraction of a regex search."""
    first = _first_word(phrase)
    return bool(first) and (not lowered or first in lowered or not first.isascii())


def mentions(text: str, phrase: str, *, match_case: bool = False) -> bool:
    """Whether ``phrase`` occurs in ``text`` as whole words (a blank phrase never does)."""
    searchable, lowered, tokens = _readable(text)
    if not _may_occur(lowered, phrase) or (lowered and not _all_words_in(tokens, phrase)):
        return False
    return _phrase_pattern(phrase, match_case).search(searchable) is not None


@lru_cache(maxsize=1024)
def _first_words(phrases: tuple[str, ...]) -> tuple[str, ...] | None:
    """Each phrase's first word, once; ``None`` when one is not ASCII (no shortcut then)."""
    words = tuple(dict.fromkeys(_first_word(phrase) for phrase in phrases if _words(phrase)))
    return words if all(word.isascii() for word in words) else None


def mentions_any(text: str, phrases: Sequence[str]) -> bool:
    """Whether any of ``phrases`` occurs in ``text`` as whole words, ignoring case."""
    key = tuple(phrases)
    searchable, lowered, tokens = _readable(text)
    firsts = _first_words(key)
    if lowered and firsts is not None and not any(word in lowered for word in firsts):
        return False
    if lowered and not any(_all_words_in(tokens, phrase) for phrase in key):
        return False
    pattern = _phrases_pattern(key)
    return pattern is not None and pattern.search(searchable) is not None


def first_position(text: str, phrase: str) -> int | None:
    """Where ``phrase`` first occurs in ``text`` as whole words, ignoring case."""
    searchable, lowered, _ = _readable(text)
    if not _may_occur(lowered, phrase):
        return None
    found = _phrase_pattern(phrase, False).search(searchable)
    return found.start() if found else None
