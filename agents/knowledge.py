"""What the offline rules engine knows about industries, buying signals and stacks.

This is data, kept apart from the code that uses it so it can be read, reviewed
and extended like a playbook: per industry, the pain points and opportunities a
seller usually finds there, what buyers in it care about and what they object
to; the phrases that signal hiring, funding, a migration and so on; the
technologies worth spotting on a website; how countries group into sales
regions; and which titles to address at which company size.

The few functions at the end only look things up in these tables. Templates may
use two fields, ``{company}`` (the prospect's name) and ``{product}`` (the
seller's product), filled by :func:`render`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from pydantic import BaseModel, ConfigDict

from .models import CompanySize, Contact, Priority, Severity

__all__ = [
    "BUYER_FUNCTIONS",
    "COUNTRY_ALIASES",
    "GENERIC_INDUSTRY",
    "INDUSTRIES",
    "NEWS_MARKERS",
    "REGION_COUNTRIES",
    "SENIORITY_PREFERENCE",
    "SIGNALS",
    "SIZE_INSIGHTS",
    "SIZE_OBJECTIONS",
    "SIZE_PAIN_POINTS",
    "TECHNOLOGIES",
    "TEMPLATE_FIELDS",
    "TIER_PLAYBOOK",
    "IndustryKnowledge",
    "ObjectionRule",
    "OpportunityRule",
    "PainPointRule",
    "SignalRule",
    "Technology",
    "buyer_functions",
    "choose_primary_contact",
    "country_name",
    "industry_for",
    "matching_region",
    "mentions",
    "mentions_any",
    "render",
    "seniority_of",
    "signals_in",
    "technologies_in",
    "technology_named",
]


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _list(names: str) -> tuple[str, ...]:
    """``"saas, b2b saas"`` → ``("saas", "b2b saas")``: long phrase lists stay readable."""
    return tuple(name.strip() for name in names.split(",") if name.strip())


class PainPointRule(_Entry):
    """A problem companies of one kind typically have.

    ``solution_keywords`` pick which of the seller's value propositions answers it.
    """

    category: str
    description: str
    severity: Severity
    solution_keywords: tuple[str, ...]


class OpportunityRule(_Entry):
    category: str
    description: str
    priority: Priority
    potential_value: str


class ObjectionRule(_Entry):
    objection: str
    response: str


class IndustryKnowledge(_Entry):
    """One industry: how to recognise it in free text, and what selling into it is like."""

    key: str
    label: str
    """How the industry is named in profiles (``"SaaS / software"``)."""
    short: str
    """How it reads inside a sentence (``"teams in {short}"``)."""
    aliases: tuple[str, ...]
    """Lower-case phrases that name the industry in a lead row or on a website."""
    pain_points: tuple[PainPointRule, ...]
    opportunities: tuple[OpportunityRule, ...]
    insights: tuple[str, ...]
    objections: tuple[ObjectionRule, ...]


class SignalRule(_Entry):
    """A buying signal: phrases that reveal it, and what it means for the seller.

    ``raises`` names pain-point categories that become one level more severe
    when the signal is present (hiring makes scaling pains worse, say).
    """

    key: str
    label: str
    keywords: tuple[str, ...]
    hook: str
    """An opening line that mentions the signal, for outreach."""
    pain_point: PainPointRule | None = None
    opportunity: OpportunityRule | None = None
    raises: tuple[str, ...] = ()


class Technology(_Entry):
    name: str
    category: str
    aliases: tuple[str, ...] = ()
    """Further spellings; the name itself always counts."""
    match_case: bool = False
    """For names that are also ordinary words in lower case (``SAP``)."""


TEMPLATE_FIELDS = ("company", "product")
"""The only fields a template in this module may use."""

# -- pain-point categories shared by industries and signals -----------------------

REVENUE_VISIBILITY = "revenue visibility"
FORECAST_ACCURACY = "forecast accuracy"
DATA_FRAGMENTATION = "data fragmentation"
MANUAL_REPORTING = "manual reporting"
SALES_PRODUCTIVITY = "sales productivity"
CUSTOMER_RETENTION = "customer retention"
COMPLIANCE = "compliance"
OPERATIONAL_EFFICIENCY = "operational efficiency"
COST_PRESSURE = "cost pressure"
INTEGRATION = "systems integration"
SCALING = "scaling"

_PIPELINE_WORDS = ("pipeline", "forecast", "crm", "revenue", "view", "unif")
_FORECAST_WORDS = ("forecast", "pipeline", "report", "predict", "accura")
_DATA_WORDS = ("unif", "single", "one ", "data", "sources", "connect", "view")
_REPORTING_WORDS = ("report", "automat", "manual", "spreadsheet", "hours", "minutes")
_RISK_WORDS = ("risk", "churn", "renewal", "early", "account", "flag")
_SALES_WORDS = ("rep", "sales", "deal", "automat", "time", "hours")
_COMPLIANCE_WORDS = ("audit", "lineage", "control", "compliance", "soc", "trust", "secure")
_EFFICIENCY_WORDS = ("automat", "hours", "time", "manual", "cost", "minutes")


def _pain(
    category: str, description: str, severity: Severity, keywords: tuple[str, ...]
) -> PainPointRule:
    return PainPointRule(
        category=category, description=description, severity=severity, solution_keywords=keywords
    )


def _opportunity(
    category: str, description: str, priority: Priority, value: str
) -> OpportunityRule:
    return OpportunityRule(
        category=category, description=description, priority=priority, potential_value=value
    )


def _objection(objection: str, response: str) -> ObjectionRule:
    return ObjectionRule(objection=objection, response=response)


_LOW, _MEDIUM, _HIGH = Severity.LOW, Severity.MEDIUM, Severity.HIGH

# -- industries ---------------------------------------------------------------------

INDUSTRIES: tuple[IndustryKnowledge, ...] = (
    IndustryKnowledge(
        key="saas",
        label="SaaS / software",
        short="SaaS",
        aliases=_list(
            "saas, b2b saas, software, computer software, enterprise software, cloud software, "
            "software development, internet software, martech, marketing software, "
            "marketing technology, hr tech, hr software, developer tools, devtools, data platform, "
            "analytics platform"
        ),
        pain_points=(
            _pain(
                REVENUE_VISIBILITY,
                "Pipeline, billing and product-usage numbers at {company} probably live in "
                "different tools, so every forecast call starts with manual reconciliation.",
                _MEDIUM,
                _PIPELINE_WORDS,
            ),
            _pain(
                CUSTOMER_RETENTION,
                "Churn signals such as falling usage or late renewals tend to surface only "
                "when the renewal is already at risk.",
                _MEDIUM,
                _RISK_WORDS,
            ),
            _pain(
                SALES_PRODUCTIVITY,
                "As the sales team grows, reps spend hours each week updating the CRM "
                "instead of selling.",
                _LOW,
                _SALES_WORDS,
            ),
        ),
        opportunities=(
            _opportunity(
                "expansion revenue",
                "Usage data tied to accounts can point sales and success teams at "
                "expansion-ready customers.",
                Priority.MEDIUM,
                "Higher net revenue retention from earlier, better-targeted expansion plays.",
            ),
            _opportunity(
                "board reporting",
                "Recurring-revenue metrics reported from one model make board and investor "
                "updates faster and easier to defend.",
                Priority.LOW,
                "Days saved each quarter on board and investor reporting.",
            ),
        ),
        insights=(
            "SaaS buyers judge tools on time-to-value; a pilot on one team's pipeline "
            "usually lands better than a platform pitch.",
            "Net revenue retention has overtaken new-logo growth as the metric SaaS boards "
            "watch most closely.",
        ),
        objections=(
            _objection(
                "We already have dashboards in our CRM.",
                "Most teams do; the gap is usually the data the CRM does not hold, such as "
                "billing and product usage. {product} joins those sources instead of "
                "replacing the CRM.",
            ),
            _objection(
                "Our RevOps team can build this in-house.",
                "Many teams start that way; the cost shows up in upkeep. Comparing the "
                "maintenance hours with a managed model is a fair test.",
            ),
        ),
    ),
    IndustryKnowledge(
        key="fintech",
        label="Fintech / financial services",
        short="fintech",
        aliases=_list(
            "fintech, financial technology, financial services, payments, banking, neobank, "
            "lending, insurtech, insurance, wealthtech, wealth management, capital markets"
        ),
        pain_points=(
            _pain(
                COMPLIANCE,
                "Auditors expect {company} to show where every reported revenue number came "
                "from, which is hard when figures pass through spreadsheets.",
                _MEDIUM,
                _COMPLIANCE_WORDS,
            ),
            _pain(
                DATA_FRAGMENTATION,
                "Customer, transaction and CRM data sit in separate systems, so a full view "
                "of each account takes manual joins.",
                _MEDIUM,
                _DATA_WORDS,
            ),
            _pain(
                FORECAST_ACCURACY,
                "Volume-based revenue swings with transaction activity, which makes "
                "pipeline-based forecasts miss.",
                _LOW,
                _FORECAST_WORDS,
            ),
        ),
        opportunities=(
            _opportunity(
                "partner channel",
                "Bank and platform partnerships create pipeline that is easy to lose track "
                "of without shared reporting.",
                Priority.MEDIUM,
                "Clear attribution of partner-sourced revenue.",
            ),
            _opportunity(
                "cross-sell",
                "Customers already using one product are the cheapest source of growth for "
                "the next one.",
                Priority.MEDIUM,
                "Higher revenue per customer from data-driven cross-sell.",
            ),
        ),
        insights=(
            "Fintech buyers run vendor risk assessments early; security documentation "
            "ready on day one shortens the cycle.",
            "In financial services, compliance and finance leaders often co-own decisions "
            "about revenue data.",
        ),
        objections=(
            _objection(
                "Any new vendor touching our data needs a full security review.",
                "That is expected. An evaluation can start on aggregated data that "
                "identifies no customer while the review runs.",
            ),
            _objection(
                "We're regulated; our data can't leave our environment.",
                "Deployment options that keep data in your own warehouse are worth a look; "
                "nothing has to leave it.",
            ),
        ),
    ),
    IndustryKnowledge(
        key="healthcare",
        label="Healthcare / life sciences",
        short="healthcare",
        aliases=_list(
            "healthcare, health care, healthtech, health tech, digital health, "
            "hospital and health care, medical devices, medical device, life sciences, biotech, "
            "biotechnology, pharma, pharmaceuticals, telehealth"
        ),
        pain_points=(
            _pain(
                COMPLIANCE,
                "Patient and payer data at {company} falls under strict privacy rules, so "
                "every new data flow needs controls and an audit trail.",
                _MEDIUM,
                _COMPLIANCE_WORDS,
            ),
            _pain(
                OPERATIONAL_EFFICIENCY,
                "Clinical and commercial teams report from different systems, so leaders "
                "wait weeks for a reliable view of performance.",
                _MEDIUM,
                _EFFICIENCY_WORDS,
            ),
            _pain(
                FORECAST_ACCURACY,
                "Long, multi-stakeholder sales cycles into hospitals and payers make "
                "pipeline hard to forecast.",
                _LOW,
                _FORECAST_WORDS,
            ),
        ),
        opportunities=(
            _opportunity(
                "vendor consolidation",
                "Providers are consolidating vendors, and a clear ROI story wins those reviews.",
                Priority.MEDIUM,
                "Stronger win rates in vendor consolidation reviews.",
            ),
            _opportunity(
                "value-based care",
                "Value-based contracts reward teams that can measure outcomes and tie them "
                "to revenue.",
                Priority.LOW,
                "Revenue tied to measured outcomes.",
            ),
        ),
        insights=(
            "Healthcare sales cycles often run 6 to 18 months and involve clinical, IT and "
            "procurement stakeholders.",
            "Privacy and security reviews come first in healthcare; lead with how data is "
            "protected.",
        ),
        objections=(
            _objection(
                "We can't share patient data with a new vendor.",
                "Commercial reporting needs no patient data; {product} can work with "
                "commercial data only.",
            ),
            _objection(
                "Our IT backlog is full for the year.",
                "A setup that needs little engineering time from IT is built for exactly "
                "that constraint.",
            ),
        ),
    ),
    IndustryKnowledge(
        key="logistics",
        label="Logistics / supply chain",
        short="logistics",
        aliases=_list(
            "logistics, supply chain, freight, freight forwarding, transportation, shipping, "
            "trucking, 3pl, warehousing, last-mile delivery, fleet management"
        ),
        pain_points=(
            _pain(
                OPERATIONAL_EFFICIENCY,
                "Quotes, shipments and invoices at {company} likely live in separate "
                "systems, so margin per customer and lane is hard to see.",
                _MEDIUM,
                _EFFICIENCY_WORDS,
            ),
            _pain(
                FORECAST_ACCURACY,
                "Volumes swing with seasons and freight rates, so revenue forecasts built on "
                "last year's numbers miss.",
                _MEDIUM,
                _FORECAST_WORDS,
            ),
            _pain(
                MANUAL_REPORTING,
                "Customer-level reporting is often assembled by hand from the TMS and ERP "
                "every month.",
                _LOW,
                _REPORTING_WORDS,
            ),
        ),
        opportunities=(
            _opportunity(
                "account retention",
                "Spotting shippers whose volumes are sliding lets account teams act before "
                "the contract renewal.",
                Priority.MEDIUM,
                "Fewer lost accounts at renewal time.",
            ),
            _opportunity(
                "pricing",
                "Better lane-level data turns pricing from guesswork into a repeatable process.",
                Priority.LOW,
                "Margin gained on every quote.",
            ),
        ),
        insights=(
            "Logistics margins are thin; buyers respond to savings expressed per shipment or "
            "per lane.",
            "Operations leaders in logistics distrust dashboards that do not reconcile with "
            "the TMS.",
        ),
        objections=(
            _objection(
                "Our TMS already has reporting.",
                "It does for operations; the gap is usually joining it with CRM and billing "
                "to see revenue and margin per customer.",
            ),
            _objection(
                "Peak season is no time for a new project.",
                "Agreed; a short evaluation after peak, scoped to one region, keeps the risk low.",
            ),
        ),
    ),
    IndustryKnowledge(
        key="manufacturing",
        label="Manufacturing / industrial",
        short="manufacturing",
        aliases=_list(
            "manufacturing, industrial manufacturing, industrial, industrial automation, "
            "machinery, industrial machinery, automotive, aerospace, electronics manufacturing, "
            "chemicals, plastics, packaging"
        ),
        pain_points=(
            _pain(
                DATA_FRAGMENTATION,
                "Orders, quotes and distributor data at {company} tend to be split across "
                "ERP, CRM and spreadsheets.",
                _MEDIUM,
                _DATA_WORDS,
            ),
            _pain(
                FORECAST_ACCURACY,
                "Long quote-to-order cycles make revenue forecasts hard to align with "
                "production planning.",
                _MEDIUM,
                _FORECAST_WORDS,
            ),
            _pain(
                INTEGRATION,
                "Older ERP systems make it slow to get clean data into modern analytics tools.",
                _LOW,
                _DATA_WORDS,
            ),
        ),
        opportunities=(
            _opportunity(
                "aftermarket revenue",
                "Service, spare parts and aftermarket sales are often the highest-margin "
                "revenue and the least tracked.",
                Priority.MEDIUM,
                "Higher-margin revenue from a better-tracked aftermarket.",
            ),
            _opportunity(
                "channel visibility",
                "Distributor and dealer sell-through data shows which channels are growing.",
                Priority.LOW,
                "Sales effort directed at the channels that grow.",
            ),
        ),
        insights=(
            "Manufacturers buy on proven ROI; reference customers in the same segment "
            "matter more than features.",
            "The ERP is the system of record in manufacturing; anything new must reconcile "
            "with it.",
        ),
        objections=(
            _objection(
                "Everything we run goes through our ERP.",
                "{product} can read from the ERP and keep it the system of record, adding "
                "the pipeline view it lacks.",
            ),
            _objection(
                "Our sales cycles are too long for pipeline analytics to matter.",
                "Long cycles are where early warnings help most: a stalled quote shows up "
                "months before the forecast misses.",
            ),
        ),
    ),
    IndustryKnowledge(
        key="ecommerce",
        label="E-commerce / direct-to-consumer",
        short="e-commerce",
        aliases=_list(
            "e-commerce, ecommerce, online retail, online store, d2c, dtc, direct-to-consumer, "
            "direct to consumer, marketplace, online marketplace, headless commerce"
        ),
        pain_points=(
            _pain(
                CUSTOMER_RETENTION,
                "Repeat-purchase rates at {company} are hard to act on when order, "
                "marketing and support data sit in separate tools.",
                _MEDIUM,
                _RISK_WORDS,
            ),
            _pain(
                MANUAL_REPORTING,
                "Channel and campaign performance is usually stitched together in "
                "spreadsheets after the fact.",
                _MEDIUM,
                _REPORTING_WORDS,
            ),
            _pain(
                COST_PRESSURE,
                "Rising acquisition costs squeeze margins unless spend follows the customers "
                "who actually come back.",
                _LOW,
                _EFFICIENCY_WORDS,
            ),
        ),
        opportunities=(
            _opportunity(
                "wholesale and B2B",
                "Wholesale and B2B accounts add steadier revenue alongside direct sales.",
                Priority.MEDIUM,
                "A second, steadier revenue line.",
            ),
            _opportunity(
                "customer lifetime value",
                "Knowing lifetime value by channel lets marketing budgets follow the best "
                "customers.",
                Priority.LOW,
                "Marketing spend aimed at the customers worth most.",
            ),
        ),
        insights=(
            "E-commerce teams usually own their stack end to end and favour tools that plug "
            "into their storefront.",
            "Online brands plan around peak season; outreach lands best before the Q4 freeze.",
        ),
        objections=(
            _objection(
                "Our storefront already has analytics.",
                "Storefront analytics covers the shop; the gap is usually wholesale, "
                "marketplace and support data.",
            ),
            _objection(
                "We're too small to need a data platform.",
                "That is fair at some sizes; the test is whether someone spends hours a week "
                "on spreadsheet reporting.",
            ),
        ),
    ),
    IndustryKnowledge(
        key="retail",
        label="Retail / consumer goods",
        short="retail",
        aliases=_list(
            "retail, retailer, stores, consumer goods, cpg, fmcg, apparel, fashion, grocery, "
            "food and beverage, consumer products"
        ),
        pain_points=(
            _pain(
                DATA_FRAGMENTATION,
                "Store, online and wholesale sales at {company} are usually reported from "
                "different systems, so no one sees the whole customer.",
                _MEDIUM,
                _DATA_WORDS,
            ),
            _pain(
                FORECAST_ACCURACY,
                "Seasonal demand makes sales forecasts hard to get right, and stock follows "
                "the forecast.",
                _MEDIUM,
                _FORECAST_WORDS,
            ),
            _pain(
                COST_PRESSURE,
                "Thin margins leave little room for tools that do not pay for themselves quickly.",
                _LOW,
                _EFFICIENCY_WORDS,
            ),
        ),
        opportunities=(
            _opportunity(
                "wholesale accounts",
                "Wholesale and trade accounts are a steadier revenue line than walk-in "
                "trade when they are managed as a pipeline.",
                Priority.MEDIUM,
                "Steadier revenue from trade accounts.",
            ),
            _opportunity(
                "omnichannel",
                "Joining store and online data shows which customers buy in both, usually "
                "the most valuable ones.",
                Priority.LOW,
                "Marketing aimed at the most valuable customers.",
            ),
        ),
        insights=(
            "Retail teams plan around peak season; outreach lands best before the Q4 freeze.",
            "Store-based retailers judge tools on margin impact, measured per store or per "
            "category.",
        ),
        objections=(
            _objection(
                "We're too small to need a data platform.",
                "That is fair at some sizes; the test is whether someone spends hours a week "
                "on spreadsheet reporting.",
            ),
            _objection(
                "Our point-of-sale system already reports sales.",
                "It reports the tills; the gap is usually wholesale, online and customer "
                "data alongside them.",
            ),
        ),
    ),
    IndustryKnowledge(
        key="agency",
        label="Marketing and advertising agencies",
        short="agency",
        aliases=_list(
            "marketing agency, digital agency, creative agency, media agency, advertising agency, "
            "advertising, marketing and advertising, marketing services, pr agency, "
            "public relations, agency"
        ),
        pain_points=(
            _pain(
                MANUAL_REPORTING,
                "Client reporting at {company} probably takes hours of manual work each "
                "month, time that nobody can bill.",
                _MEDIUM,
                _REPORTING_WORDS,
            ),
            _pain(
                FORECAST_ACCURACY,
                "Project-based revenue makes next quarter hard to forecast beyond signed "
                "retainers.",
                _MEDIUM,
                _FORECAST_WORDS,
            ),
            _pain(
                OPERATIONAL_EFFICIENCY,
                "Utilisation and margin per client are often known only after the month closes.",
                _LOW,
                _EFFICIENCY_WORDS,
            ),
        ),
        opportunities=(
            _opportunity(
                "retainer growth",
                "Turning one-off projects into retainers is the most reliable way for an "
                "agency to smooth revenue.",
                Priority.MEDIUM,
                "Steadier monthly revenue.",
            ),
            _opportunity(
                "reporting as a service",
                "Better data can become a client-facing reporting product.",
                Priority.LOW,
                "A new, billable service line.",
            ),
        ),
        insights=(
            "Agency leaders buy tools that save billable hours or win pitches; frame the "
            "value that way.",
            "Agencies often adopt what their largest clients already use.",
        ),
        objections=(
            _objection(
                "Our clients each use different tools.",
                "That is the normal case; {product} can join several sources per client so "
                "the reporting stays consistent.",
            ),
            _objection(
                "Margins are too tight for another subscription.",
                "The fair comparison is with the non-billable hours spent on reporting each month.",
            ),
        ),
    ),
    IndustryKnowledge(
        key="cybersecurity",
        label="Cybersecurity",
        short="security",
        aliases=_list(
            "cybersecurity, cyber security, security software, information security, "
            "computer and network security, network security, infosec, identity security, "
            "application security"
        ),
        pain_points=(
            _pain(
                FORECAST_ACCURACY,
                "Enterprise deals at {company} involve long proofs of concept, which makes "
                "pipeline stages unreliable for forecasting.",
                _MEDIUM,
                _FORECAST_WORDS,
            ),
            _pain(
                SALES_PRODUCTIVITY,
                "Sales engineers spend much of their time on proofs of concept that are hard "
                "to prioritise by deal value.",
                _MEDIUM,
                _SALES_WORDS,
            ),
            _pain(
                COMPLIANCE,
                "Customers expect a security vendor's own data handling to meet the "
                "standards it sells, so internal tools face strict review.",
                _LOW,
                _COMPLIANCE_WORDS,
            ),
        ),
        opportunities=(
            _opportunity(
                "platform consolidation",
                "Buyers are consolidating security vendors, which rewards vendors with clear "
                "cross-sell data.",
                Priority.MEDIUM,
                "More products per customer as buyers consolidate.",
            ),
            _opportunity(
                "partner-led growth",
                "MSSP and reseller channels create pipeline that needs shared, trusted reporting.",
                Priority.MEDIUM,
                "Clear attribution of channel-sourced revenue.",
            ),
        ),
        insights=(
            "Security buyers are sceptical of marketing claims; technical proof and peer "
            "references carry the conversation.",
            "Security vendors face long enterprise cycles, so pipeline hygiene drives "
            "forecast accuracy.",
        ),
        objections=(
            _objection(
                "We can't expose customer data to another vendor.",
                "Pipeline and revenue reporting uses CRM and billing data only, and access "
                "controls keep it scoped.",
            ),
            _objection(
                "We built our own reporting on the warehouse.",
                "Then {product} can sit on the same warehouse and add the revenue model "
                "instead of replacing it.",
            ),
        ),
    ),
    IndustryKnowledge(
        key="edtech",
        label="Education / edtech",
        short="education",
        aliases=_list(
            "edtech, education technology, e-learning, elearning, online learning, education, "
            "higher education, education management"
        ),
        pain_points=(
            _pain(
                FORECAST_ACCURACY,
                "Buying at schools and universities follows academic calendars, so pipeline "
                "bunches up and forecasts swing.",
                _MEDIUM,
                _FORECAST_WORDS,
            ),
            _pain(
                CUSTOMER_RETENTION,
                "Renewals depend on classroom usage that sales and success teams rarely see "
                "in one place.",
                _MEDIUM,
                _RISK_WORDS,
            ),
            _pain(
                DATA_FRAGMENTATION,
                "Institution, department and individual accounts at {company} are hard to "
                "roll up into one customer view.",
                _LOW,
                _DATA_WORDS,
            ),
        ),
        opportunities=(
            _opportunity(
                "institution-wide expansion",
                "Usage at one school or department is the best lead for the rest of the "
                "institution.",
                Priority.MEDIUM,
                "Larger contracts grown from existing usage.",
            ),
            _opportunity(
                "budget cycles",
                "Public budget windows create predictable buying moments for teams that "
                "track them.",
                Priority.LOW,
                "Outreach timed to when budgets are set.",
            ),
        ),
        insights=(
            "Education sales follow budget cycles; spring is often when next year's "
            "decisions are made.",
            "Usage data is the strongest renewal argument in education.",
        ),
        objections=(
            _objection(
                "Our buyers are schools with tiny budgets.",
                "That is why renewals and expansions matter; seeing which accounts grow "
                "before budgets are set protects revenue.",
            ),
            _objection(
                "We're focused on product, not sales tooling, this year.",
                "Understood; a light setup that tracks renewals protects the revenue that "
                "funds the product work.",
            ),
        ),
    ),
    IndustryKnowledge(
        key="proptech",
        label="Real estate / proptech",
        short="real estate",
        aliases=_list(
            "real estate, proptech, property technology, property management, "
            "commercial real estate, construction, facilities management"
        ),
        pain_points=(
            _pain(
                DATA_FRAGMENTATION,
                "Property, tenant and deal data at {company} usually sit in different "
                "systems, so portfolio reporting is manual.",
                _MEDIUM,
                _DATA_WORDS,
            ),
            _pain(
                FORECAST_ACCURACY,
                "Deal timelines depend on financing and approvals, which makes revenue "
                "timing hard to forecast.",
                _MEDIUM,
                _FORECAST_WORDS,
            ),
            _pain(
                MANUAL_REPORTING,
                "Investor and owner reports are often rebuilt by hand every quarter.",
                _LOW,
                _REPORTING_WORDS,
            ),
        ),
        opportunities=(
            _opportunity(
                "portfolio growth",
                "New properties or markets add reporting work that is cheaper to automate early.",
                Priority.MEDIUM,
                "Growth without a matching growth in reporting work.",
            ),
            _opportunity(
                "recurring services",
                "Recurring property-services revenue is steadier than transaction fees.",
                Priority.LOW,
                "A steadier revenue mix.",
            ),
        ),
        insights=(
            "Real estate decisions are relationship-driven; warm introductions outperform "
            "cold outreach.",
            "Interest-rate cycles drive activity in property markets, so timing matters.",
        ),
        objections=(
            _objection(
                "Our business is transactional, not subscription.",
                "Pipeline visibility matters even more when each deal is large and lumpy.",
            ),
            _objection(
                "Our accountants already do our reporting.",
                "Accountants report on the past; pipeline reporting is about the next two "
                "quarters.",
            ),
        ),
    ),
    IndustryKnowledge(
        key="energy",
        label="Energy / utilities",
        short="energy",
        aliases=_list(
            "energy, renewables, renewable energy, solar, wind energy, utilities, oil and gas, "
            "cleantech, climate tech, energy storage, ev charging"
        ),
        pain_points=(
            _pain(
                FORECAST_ACCURACY,
                "Project-based revenue with long permitting timelines makes forecasting at "
                "{company} uncertain.",
                _MEDIUM,
                _FORECAST_WORDS,
            ),
            _pain(
                COMPLIANCE,
                "Regulatory reporting adds overhead to every commercial data flow.",
                _MEDIUM,
                _COMPLIANCE_WORDS,
            ),
            _pain(
                OPERATIONAL_EFFICIENCY,
                "Commercial, project and field data rarely share one view of each customer "
                "or site.",
                _LOW,
                _EFFICIENCY_WORDS,
            ),
        ),
        opportunities=(
            _opportunity(
                "energy transition",
                "Demand for renewables and efficiency projects is growing faster than most "
                "sales teams can track.",
                Priority.MEDIUM,
                "A larger share of a fast-growing market.",
            ),
            _opportunity(
                "incentive programmes",
                "Public incentives and tax credits create buying windows that reward fast "
                "follow-up.",
                Priority.MEDIUM,
                "Deals won inside incentive windows.",
            ),
        ),
        insights=(
            "Energy buyers weigh long-term reliability and track record over new features.",
            "Policy and incentives shape demand in energy; outreach tied to them lands better.",
        ),
        objections=(
            _objection(
                "Our projects are too bespoke to standardise reporting.",
                "The reporting layer can follow each project's own stages and still give "
                "one pipeline view.",
            ),
            _objection(
                "Procurement here takes a year.",
                "A small, scoped pilot can often run under a lighter procurement path.",
            ),
        ),
    ),
    IndustryKnowledge(
        key="professional-services",
        label="Professional services / consulting",
        short="professional services",
        aliases=_list(
            "professional services, consulting, management consulting, it services, "
            "information technology and services, accounting, legal services, law firm, staffing, "
            "staffing and recruiting"
        ),
        pain_points=(
            _pain(
                OPERATIONAL_EFFICIENCY,
                "Revenue at {company} depends on utilisation, which is often visible only "
                "after timesheets close.",
                _MEDIUM,
                _EFFICIENCY_WORDS,
            ),
            _pain(
                FORECAST_ACCURACY,
                "Proposals and partner-sourced pipeline are tracked loosely, so hiring plans "
                "run ahead of or behind demand.",
                _MEDIUM,
                _FORECAST_WORDS,
            ),
            _pain(
                MANUAL_REPORTING,
                "Partner and practice reporting is assembled by hand from CRM, finance and "
                "time-tracking tools.",
                _LOW,
                _REPORTING_WORDS,
            ),
        ),
        opportunities=(
            _opportunity(
                "practice growth",
                "Data on which services win and renew shows where to grow the practice.",
                Priority.MEDIUM,
                "Investment aimed at the practices that grow.",
            ),
            _opportunity(
                "client expansion",
                "Existing clients are the main source of new work when account plans are "
                "data-driven.",
                Priority.MEDIUM,
                "More work from existing clients.",
            ),
        ),
        insights=(
            "Professional services firms buy on partner consensus; expect several decision makers.",
            "Utilisation and realisation rates are the metrics partners care about most.",
        ),
        objections=(
            _objection(
                "Our partners run their own client relationships.",
                "{product} keeps that ownership and gives each partner a clearer view of "
                "their own pipeline.",
            ),
            _objection(
                "We're not a software company; this feels like overkill.",
                "The fit test is simple: is forecast preparation done in spreadsheets today?",
            ),
        ),
    ),
)

GENERIC_INDUSTRY = IndustryKnowledge(
    key="general",
    label="General B2B",
    short="B2B",
    aliases=(),
    pain_points=(
        _pain(
            DATA_FRAGMENTATION,
            "Customer and revenue data at {company} likely sit in several tools, which "
            "makes reporting slow.",
            _MEDIUM,
            _DATA_WORDS,
        ),
        _pain(
            FORECAST_ACCURACY,
            "Forecasts built in spreadsheets tend to drift from what actually closes.",
            _LOW,
            _FORECAST_WORDS,
        ),
    ),
    opportunities=(
        _opportunity(
            "focus",
            "Clearer pipeline data helps the team focus on the accounts most likely to buy.",
            Priority.LOW,
            "More time spent on the right accounts.",
        ),
    ),
    insights=("Most B2B teams still report revenue from several disconnected tools.",),
    objections=(
        _objection(
            "Now isn't a good time.",
            "Understood. A short conversation today can make the timing decision easier later.",
        ),
    ),
)
"""What applies when a company's industry is unknown or not in the table."""

