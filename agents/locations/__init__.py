"""Locations: location text → ISO country → the sales regions a campaign names.

Country and subdivision data come from pycountry (ISO 3166); which countries make
up ``EMEA``, ``DACH``, ``Nordics``, ``APAC``… is the data file ``regions.toml``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .regions import Region, RegionTable, region_table
from .resolve import Place, country_name, resolve_location

__all__ = [
    "Place",
    "Region",
    "RegionTable",
    "country_name",
    "matching_region",
    "region_table",
    "resolve_location",
]


def matching_region(location: str, regions: Sequence[str]) -> str | None:
    """The first of ``regions`` that ``location`` falls in.

    A region is a name from ``regions.toml`` (``"North America"``, ``"DACH"``), a
    country (``"Germany"``, ``"US"``) or a US state or Canadian province
    (``"Texas"``). A location that resolves to no country matches a region only
    when it names it (``"somewhere in the Nordics"``).
    """
    table = region_table()
    place = resolve_location(location)
    for region in regions:
        key = table.find(region)
        if key is not None:
            if place is not None and place.country_code in table.countries_of(key):
                return region
        elif place is not None:
            wanted = resolve_location(region)
            if (
                wanted is not None
                and wanted.country_code == place.country_code
                and wanted.subdivision in (None, place.subdivision)
            ):
                return region
        if place is None and _mentions(location, region):
            return region
    return None


def _mentions(text: str, phrase: str) -> bool:
    words = phrase.strip()
    if not words:
        return False
    return re.search(rf"(?<!\w){re.escape(words)}(?!\w)", text, re.IGNORECASE) is not None
