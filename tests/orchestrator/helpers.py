"""Small builders the orchestrator tests share."""

from __future__ import annotations

from pathlib import Path

from salesbus.agents.campaign import Campaign, Seller, load_campaign

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def a_campaign() -> Campaign:
    return Campaign(
        name="test",
        seller=Seller(
            company="Northwind Data",
            product="pipeline analytics",
            value_propositions=["forecasts your team can trust"],
            sender_name="Sam Lee",
            sender_title="Account Executive",
        ),
    )


def example_campaign() -> Campaign:
    return load_campaign(EXAMPLES / "campaign.toml")
