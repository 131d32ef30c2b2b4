"""English that holds for any company name: possessives, names in running text, lists.

Templates are filled with names nobody chose for a template — ``Siemens``,
``N-able, Inc.``, ``Viasat (American company)``, ``Robinhood Markets`` — so the
small rules a writer applies without thinking live here, once, for every
message the offline engine writes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = [
    "clip",
    "lower_first",
    "possessive",
    "prose_list",
    "running_name",
    "sentence",
    "upper_first",
]

_LEGAL_SUFFIX = re.compile(
    r"(?:,?\s+(?:inc|incorporated|llc|l\.l\.c|ltd|limited|gmbh|corp|corporation|co|plc|ag|"
    r"se|sa|s\.a|nv|n\.v|bv|b\.v|oyj|ab|asa|a/s|spa|s\.p\.a|pty|pte|kk|k\.k|lp|llp)\.?)+$",
    re.IGNORECASE,
)
_PARENTHETICAL = re.compile(r"\s*[(\[][^()\[\]]*[)\]]")


def running_name(name: str) -> str:
    """A company's name as a sentence uses it: no legal suffix, no parenthetical.

    ``"N-able, Inc."`` → ``"N-able"``; ``"Viasat (American company)"`` →
    ``"Viasat"``; a name that is only a suffix is kept as given.
    """
    text = " ".join(_PARENTHETICAL.sub("", name).split())
    short = _LEGAL_SUFFIX.sub("", text).rstrip(" ,&")
    return short or text or name.strip()


def possessive(name: str) -> str:
    """``Siemens'``, ``Robinhood Markets'``, ``Acme's``: an apostrophe alone after a final s."""
    name = name.rstrip()
    if name.endswith(("s", "S")) and not name.endswith(("ss", "SS")):
        return f"{name}'"
    return f"{name}'s"


def prose_list(items: Sequence[str], conjunction: str = "and") -> str:
    """``["a", "b", "c"]`` → ``"a, b and c"``: a list as a sentence reads it."""
    items = [item for item in items if item]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def sentence(text: str) -> str:
    """``text`` ending in exactly one full stop, even after ``Inc.`` or an ellipsis."""
    text = text.strip()
    if text.endswith(("!", "?", "…", "”", '"')):
        return text
    return f"{text.rstrip('.')}."


def lower_first(text: str) -> str:
    """Lower-cases the first letter to continue a sentence, unless it begins an acronym."""
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def clip(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, marked with "…"."""
    if len(text) <= limit:
        return text
    if limit < 2:
        return text[: max(limit, 0)]
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + "…"