# -- company size ---------------------------------------------------------------------

SIZE_PAIN_POINTS: dict[CompanySize, PainPointRule] = {
    CompanySize.STARTUP: _pain(
        SCALING,
        "At {company}'s size, selling is often still founder-led, and the process lives in "
        "people's heads rather than in shared data.",
        _MEDIUM,
        ("automat", "time", "pipeline", "view"),
    ),
    CompanySize.MID_MARKET: _pain(
        OPERATIONAL_EFFICIENCY,
        "Mid-sized teams like {company}'s tend to accumulate tools faster than anyone can "
        "connect them.",
        _MEDIUM,
        _DATA_WORDS,
    ),
    CompanySize.ENTERPRISE: _pain(
        DATA_FRAGMENTATION,
        "At {company}'s scale, each business unit tends to keep its own numbers, so "
        "group-level reporting takes reconciliation.",
        _MEDIUM,
        _DATA_WORDS,
    ),
}

SIZE_INSIGHTS: dict[CompanySize, str] = {
    CompanySize.STARTUP: "Under 200 people, buying decisions usually sit with founders and "
    "move fast once the pain is clear.",
    CompanySize.MID_MARKET: "Mid-market companies usually have an operations owner and a "
    "budget cycle; a champion plus an executive sponsor closes deals.",
    CompanySize.ENTERPRISE: "Enterprises buy through committees: expect security review, "
    "procurement and a pilot scoped to one business unit.",
}

