"""The sales-region table: which countries each region a campaign can name covers.

The table is data (``regions.toml`` beside this module), validated at load: every
country code must be an ISO 3166-1 alpha-2 code that pycountry knows, every
``includes`` must name another region, and no spelling may name two regions.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib.resources import files

import pycountry
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["Region", "RegionTable", "normalise_name", "region_table"]


def normalise_name(text: str) -> str:
    """``" UK & Ireland "`` → ``"uk and ireland"``: how region and country spellings compare."""
    return " ".join(text.replace("&", " and ").lower().split())


def _iso_code(code: str) -> str:
    if pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    return code


class Region(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    names: list[str] = Field(min_length=1)
    countries: list[str] = Field(default_factory=list)
    includes: list[str] = Field(default_factory=list)

    @field_validator("countries")
    @classmethod
    def _known_codes(cls, codes: list[str]) -> list[str]:
        return [_iso_code(code) for code in codes]


class RegionTable(BaseModel):
    """``regions.toml`` as loaded; use :meth:`countries_of` and :meth:`find`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    aliases: dict[str, str] = Field(default_factory=dict)
    regions: dict[str, Region]

    @field_validator("aliases")
    @classmethod
    def _alias_codes(cls, aliases: dict[str, str]) -> dict[str, str]:
        return {normalise_name(name): _iso_code(code) for name, code in aliases.items()}

    @model_validator(mode="after")
    def _consistent(self) -> RegionTable:
        seen: dict[str, str] = {}
        for key, region in self.regions.items():
            for name in region.names:
                other = seen.setdefault(normalise_name(name), key)
                if other != key:
                    raise ValueError(f"region name {name!r} names both {other} and {key}")
            for included in region.includes:
                if included not in self.regions:
                    raise ValueError(f"region {key} includes unknown region {included!r}")
        for key in self.regions:
            self.countries_of(key)  # raises on an include cycle
        return self

    def find(self, name: str) -> str | None:
        """The key of the region spelled ``name`` (or its key itself), if any."""
        wanted = normalise_name(name)
        for key, region in self.regions.items():
            if wanted == key.replace("-", " ") or wanted in map(normalise_name, region.names):
                return key
        return None

    def countries_of(self, key: str, _path: tuple[str, ...] = ()) -> frozenset[str]:
        """Every country code region ``key`` covers, its includes' too."""
        if key in _path:
            raise ValueError(f"regions include each other: {' -> '.join((*_path, key))}")
        region = self.regions[key]
        codes = set(region.countries)
        for included in region.includes:
            codes |= self.countries_of(included, (*_path, key))
        return frozenset(codes)

    def regions_of(self, country_code: str) -> list[str]:
        """The first-listed name of every region that covers ``country_code``."""
        return [
            region.names[0]
            for key, region in self.regions.items()
            if country_code in self.countries_of(key)
        ]


@cache
def region_table() -> RegionTable:
    """The bundled table, read and validated once."""
    text = files(__package__).joinpath("regions.toml").read_text(encoding="utf-8")
    return RegionTable.model_validate(tomllib.loads(text))
