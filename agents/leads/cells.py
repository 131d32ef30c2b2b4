"""One cell at a time: invisible characters out, a size cap, headcounts as vendors write them."""

from __future__ import annotations

import re

__all__ = ["CELL_LIMIT", "HEADCOUNT_LIMIT", "clean_cell", "parse_employees", "strip_controls"]

CELL_LIMIT = 20_000
"""Characters kept of one cell (about 5,000 tokens); the rest is cut with a warning."""
HEADCOUNT_LIMIT = 10_000_000
"""No company employs more; a larger number is a typo or a revenue figure."""

_CONTROLS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u202a-\u202e\u2066-\u2069\ufeff]"
)
"""C0/C1 controls (but tab and line breaks), zero-width space, bidirectional overrides, BOM."""


def strip_controls(text: str) -> str:
    """``text`` without control characters that a terminal or a reader would act on."""
    return _CONTROLS.sub("", text)


def clean_cell(raw: str, *, single_line: bool) -> tuple[str, list[str]]:
    """The cell as it will be used, and what had to be done to it (for warnings).

    ``single_line`` cells (names, websites, counts) also have line breaks and runs
    of spaces collapsed; descriptions keep their paragraphs.
    """
    problems: list[str] = []
    text = strip_controls(raw)
    if text != raw:
        problems.append("control characters removed")
    if len(text) > CELL_LIMIT:
        problems.append(f"cut to {CELL_LIMIT:,} of {len(text):,} characters")
        text = text[:CELL_LIMIT]
    text = " ".join(text.split()) if single_line else text.strip()
    return text, problems


_NOISE = re.compile(
    r"\([^)]*\)?"  # "(2023)", "( FTE , 2024)", an unclosed "(est"
    r"|\b(?:employees?|staff|people|persons|fte|full[- ]time|headcount|workers|approx(?:imately)?"
    r"|about|around|circa|ca|c|est(?:imated)?|over|more than|roughly|nearly|almost|at least"
    r"|total|worldwide|globally)\b\.?"
    r"|[~≈>+<]|≥|≤",
    re.IGNORECASE,
)
_RANGE = re.compile(r"\s*(?:-|–|—|\bto\b)\s*", re.IGNORECASE)
_NUMBER = re.compile(
    r"^(?P<number>\d{1,3}(?:[,'’\u00a0\u202f ]\d{3})+"
    r"|\d{1,3}(?:\.\d{3})+(?![\d.])|\d{1,9}(?:\.\d+)?)"
    r"\s*(?P<unit>k|thousand|m|mn|mio|million)?$",
    re.IGNORECASE,
)
_UNITS = {"": 1, "k": 1_000, "thousand": 1_000, "m": 1_000_000, "mn": 1_000_000}
_UNITS |= {"mio": 1_000_000, "million": 1_000_000}


def parse_employees(raw: str) -> int:
    """A headcount as data vendors write it, e.g. ``20,000 (2023)``, ``c. 7,500``,
    ``25,599 ( FTE , 2024)``, ``10k+``, ``1.2 million``, ``51-200`` (a range gives its
    middle) or ``5,001-10,000 employees``.

    :raises ValueError: with a reason a user can act on.
    """
    text = _NOISE.sub(" ", raw).strip(" .,;:")
    parts = [part for part in _RANGE.split(text) if part.strip()]
    if not 1 <= len(parts) <= 2:
        raise ValueError(f"headcount {_shown(raw)} is not a number (try 250, 1,200, 10k or 51-200)")
    values = [_number(part.strip(), raw) for part in parts]
    value = sum(values) // len(values)
    if value > HEADCOUNT_LIMIT:
        raise ValueError(f"headcount {_shown(raw)} is more than any company employs")
    return value


def _number(text: str, raw: str) -> int:
    match = _NUMBER.match(text)
    if match is None:
        raise ValueError(f"headcount {_shown(raw)} is not a number (try 250, 1,200, 10k or 51-200)")
    number = re.sub(r"[,.'’\u00a0\u202f ]", "", match["number"])
    if "." in match["number"] and re.fullmatch(r"\d+\.\d{1,2}|\d+\.\d{4,}", match["number"]):
        number = match["number"]  # a decimal ("1.2 million"), not a thousands separator
    unit = (match["unit"] or "").lower()
    return int(float(number) * _UNITS[unit])


def _shown(raw: str, limit: int = 40) -> str:
    """``raw`` quoted for a message, cut so that a 400-digit cell stays one readable line."""
    return repr(raw if len(raw) <= limit else raw[:limit] + "…")