SIZE_OBJECTIONS: dict[CompanySize, ObjectionRule] = {
    CompanySize.STARTUP: _objection(
        "We're too early for this kind of tool.",
        "Setting up clean revenue data early is cheaper than untangling it after the next "
        "round of hiring.",
    ),
    CompanySize.MID_MARKET: _objection(
        "We don't have the people to run another rollout.",
        "A rollout scoped to one team, with the vendor doing the setup, keeps the internal "
        "load small.",
    ),
    CompanySize.ENTERPRISE: _objection(
        "Every new vendor goes through a long security and procurement review.",
        "That is expected; a pilot in one business unit can run while the review proceeds.",
    ),
}

TIER_PLAYBOOK: dict[str, str] = {
    "A": "worth a personalised multi-channel sequence and a call",
    "B": "worth a personalised email sequence with a LinkedIn touch",
    "C": "worth a light-touch email sequence",
    "D": "nurture only, no active sequence",
}

# -- buying signals -------------------------------------------------------------------

SIGNALS: tuple[SignalRule, ...] = (
    SignalRule(
        key="funding",
        label="funding",
        keywords=_list(
            "raised, series a, series b, series c, series d, seed round, funding round, "
            "investment led by, backed by, venture capital"
        ),
        hook="I saw that {company} recently raised funding.",
        opportunity=_opportunity(
            "fresh funding",
            "New funding usually comes with growth targets and closer board scrutiny of "
            "revenue numbers.",
            Priority.URGENT,
            "Investor-grade revenue reporting from the start of the new plan.",
        ),
        raises=(SCALING, REVENUE_VISIBILITY, FORECAST_ACCURACY),
    ),
    SignalRule(
        key="sales-team-growth",
        label="sales team growth",
        keywords=_list(
            "sdr, sdrs, bdr, bdrs, account executive, account executives, sales development, "
            "outbound, sales team, sales hires, revenue team, go-to-market team, quota"
        ),
        hook="I noticed {company} is building out its sales team.",
        pain_point=_pain(
            SALES_PRODUCTIVITY,
            "A growing sales team at {company} means more pipeline to inspect and more reps "
            "to ramp, and CRM hygiene is usually the first thing to slip.",
            _HIGH,
            _SALES_WORDS,
        ),
        raises=(SALES_PRODUCTIVITY, FORECAST_ACCURACY),
    ),
    SignalRule(
        key="hiring",
        label="hiring",
        keywords=_list(
            "hiring, we're hiring, we are hiring, join our team, open roles, open positions, "
            "recruiting, growing the team, headcount"
        ),
        hook="I noticed {company} is growing the team.",
        opportunity=_opportunity(
            "team growth",
            "{company} is growing its team, and new hires ramp faster when the data and "
            "processes they inherit are clean.",
            Priority.HIGH,
            "Faster ramp for every new hire.",
        ),
        raises=(SCALING, SALES_PRODUCTIVITY),
    ),
    SignalRule(
        key="expansion",
        label="expansion",
        keywords=_list(
            "expanding, expansion, expands, new office, new offices, new market, new markets, "
            "international, launching in, entering"
        ),
        hook="I saw that {company} is expanding.",
        opportunity=_opportunity(
            "expansion",
            "Expansion into new markets or offices multiplies the pipelines, currencies and "
            "teams to report on.",
            Priority.HIGH,
            "One consistent view across every region.",
        ),
        raises=(DATA_FRAGMENTATION, SCALING),
    ),
    SignalRule(
        key="compliance",
        label="compliance",
        keywords=_list(
            "compliance, compliant, soc 2, soc2, gdpr, hipaa, pci dss, iso 27001, regulatory, "
            "regulated, audit, audits, sox"
        ),
        hook="I noticed how seriously {company} takes compliance.",
        pain_point=_pain(
            COMPLIANCE,
            "Compliance commitments at {company} mean every reported figure needs lineage "
            "and access controls.",
            _HIGH,
            _COMPLIANCE_WORDS,
        ),
        raises=(COMPLIANCE,),
    ),
    SignalRule(
        key="legacy-systems",
        label="legacy systems",
        keywords=_list(
            "legacy, spreadsheet, spreadsheets, microsoft excel, manual process, manual processes, "
            "manually, on-premise, on-premises, mainframe, outdated, paper-based"
        ),
        hook="It sounds like some of {company}'s reporting still runs on spreadsheets or "
        "older systems.",
        pain_point=_pain(
            MANUAL_REPORTING,
            "Reporting that runs on spreadsheets or legacy systems at {company} costs "
            "analyst hours every week and breaks as the business grows.",
            _HIGH,
            _REPORTING_WORDS,
        ),
        raises=(MANUAL_REPORTING, DATA_FRAGMENTATION, INTEGRATION),
    ),
    SignalRule(
        key="migration",
        label="migration",
        keywords=_list(
            "migrating, migration, migrate, moving to the cloud, cloud migration, modernization, "
            "modernisation, modernizing, modernising, replatforming, digital transformation"
        ),
        hook="I saw that {company} is in the middle of a modernisation project.",
        opportunity=_opportunity(
            "modernisation",
            "A migration or modernisation project is the natural moment to fix how revenue "
            "data flows.",
            Priority.HIGH,
            "Reporting built right once, during the change.",
        ),
        raises=(INTEGRATION,),
    ),
    SignalRule(
        key="acquisition",
        label="acquisition",
        keywords=("acquired", "acquires", "acquisition", "merger", "merged", "merging"),
        hook="I saw the news about {company}'s acquisition.",
        pain_point=_pain(
            INTEGRATION,
            "After an acquisition, {company} has two sets of systems and two definitions of "
            "revenue to reconcile.",
            _HIGH,
            _DATA_WORDS,
        ),
        raises=(INTEGRATION, DATA_FRAGMENTATION),
    ),
    SignalRule(
        key="leadership-change",
        label="new leadership",
        keywords=_list(
            "appointed, appoints, new ceo, new cro, new cfo, joins as, named chief, welcomes, "
            "promoted to"
        ),
        hook="I saw the news about new leadership at {company}.",
        opportunity=_opportunity(
            "new leadership",
            "New leaders typically review tooling and reporting in their first months and "
            "look for early wins.",
            Priority.HIGH,
            "A visible early win for a new leader.",
        ),
    ),
    SignalRule(
        key="cost-pressure",
        label="cost pressure",
        keywords=_list(
            "cost-cutting, cost cutting, cost reduction program, layoffs, restructuring, "
            "do more with less, margin pressure"
        ),
        hook="I understand {company} is focused on efficiency right now.",
        pain_point=_pain(
            COST_PRESSURE,
            "Pressure on costs at {company} means every team is asked to do more with the "
            "same headcount.",
            _HIGH,
            _EFFICIENCY_WORDS,
        ),
        raises=(OPERATIONAL_EFFICIENCY, COST_PRESSURE),
    ),
    SignalRule(
        key="product-launch",
        label="product launch",
        keywords=_list(
            "launched, launches, introducing, introduces, unveiled, unveils, now available, "
            "new product"
        ),
        hook="I saw that {company} launched something new recently.",
        opportunity=_opportunity(
            "product launch",
            "A new product brings new pipeline to track and new pricing to measure.",
            Priority.MEDIUM,
            "An early, reliable read on launch performance.",
        ),
    ),
    SignalRule(
        key="data-analytics",
        label="data and analytics",
        keywords=_list(
            "analytics, data-driven, dashboards, business intelligence, single source of truth, "
            "data warehouse, data team"
        ),
        hook="I noticed {company} puts real weight on data and analytics.",
        opportunity=_opportunity(
            "data maturity",
            "{company} already invests in data and analytics, so there is a team ready to "
            "use better revenue data.",
            Priority.MEDIUM,
            "Quick adoption through an existing data team.",
        ),
    ),
    SignalRule(
        key="ai-adoption",
        label="AI adoption",
        keywords=_list(
            "ai, artificial intelligence, machine learning, llm, llms, generative ai, genai, "
            "ai-powered"
        ),
        hook="I saw that {company} is investing in AI.",
        opportunity=_opportunity(
            "AI readiness",
            "AI initiatives depend on clean, connected data, and revenue data is often where "
            "the gaps show first.",
            Priority.MEDIUM,
            "AI projects built on data the business trusts.",
        ),
        raises=(DATA_FRAGMENTATION,),
    ),
)
"""In the order outreach prefers them as an opening line."""

