"""Laying a message out within its length limit: parts dropped or clipped, citations kept."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ...grammar import clip
from ...models import (
    PersonalizationElement,
)


@dataclass(frozen=True)
class Part:
    """One paragraph (or line) of a message, with the facts it rests on."""

    text: str
    fact_ids: tuple[str, ...] = ()
    optional: bool = False
    """Dropped first when the message is too long, and always in a tightened revision."""
    clippable: bool = False
    """May be shortened at a word boundary when dropping optional parts is not enough."""


_MIN_CLIPPED = 30


def _joined(parts: Sequence[Part], separator: str) -> str:
    return separator.join(part.text for part in parts if part.text)


def _length(parts: Sequence[Part], separator: str) -> int:
    return len(_joined(parts, separator))


def _fit(parts: Sequence[Part], limit: int, separator: str) -> list[Part] | None:
    """``parts`` made to fit ``limit``: optional parts dropped (last first), then clippable
    ones shortened (last first). ``None`` when the fixed parts alone are too long."""
    kept = list(parts)
    while _length(kept, separator) > limit and any(part.optional for part in kept):
        last_optional = max(i for i, part in enumerate(kept) if part.optional)
        del kept[last_optional]
    for index in reversed(range(len(kept))):
        excess = _length(kept, separator) - limit
        if excess <= 0:
            break
        part = kept[index]
        if not part.clippable:
            continue
        shorter = clip(part.text, len(part.text) - excess)
        kept[index] = Part(shorter, part.fact_ids, part.optional, part.clippable)
        if len(shorter) < _MIN_CLIPPED:
            kept[index] = Part("", ())
    kept = [part for part in kept if part.text]
    return kept if _length(kept, separator) <= limit else None


def _elements(parts: Sequence[Part]) -> list[PersonalizationElement]:
    return [
        PersonalizationElement(text=part.text, fact_ids=list(part.fact_ids))
        for part in parts
        if part.fact_ids
    ]


@dataclass(frozen=True)
class _Piece:
    """A message body as written: its text and what it cites."""

    body: str
    elements: list[PersonalizationElement]


def within(parts: Sequence[Part], limit: int, separator: str = "\n\n") -> _Piece | None:
    """The body made to fit ``limit``, or ``None`` if only cutting the footer could."""
    fitted = _fit(parts, limit, separator)
    if fitted is None:
        return None
    return _Piece(_joined(fitted, separator), _elements(fitted))


def written(parts: Sequence[Part], limits: Sequence[int], separator: str = "\n\n") -> _Piece:
    """The body within the first of ``limits`` it can meet.

    The last limit is the campaign's: when even the fixed lines (greeting,
    signature, opt-out, address) exceed it, the body is cut hard so the limit
    still holds, and the quality checks will say what went missing.
    """
    for limit in limits:
        piece = within(parts, limit, separator)
        if piece is not None:
            return piece
    return _Piece(clip(_joined(parts, separator), limits[-1]), [])
