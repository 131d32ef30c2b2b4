"""Locations as lead files write them → ISO countries → the regions a campaign names."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from salesbus.agents.locations import (
    RegionTable,
    matching_region,
    region_table,
    resolve_location,
)


@pytest.mark.parametrize(
    ("text", "country", "subdivision"),
    [
        ("United States", "US", None),
        ("USA", "US", None),
        ("U.S.", "US", None),
        ("us", "US", None),
        ("Germany", "DE", None),
        ("DE", "DE", None),
        ("Deutschland", "DE", None),
        ("UK", "GB", None),
        ("England", "GB", None),
        ("South Korea", "KR", None),
        ("Korea, Republic of", "KR", None),
        ("Texas", "US", "US-TX"),
        ("Austin, Texas", "US", "US-TX"),
        ("Wilmington, DE", "US", "US-DE"),
        ("Charlotte NC", "US", "US-NC"),
        ("Charlotte, North Carolina, USA", "US", None),
        ("Atlanta, Georgia", "US", "US-GA"),
        ("Georgia", "GE", None),
        ("Toronto, Ontario", "CA", "CA-ON"),
        ("Vancouver, BC", "CA", "CA-BC"),
        ("Berlin, Germany", "DE", None),
        ("Tokyo (Japan)", "JP", None),
        ("Zürich, Schweiz", "CH", None),
        ("Sao Paulo Brazil", "BR", None),
        ("New York City, New York", "US", "US-NY"),
        ("Washington, D.C.", "US", "US-DC"),
    ],
)
def test_locations_resolve_to_an_iso_country(
    text: str, country: str, subdivision: str | None
) -> None:
    place = resolve_location(text)
    assert place is not None
    assert (place.country_code, place.subdivision) == (country, subdivision)


@pytest.mark.parametrize("text", ["Tokyo", "Narnia", "", "HQ", "Remote", "Sao Paulo do"])
def test_text_that_names_no_country_or_state_resolves_to_nothing(text: str) -> None:
    assert resolve_location(text) is None


@pytest.mark.parametrize(
    ("location", "regions", "expected"),
    [
        ("Austin, Texas", ["North America"], "North America"),
        ("Wilmington, DE", ["North America"], "North America"),
        ("Charlotte NC", ["north america"], "north america"),
        ("Toronto, Ontario", ["EMEA", "North America"], "North America"),
        ("Munich, Germany", ["DACH"], "DACH"),
        ("Berlin, Germany", ["EMEA"], "EMEA"),
        ("Dubai, UAE", ["EMEA"], "EMEA"),
        ("Lagos, Nigeria", ["EMEA"], "EMEA"),
        ("Oslo, Norway", ["Nordics"], "Nordics"),
        ("Singapore", ["APAC"], "APAC"),
        ("Bogotá, Colombia", ["LATAM"], "LATAM"),
        ("Dublin, Ireland", ["UK & Ireland"], "UK & Ireland"),
        ("Austin, Texas", ["Texas"], "Texas"),
        ("Dallas, TX", ["United States"], "United States"),
        ("Austin, Texas", ["California"], None),
        ("Paris, France", ["North America", "DACH"], None),
        ("Japan", ["EMEA"], None),
        ("Somewhere in the Nordics", ["Nordics"], "Nordics"),
        ("Remote", ["North America"], None),
    ],
)
def test_regions_are_judged_on_the_resolved_country(
    location: str, regions: list[str], expected: str | None
) -> None:
    assert matching_region(location, regions) == expected


def test_a_place_knows_its_regions() -> None:
    place = resolve_location("Vienna, Austria")
    assert place is not None
    assert {"EMEA", "Europe", "EU", "DACH"} <= set(place.regions)
    assert "North America" not in place.regions


def test_the_region_table_is_validated_at_load() -> None:
    table = region_table()
    assert table.countries_of("dach") == {"DE", "AT", "CH"}
    assert table.countries_of("emea") >= table.countries_of("europe")
    with pytest.raises(ValidationError, match="not an ISO 3166-1 alpha-2"):
        RegionTable.model_validate({"regions": {"x": {"names": ["X"], "countries": ["ZZ"]}}})
    with pytest.raises(ValidationError, match="includes unknown region"):
        RegionTable.model_validate({"regions": {"x": {"names": ["X"], "includes": ["y"]}}})
    with pytest.raises(ValidationError, match="names both"):
        RegionTable.model_validate(
            {"regions": {"x": {"names": ["Same"]}, "y": {"names": ["same"]}}}
        )
    with pytest.raises(ValidationError, match="include each other"):
        RegionTable.model_validate(
            {
                "regions": {
                    "x": {"names": ["X"], "includes": ["y"]},
                    "y": {"names": ["Y"], "includes": ["x"]},
                }
            }
        )