NEWS_MARKERS: tuple[str, ...] = (
    "announced",
    "announces",
    "raised",
    "launched",
    "launches",
    "acquired",
    "acquires",
    "partnership",
    "partnered",
    "opens",
    "opened",
    "expands",
    "appointed",
    "appoints",
    "named",
    "welcomes",
    "award",
    "series a",
    "series b",
    "series c",
)
"""Phrases that make a website sentence read as company news."""

# -- technologies ---------------------------------------------------------------------

TECHNOLOGIES: tuple[Technology, ...] = (
    Technology(name="Salesforce", category="CRM", aliases=("sfdc",)),
    Technology(name="HubSpot", category="CRM"),
    Technology(name="Microsoft Dynamics", category="CRM", aliases=("dynamics 365",)),
    Technology(name="Pipedrive", category="CRM"),
    Technology(name="Zoho CRM", category="CRM"),
    Technology(name="Marketo", category="marketing automation"),
    Technology(name="Outreach.io", category="sales engagement", aliases=("outreach.io",)),
    Technology(name="Salesloft", category="sales engagement"),
    Technology(name="Gong", category="revenue intelligence", aliases=("gong.io",)),
    Technology(name="Zendesk", category="customer support"),
    Technology(name="Intercom", category="customer support"),
    Technology(name="Snowflake", category="data warehouse"),
    Technology(name="BigQuery", category="data warehouse", aliases=("google bigquery",)),
    Technology(name="Redshift", category="data warehouse", aliases=("amazon redshift",)),
    Technology(name="Databricks", category="data platform"),
    Technology(name="dbt", category="data transformation", match_case=True),
    Technology(name="Fivetran", category="data integration"),
    Technology(name="Looker", category="business intelligence"),
    Technology(name="Tableau", category="business intelligence"),
    Technology(name="Power BI", category="business intelligence", aliases=("powerbi",)),
    Technology(name="AWS", category="cloud", aliases=("amazon web services",)),
    Technology(name="Microsoft Azure", category="cloud", aliases=("azure",)),
    Technology(name="Google Cloud", category="cloud", aliases=("gcp",)),
    Technology(name="Kubernetes", category="infrastructure", aliases=("k8s",)),
    Technology(name="Docker", category="infrastructure"),
    Technology(name="Terraform", category="infrastructure"),
    Technology(name="Kafka", category="data streaming", aliases=("apache kafka",)),
    Technology(name="PostgreSQL", category="database", aliases=("postgres",)),
    Technology(name="MongoDB", category="database"),
    Technology(name="Stripe", category="billing"),
    Technology(name="Chargebee", category="billing"),
    Technology(name="Zuora", category="billing"),
    Technology(name="Shopify", category="e-commerce platform", aliases=("myshopify",)),
    Technology(name="Magento", category="e-commerce platform", aliases=("adobe commerce",)),
    Technology(name="BigCommerce", category="e-commerce platform"),
    Technology(name="WooCommerce", category="e-commerce platform"),
    Technology(name="SAP", category="ERP", aliases=("S/4HANA",), match_case=True),
    Technology(name="Oracle", category="ERP"),
    Technology(name="NetSuite", category="ERP"),
    Technology(name="Workday", category="HR and finance"),
    Technology(name="ServiceNow", category="IT service management"),
    Technology(name="Jira", category="work management"),
    Technology(name="Slack", category="collaboration"),
    Technology(name="Okta", category="identity"),
    Technology(name="Epic Systems", category="EHR", aliases=("epic ehr",)),
)

