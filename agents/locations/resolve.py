"""Where a company is: location text as lead files write it → an ISO country.

Countries are recognised by every spelling ISO 3166 gives them (name, official
and common name, alpha-2, alpha-3; pycountry's data) and the few aliases in
``regions.toml``; US states and Canadian provinces by name and postal code
(ISO 3166-2, also from pycountry). After a city, a two-letter code is read as a
state or province before a country (``Wilmington, DE`` is Delaware, as US lead
lists mean it; write ``Berlin, Germany`` for Germany).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

import pycountry

from .regions import normalise_name, region_table

__all__ = ["Place", "country_name", "resolve_location"]

_STATE_COUNTRIES = ("US", "CA")
_PARTS = re.compile(r"[,;/|()]")
_EDGE_PUNCTUATION = " .-–—'\"*"


@dataclass(frozen=True, slots=True)
class Place:
    """A resolved location: its country and, when given, its US state or Canadian province."""

    country_code: str
    """ISO 3166-1 alpha-2."""
    country: str
    subdivision: str | None = None
    """ISO 3166-2, e.g. ``US-TX``."""

    @property
    def regions(self) -> list[str]:
        """The sales regions this place is in (``North America``, ``EMEA``…)."""
        return region_table().regions_of(self.country_code)


@cache
def _countries() -> dict[str, str]:
    index: dict[str, str] = {}
    for country in pycountry.countries:
        for attribute in ("alpha_2", "alpha_3", "name", "official_name", "common_name"):
            spelling = getattr(country, attribute, None)
            if spelling:
                index.setdefault(normalise_name(spelling), country.alpha_2)
    index.update(region_table().aliases)
    return index


@cache
def _states() -> dict[str, str]:
    index: dict[str, str] = {}
    for subdivision in pycountry.subdivisions:
        if subdivision.country_code in _STATE_COUNTRIES:
            index[normalise_name(subdivision.name)] = subdivision.code
            index[subdivision.code.split("-", 1)[1].lower()] = subdivision.code
    for spelling in ("washington dc", "washington d.c.", "d.c."):
        index[spelling] = "US-DC"
    return index


def country_name(code: str) -> str:
    """``"US"`` → ``"United States"``: the ISO name, or the common one where ISO's is long."""
    return _country_name(code)


@cache
def _country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    assert country is not None  # every code in the indexes comes from pycountry
    return str(getattr(country, "common_name", None) or country.name)


def _place(code: str, subdivision: str | None = None) -> Place:
    return Place(country_code=code, country=_country_name(code), subdivision=subdivision)


def _lookup(text: str, *, state_first: bool) -> Place | None:
    state = country = None
    for key in (normalise_name(text), normalise_name(text.strip(_EDGE_PUNCTUATION))):
        state = state or _states().get(key)
        country = country or _countries().get(key)
    if state is not None and (state_first or country is None):
        return _place(state.split("-", 1)[0], state)
    if country is not None:
        return _place(country)
    return None


@lru_cache(maxsize=4096)
def resolve_location(text: str) -> Place | None:
    """The country (and US state/Canadian province) of ``text``, or ``None``.

    ``"Germany"``, ``"DE"``, ``"Texas"``, ``"Austin, Texas"``, ``"Charlotte NC"``,
    ``"Toronto, Ontario"``, ``"Berlin, Germany"`` and ``"Tokyo (Japan)"`` all resolve; a
    city alone does not (nothing here knows cities).
    """
    whole = _lookup(text, state_first=False)
    if whole is not None:
        return whole
    parts = [part for part in _PARTS.split(text) if part.strip(_EDGE_PUNCTUATION)]
    for part in reversed(parts[1:]):
        place = _lookup(part, state_first=True)
        if place is not None:
            return place
    words = (parts[-1] if parts else text).split()
    for size in (3, 2, 1):
        if len(words) <= size:
            continue
        tail = " ".join(words[-size:])
        if size == 1 and len(tail) == 2 and not tail.isupper():
            continue  # "Charlotte NC" is a state code, "Sao Paulo do" is not
        place = _lookup(tail, state_first=True)
        if place is not None:
            return place
    return None
