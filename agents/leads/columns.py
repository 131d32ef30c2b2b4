"""Header mapping: which column of a lead file fills which field, and why.

Exports name the same column a dozen ways, so headers are matched after
normalising case, spaces and punctuation, through the spellings in
``columns.toml``. Every header gets a decision a user can read (``inspect`` and
``run`` print them): a field, a fact named after the header, or (only when asked
for with ``--map``) skipped. Nothing is thrown away silently.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib.resources import files

from pydantic import BaseModel, ConfigDict, model_validator

from ..errors import LeadFileError

__all__ = [
    "ColumnMapping",
    "Target",
    "explicit_targets",
    "map_columns",
    "normalise_header",
    "parse_column_map",
    "unknown_explicit",
]


class Target(StrEnum):
    """Where a column's values go."""

    NAME = "name"
    DOMAIN = "domain"
    WEBSITE = "website"
    INDUSTRY = "industry"
    EMPLOYEES = "employees"
    LOCATION = "location"
    CITY = "city"
    STATE = "state"
    COUNTRY = "country"
    REGION = "region"
    DESCRIPTION = "description"
    NOTES = "notes"
    CONTACT_NAME = "contact_name"
    CONTACT_FIRST_NAME = "contact_first_name"
    CONTACT_LAST_NAME = "contact_last_name"
    CONTACT_TITLE = "contact_title"
    CONTACT_EMAIL = "contact_email"
    CONTACT_LINKEDIN = "contact_linkedin"
    FACT = "fact"
    """Kept as a fact named after the header, for the agents and the model to read."""
    SKIP = "skip"
    """Left out; only ever chosen by an explicit mapping."""


_FIELDS = frozenset(Target) - {Target.FACT, Target.SKIP}


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    index: int
    header: str
    target: Target
    reason: str

    def __str__(self) -> str:
        return f"{self.header or f'column {self.index + 1}'} → {self.target.value} ({self.reason})"


def normalise_header(header: str) -> str:
    """``"Company Name "`` → ``company_name``; ``"E-mail"`` → ``e_mail``."""
    return re.sub(r"[^a-z0-9]+", "_", header.strip().lower()).strip("_")


class _Aliases(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    aliases: dict[Target, list[str]]

    @model_validator(mode="after")
    def _one_field_per_spelling(self) -> _Aliases:
        seen: dict[str, Target] = {}
        for target, spellings in self.aliases.items():
            if target not in _FIELDS:
                raise ValueError(f"{target.value} is not a field a column can fill")
            for spelling in spellings:
                other = seen.setdefault(normalise_header(spelling), target)
                if other is not target:
                    raise ValueError(
                        f"{spelling!r} is listed under {other.value} and {target.value}"
                    )
        return self


@cache
def _alias_index() -> dict[str, Target]:
    text = files(__package__).joinpath("columns.toml").read_text(encoding="utf-8")
    table = _Aliases.model_validate(tomllib.loads(text))
    return {
        normalise_header(spelling): target
        for target, spellings in table.aliases.items()
        for spelling in spellings
    }


def parse_column_map(text: str) -> dict[str, Target]:
    """``"Company Name=name, HQ=location"`` → ``{"company_name": NAME, "hq": LOCATION}``.

    :raises LeadFileError: a pair without ``=`` or an unknown field.
    """
    mapping: dict[str, Target] = {}
    for pair in filter(None, (part.strip() for part in text.split(","))):
        header, sep, field = pair.partition("=")
        if not sep or not header.strip():
            raise LeadFileError(f"column map {pair!r} is not HEADER=FIELD")
        mapping[normalise_header(header)] = _target(field)
    return mapping


def _target(field: str) -> Target:
    try:
        return Target(field.strip().lower())
    except ValueError:
        known = ", ".join(t.value for t in Target)
        raise LeadFileError(f"{field.strip()!r} is not a field; choose one of {known}") from None


def explicit_targets(mapping: Mapping[str, str]) -> dict[str, Target]:
    """A campaign's ``[leads] columns`` table, validated like ``--map``."""
    return {normalise_header(header): _target(field) for header, field in mapping.items()}


def map_columns(
    headers: Sequence[str], explicit: Mapping[str, Target] | None = None
) -> list[ColumnMapping]:
    """One decision per header, in order.

    An explicit mapping (keys normalised by :func:`normalise_header`) wins; then
    the spellings table; a bare ``name`` next to another company-name column is
    the contact's; a field already filled by an earlier column keeps that one
    and the later column becomes a fact; an unknown header becomes a fact.
    """
    explicit = explicit or {}
    aliases = _alias_index()
    keys = [normalise_header(header) for header in headers]
    company_columns = [
        header
        for header, key in zip(headers, keys, strict=True)
        if key != "name" and explicit.get(key, aliases.get(key)) is Target.NAME
    ]
    decisions: list[ColumnMapping] = []
    taken: dict[Target, str] = {}
    for index, (header, key) in enumerate(zip(headers, keys, strict=True)):
        if key in explicit:
            target, reason = explicit[key], "as mapped"
        elif key == "name" and company_columns:
            target = Target.CONTACT_NAME
            reason = f"the contact's, next to company column {company_columns[0]!r}"
        elif key in aliases:
            target, reason = aliases[key], "known header"
        else:
            target, reason = Target.FACT, "not a known header: kept as a fact"
        if target in _FIELDS and target in taken:
            reason = f"kept as a fact: {target.value} comes from {taken[target]!r}"
            target = Target.FACT
        elif target in _FIELDS:
            taken[target] = header
        decisions.append(ColumnMapping(index, header, target, reason))
    return decisions


def unknown_explicit(headers: Sequence[str], explicit: Mapping[str, Target]) -> list[str]:
    """Keys of an explicit mapping that name no header of the file."""
    present = {normalise_header(header) for header in headers}
    return [key for key in explicit if key not in present]