# -- regions --------------------------------------------------------------------------

_NORTH_AMERICA = ("united states", "canada", "mexico")
_EU = _list(
    "germany, france, netherlands, belgium, luxembourg, spain, portugal, italy, ireland, austria, "
    "sweden, denmark, finland, poland, czechia, estonia, latvia, lithuania, greece, romania, "
    "hungary, slovakia, slovenia, croatia, bulgaria"
)
_EUROPE = (*_EU, "united kingdom", "norway", "switzerland", "iceland")
_MIDDLE_EAST_AFRICA = _list(
    "united arab emirates, saudi arabia, israel, qatar, egypt, south africa, nigeria, kenya, "
    "morocco"
)
_APAC = _list(
    "australia, new zealand, singapore, japan, india, south korea, hong kong, indonesia, "
    "philippines, malaysia, vietnam, thailand, china, taiwan"
)
_LATAM = ("brazil", "mexico", "argentina", "chile", "colombia", "peru", "uruguay")

REGION_COUNTRIES: dict[str, tuple[str, ...]] = {
    "north america": _NORTH_AMERICA,
    "americas": (*_NORTH_AMERICA, *_LATAM),
    "latam": _LATAM,
    "latin america": _LATAM,
    "europe": _EUROPE,
    "eu": _EU,
    "emea": (*_EUROPE, *_MIDDLE_EAST_AFRICA),
    "dach": ("germany", "austria", "switzerland"),
    "nordics": ("sweden", "norway", "denmark", "finland", "iceland"),
    "benelux": ("belgium", "netherlands", "luxembourg"),
    "uk and ireland": ("united kingdom", "ireland"),
    "uki": ("united kingdom", "ireland"),
    "apac": _APAC,
    "anz": ("australia", "new zealand"),
    "middle east": ("united arab emirates", "saudi arabia", "israel", "qatar", "egypt"),
}
"""Sales regions as lower-case names, each the countries it covers."""

