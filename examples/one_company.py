"""One company through the three agents on a bus, without the orchestrator.

Each agent is a typed handler; `AgentRuntime` subscribes them and forwards each
output, so research → analysis → personalization chain on their own, and the
status events arrive for every step. Offline rules by default; with
ANTHROPIC_API_KEY set, Claude (``make_provider("auto")``).

    python examples/one_company.py
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from salesbus.agents.analysis import AnalysisAgent
from salesbus.agents.campaign import load_campaign
from salesbus.agents.events import CompanySubmitted, OutreachDrafted
from salesbus.agents.models import Company, Contact
from salesbus.agents.personalization import PersonalizationAgent
from salesbus.agents.providers.factory import make_provider
from salesbus.agents.research import ResearchAgent
from salesbus.agents.runtime import AgentRuntime
from salesbus.agents.status import StepEvent
from salesbus.bus import EventBus

CAMPAIGN = Path(__file__).with_name("campaign.toml")


async def main() -> None:
    campaign = load_campaign(CAMPAIGN)
    provider = make_provider("auto")
    company = Company(
        name="Northwind Analytics",
        domain="northwind.example",
        industry="B2B SaaS",
        employees=320,
        country="United States",
        description="Subscription analytics for finance teams; forecasts built in spreadsheets.",
        contact=Contact(name="Dana Whitfield", title="VP Revenue Operations"),
    )
    drafts: list[OutreachDrafted] = []
    async with EventBus() as bus:
        runtime = AgentRuntime(bus)  # forwards each output to the next agent
        for agent in (
            ResearchAgent(provider, campaign),
            AnalysisAgent(provider, campaign),
            PersonalizationAgent(provider, campaign),
        ):
            runtime.add(agent)
        bus.subscribe(StepEvent, lambda e: print(f"  {type(e).__name__:<14} {e.step}"))
        bus.subscribe(OutreachDrafted, drafts.append)
        await bus.publish(CompanySubmitted(correlation_id="example-1", company=company))
    await provider.aclose()

    (drafted,) = drafts
    print(
        f"ICP score {drafted.analysis.icp_score} (tier {drafted.analysis.tier.value}),"
        f" quality {drafted.outreach.quality.decision.value}, by {drafted.outreach.generated_by}"
    )
    first = drafted.outreach.messages[0]
    print(f"\nSubject: {first.subject}\n\n{first.body}")


if __name__ == "__main__":
    asyncio.run(main())
