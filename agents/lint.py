"""The draft linter: the seams that show a message was assembled, not written.

A salesperson reading ``N-able, Inc..``, ``Robinhood Markets's size``, an empty
``()`` where a product should be, the same sentence twice, or a product list
pasted into a sentence would not send the draft. Each finding here is one
readable line naming the message and the seam, used by the ``draft_linter``
quality rule (a REVISE: a rewrite fixes it).

Text copied verbatim from untrusted input — a run of :data:`VERBATIM_WORDS`
words from the lead row's description or the company's web page — counts too:
a seller paraphrases what they read, and a long verbatim copy is how a page's
instructions or lures would reach a prospect.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable

from .models import CompanyProfile, Message

__all__ = ["UNTRUSTED_TOPICS", "VERBATIM_WORDS", "seams_in", "untrusted_runs"]

VERBATIM_WORDS = 10
"""This many consecutive words copied from untrusted text make a seam."""

UNTRUSTED_TOPICS = frozenset({"description", "notes", "summary", "title", "news", "signal"})
"""Fact topics whose text someone other than the seller wrote."""

_SEAMS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("doubled punctuation", re.compile(r"[.,;:!?] ?[.,;:!?]")),
    ("'s after a final s", re.compile(r"(?<=\w)s['’]s\b")),
    ("empty brackets or quotes", re.compile(r"\(\s*\)|“\s*”|\"\s*\"|\[\s*\]")),
    ("a space before punctuation", re.compile(r"[ \t][,.;:!?](?!\w)")),
    ("a doubled space", re.compile(r"(?<=\S)  +(?=\S)")),
)
"""Each pattern begins with a character class or a literal, so the scan is fast."""
_ELLIPSIS = ("...", "?!", "!?")
_TOKEN = re.compile(r"[\w'’-]+|[.,;:!?]")
_ARTICLES = frozenset({"a", "an", "the"})
_PUNCTUATION = frozenset(".,;:!?")
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")
_LIST_SEPARATOR = re.compile(r"[,;]\s")
_LIST_ITEM_BREAK = re.compile(r"[.:!?]\s|[.:!?]$")
_LIST_ITEM_MAX = 40
_LIST_MIN = 4
_WORD = re.compile(r"[\w'’-]+")


Runs = frozenset[tuple[str, ...]]
"""Every run of :data:`VERBATIM_WORDS` words in a profile's untrusted facts."""


def untrusted_runs(profile: CompanyProfile) -> Runs:
    """Read once per draft: every message is compared with the same runs."""
    runs: set[tuple[str, ...]] = set()
    for fact in profile.facts:
        if fact.topic in UNTRUSTED_TOPICS:
            words = _words(fact.text)
            runs.update(
                tuple(words[i : i + VERBATIM_WORDS]) for i in range(len(words) - VERBATIM_WORDS + 1)
            )
    return frozenset(runs)


def seams_in(message: Message, runs: Runs, boilerplate: Iterable[str]) -> list[str]:
    """Every seam in ``message``; ``boilerplate`` (the footer's address) is not read."""
    text = "\n".join(part for part in (message.subject, message.body) if part)
    for fixed in boilerplate:
        if fixed:
            text = text.replace(fixed, "")
    found = [f"{name} ('{_around(text, m)}')" for name, p in _SEAMS if (m := _seam(p, text))]
    found.extend(_token_seams(text))
    repeated = _repeated_sentence(text)
    if repeated:
        found.append(f"a repeated sentence ('{repeated[:60]}')")
    raw = _raw_list(text)
    if raw:
        found.append(f"a raw list ('{raw[:60]}')")
    copied = _copied(text, runs)
    if copied:
        found.append(f"text copied from the company's own words ('{copied[:60]}…')")
    return found


def _seam(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    """The first match that is a seam: an ellipsis or "?!" is punctuation, not a doubling."""
    for match in pattern.finditer(text):
        around = text[max(match.start() - 1, 0) : match.end() + 1]
        if not any(mark in around for mark in _ELLIPSIS):
            return match
    return None


def _token_seams(text: str) -> list[str]:
    """A word written twice ("the the") and an article left before punctuation ("a .")."""
    found: list[str] = []
    tokens = _TOKEN.findall(text.lower())
    pairs = list(itertools.pairwise(tokens))
    doubled = next((a for a, b in pairs if a == b and len(a) > 1 and a[0].isalnum()), None)
    if doubled:
        found.append(f"a doubled word ('{doubled} {doubled}')")
    dangling = next((a for a, b in pairs if a in _ARTICLES and b in _PUNCTUATION), None)
    if dangling:
        found.append(f"a dangling article ('{dangling}')")
    return found


def _around(text: str, match: re.Match[str]) -> str:
    start, end = max(match.start() - 15, 0), min(match.end() + 15, len(text))
    return " ".join(text[start:end].split())


def _repeated_sentence(text: str) -> str | None:
    seen: set[str] = set()
    sentence: str
    for sentence in _SENTENCE.findall(text):
        key = " ".join(sentence.lower().split())
        if len(key) < 20:
            continue
        if key in seen:
            return sentence.strip()
        seen.add(key)
    return None


def _raw_list(text: str) -> str | None:
    """Four or more short items in a row joined by commas or semicolons, the last
    without "and"/"or": a list pasted in, not written out as prose."""
    for line in text.splitlines():
        if line.count(",") + line.count(";") < _LIST_MIN - 1:
            continue
        run: list[str] = []
        for item in _LIST_SEPARATOR.split(line):
            item = item.strip().rstrip(".!?")
            if 0 < len(item) <= _LIST_ITEM_MAX and not _LIST_ITEM_BREAK.search(item):
                run.append(item)
                continue
            if len(run) >= _LIST_MIN:
                break
            run = []
        if len(run) >= _LIST_MIN and not run[-1].lower().startswith(("and ", "or ")):
            return ", ".join(run)
    return None


def _words(text: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(text)]


def _copied(text: str, runs: Runs) -> str | None:
    """The first run of :data:`VERBATIM_WORDS` words the message shares with untrusted facts."""
    if not runs:
        return None
    words = _words(text)
    for i in range(len(words) - VERBATIM_WORDS + 1):
        if tuple(words[i : i + VERBATIM_WORDS]) in runs:
            return " ".join(words[i : i + VERBATIM_WORDS])
    return None