COUNTRY_ALIASES: dict[str, str] = {
    "us": "united states",
    "u.s.": "united states",
    "usa": "united states",
    "u.s.a.": "united states",
    "united states of america": "united states",
    "america": "united states",
    "uk": "united kingdom",
    "u.k.": "united kingdom",
    "great britain": "united kingdom",
    "britain": "united kingdom",
    "england": "united kingdom",
    "scotland": "united kingdom",
    "wales": "united kingdom",
    "northern ireland": "united kingdom",
    "deutschland": "germany",
    "holland": "netherlands",
    "the netherlands": "netherlands",
    "czech republic": "czechia",
    "uae": "united arab emirates",
    "korea": "south korea",
    "republic of korea": "south korea",
    "ksa": "saudi arabia",
}

# -- people ---------------------------------------------------------------------------

_SENIORITY_PHRASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("founder", ("founder", "co-founder", "cofounder", "owner")),
    ("vp", ("vp", "svp", "evp", "vice president")),
    ("c-level", _list("ceo, cto, cro, coo, cfo, cmo, cio, chief, president, managing director")),
    ("head", ("head of", "head")),
    ("director", ("director",)),
    ("manager", ("manager", "lead")),
)
"""Checked in this order: "Vice President" is a VP before "President" makes it C-level."""

SENIORITY_PREFERENCE: dict[CompanySize, tuple[frozenset[str], ...]] = {
    CompanySize.STARTUP: (
        frozenset({"founder", "c-level"}),
        frozenset({"vp", "head"}),
        frozenset({"director"}),
        frozenset({"manager"}),
    ),
    CompanySize.MID_MARKET: (
        frozenset({"vp", "head", "director"}),
        frozenset({"c-level"}),
        frozenset({"manager"}),
        frozenset({"founder"}),
    ),
    CompanySize.ENTERPRISE: (
        frozenset({"director", "head"}),
        frozenset({"vp"}),
        frozenset({"manager"}),
        frozenset({"c-level"}),
        frozenset({"founder"}),
    ),
}
"""Who to address first at each size, best group first.

A startup's founders decide and answer their own email; a mid-market company's
VPs and heads own budgets; an enterprise's executives are shielded, and the
director or head of the relevant function is the one who takes the meeting.
"""

BUYER_FUNCTIONS: dict[str, tuple[str, ...]] = {
    "revenue": ("revenue", "revops", "sales", "commercial", "growth", "business development"),
    "data": ("data", "analytics", "business intelligence", "bi", "insights"),
    "finance": ("finance", "financial", "cfo", "controller", "fp&a"),
    "marketing": ("marketing", "demand", "brand", "cmo"),
    "operations": ("operations", "ops", "coo", "supply chain"),
    "engineering": ("engineering", "platform", "devops", "cto", "technology", "it"),
    "security": ("security", "ciso", "risk", "compliance"),
    "people": ("people", "talent", "hr", "human resources", "recruiting"),
}
"""Which title words belong to which buying function."""

_FUNCTION_TRIGGERS: dict[str, tuple[str, ...]] = {
    "revenue": ("revenue", "sales", "pipeline", "crm", "forecast", "deal", "quota"),
    "data": ("data", "analytics", "warehouse", "dashboard", "reporting"),
    "finance": ("finance", "billing", "invoice", "spend", "budget", "audit"),
    "marketing": ("marketing", "campaign", "brand", "lead generation"),
    "operations": ("operations", "logistics", "workflow", "process"),
    "engineering": ("developer", "engineering", "infrastructure", "api", "cloud"),
    "security": ("security", "threat", "compliance", "identity"),
    "people": ("hiring", "recruiting", "payroll", "employee"),
}
"""Words in what a seller sells that say which function buys it."""

# -- lookups --------------------------------------------------------------------------


def render(template: str, *, company: str, product: str) -> str:
    """Fill a template of this module; company text is inserted, never interpreted."""
    return template.format(company=company, product=product)


def _phrase_regex(phrase: str) -> str:
    """Words in order, with spaces and hyphens between them interchangeable."""
    words = re.split(r"[\s-]+", _searchable(phrase).strip())
    return r"[\s-]+".join(re.escape(word) for word in words if word)


@lru_cache(maxsize=4096)
def _phrase_pattern(phrase: str, match_case: bool) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){_phrase_regex(phrase)}(?!\w)", 0 if match_case else re.IGNORECASE)


@lru_cache(maxsize=1024)
def _phrases_pattern(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern for a whole list: a single search instead of one per phrase."""
    bodies = [_phrase_regex(phrase) for phrase in phrases if phrase.strip()]
    if not bodies:
        return None
    return re.compile(rf"(?<!\w)(?:{'|'.join(bodies)})(?!\w)", re.IGNORECASE)


def _searchable(text: str) -> str:
    return text.replace("’", "'").replace("&", " and ")


@lru_cache(maxsize=4096)
def _readable(text: str) -> tuple[str, str]:
    """``text`` as phrases are searched for in it, and that lower-cased.

    Cached: the same fact or message line is tested against many phrase lists.
    """
    searchable = _searchable(text)
    return searchable, searchable.lower()


@lru_cache(maxsize=4096)
def _first_word(phrase: str) -> str:
    """The phrase's first word, lower-cased: it must occur literally wherever the phrase does."""
    words = re.split(r"[\s-]+", _searchable(phrase).strip())
    return next((word for word in words if word), "").lower()


def mentions(text: str, phrase: str, *, match_case: bool = False) -> bool:
    """Whether ``phrase`` occurs in ``text`` as whole words ("ai" is not in "maintain")."""
    return _mentions_in(*_readable(text), phrase, match_case)


def _mentions_in(searchable: str, lowered: str, phrase: str, match_case: bool) -> bool:
    # A substring test rules most phrases out for a fraction of a regex search.
    if _first_word(phrase) not in lowered:
        return False
    return _phrase_pattern(phrase, match_case).search(searchable) is not None


@lru_cache(maxsize=1024)
def _first_words(phrases: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_first_word(phrase) for phrase in phrases if phrase.strip()))


def mentions_any(text: str, phrases: Sequence[str]) -> bool:
    """Whether any of ``phrases`` occurs in ``text`` as whole words, ignoring case."""
    key = tuple(phrases)
    searchable, lowered = _readable(text)
    if not any(word in lowered for word in _first_words(key)):
        return False
    pattern = _phrases_pattern(key)
    return pattern is not None and pattern.search(searchable) is not None


def _first_position(text: str, lowered: str, phrase: str) -> int | None:
    if _first_word(phrase) not in lowered:
        return None
    found = _phrase_pattern(phrase, False).search(text)
    return found.start() if found else None


@lru_cache(maxsize=1024)
def industry_for(text: str) -> tuple[IndustryKnowledge, str] | None:
    """The industry ``text`` names, with the alias that matched.

    The longest matching alias wins ("marketing software" is SaaS, not an
    agency); among equally long ones, the earliest in the text. Cached: an
    analysis looks up the same few industry names for every company.
    """
    searchable, lowered = _readable(text)
    best: tuple[int, int, IndustryKnowledge, str] | None = None
    for industry in INDUSTRIES:
        for alias in (*industry.aliases, industry.label.lower(), industry.key):
            position = _first_position(searchable, lowered, alias)
            if position is None:
                continue
            candidate = (-len(alias), position, industry, alias)
            if best is None or candidate[:2] < best[:2]:
                best = candidate
    return (best[2], best[3]) if best else None


def signals_in(text: str) -> list[SignalRule]:
    """Every signal whose phrases occur in ``text``, in the order of :data:`SIGNALS`."""
    return list(_signals_in(text))


@lru_cache(maxsize=4096)
def _signals_in(text: str) -> tuple[SignalRule, ...]:
    """Cached: research, analysis and personalization each read the same facts."""
    return tuple(signal for signal in SIGNALS if mentions_any(text, signal.keywords))


def _technology_spellings(technology: Technology) -> tuple[str, ...]:
    return (technology.name, *technology.aliases)


def technologies_in(text: str) -> list[Technology]:
    """Every known technology ``text`` names, in the order of :data:`TECHNOLOGIES`."""
    return list(_technologies_in(text))


@lru_cache(maxsize=4096)
def _technologies_in(text: str) -> tuple[Technology, ...]:
    """Cached: research, analysis and personalization each read the same facts."""
    searchable, lowered = _readable(text)
    return tuple(
        tech
        for tech in TECHNOLOGIES
        if any(
            _mentions_in(searchable, lowered, spelling, tech.match_case)
            for spelling in _technology_spellings(tech)
        )
    )


@lru_cache(maxsize=256)
def technology_named(name: str) -> Technology | None:
    """The known technology ``name`` spells (any case), if any; cached, since an
    analysis asks about the same few ICP technologies for every company."""
    wanted = name.strip().lower()
    for tech in TECHNOLOGIES:
        if wanted in {spelling.lower() for spelling in _technology_spellings(tech)}:
            return tech
    return None


def country_name(location: str) -> str | None:
    """The canonical lower-case country in a location such as ``"Berlin, DE"`` or ``"USA"``.

    Tries the whole text, then each comma-separated part from the last.
    """
    known = {c for countries in REGION_COUNTRIES.values() for c in countries}
    parts = [location, *reversed(location.split(","))]
    for part in parts:
        candidate = " ".join(part.strip().lower().split())
        candidate = COUNTRY_ALIASES.get(candidate, candidate)
        if candidate in known:
            return candidate
    return None


def matching_region(location: str, regions: Sequence[str]) -> str | None:
    """The first of ``regions`` that ``location`` falls in (a region may be a country)."""
    country = country_name(location)
    for region in regions:
        wanted = " ".join(region.strip().lower().replace("&", " and ").split())
        wanted_country = COUNTRY_ALIASES.get(wanted, wanted)
        if country is not None and (
            country == wanted_country or country in REGION_COUNTRIES.get(wanted, ())
        ):
            return region
        if country is None and wanted and mentions(location, wanted):
            return region
    return None


def seniority_of(title: str | None) -> str | None:
    """``"VP Sales"`` → ``"vp"``; ``None`` for titles without a recognisable level."""
    if not title:
        return None
    for level, phrases in _SENIORITY_PHRASES:
        if any(mentions(title, phrase) for phrase in phrases):
            return level
    return None


def buyer_functions(offer: str) -> tuple[str, ...]:
    """The buying functions whose trigger words occur in a description of what is sold."""
    found = tuple(
        function
        for function, triggers in _FUNCTION_TRIGGERS.items()
        if any(mentions(offer, trigger) for trigger in triggers)
    )
    return found or ("revenue",)


def _serves_function(title: str | None, functions: Sequence[str]) -> bool:
    if not title:
        return False
    return any(
        mentions(title, word) for function in functions for word in BUYER_FUNCTIONS[function]
    )


def choose_primary_contact(
    contacts: Sequence[Contact], size: CompanySize | None, functions: Sequence[str] = ()
) -> Contact | None:
    """The contact to address first, by seniority for the company's size.

    Startups: founders and C-level first, whatever their function. Mid-market
    and enterprise: someone in one of ``functions`` (keys of
    :data:`BUYER_FUNCTIONS`) first, then by seniority — VP, head or director for
    mid-market, director or head for enterprise. Ties keep the given order; an
    unknown size is treated as mid-market.
    """
    if not contacts:
        return None
    preference = SENIORITY_PREFERENCE[size or CompanySize.MID_MARKET]

    def rank(indexed: tuple[int, Contact]) -> tuple[int, int, int]:
        position, contact = indexed
        level = seniority_of(contact.title)
        level_rank = next(
            (i for i, group in enumerate(preference) if level in group), len(preference)
        )
        off_function = 0
        if size is not CompanySize.STARTUP:
            off_function = 0 if _serves_function(contact.title, functions) else 1
        return off_function, level_rank, position

    return min(enumerate(contacts), key=rank)[1]
