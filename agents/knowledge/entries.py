"""The shapes of the knowledge files: every entry is validated by these models at load.

One model per kind of entry, and one per file (``IndustriesFile`` is what
``industries.toml`` must look like). Unknown fields are refused, so a typo in
a campaign's knowledge file fails loudly instead of being ignored.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ..models import CompanySize, Priority, Severity, Tier

__all__ = [
    "TEMPLATE_FIELDS",
    "IndustryKnowledge",
    "KnowledgeFile",
    "ObjectionRule",
    "OpportunityRule",
    "PainPointRule",
    "SeniorityRule",
    "SignalRule",
    "SizeKnowledge",
    "Technology",
]

TEMPLATE_FIELDS = ("company", "company_possessive", "product", "role")
"""The only fields a template may use: the prospect's name, its possessive
(``Siemens'``, ``Acme's``), the seller's product and the buying function the
seller sells to (``revenue``, ``data``)."""


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PainPointRule(_Entry):
    """A problem companies of one kind typically have.

    ``solution_keywords`` pick which of the seller's value propositions answers it.
    """

    category: str = Field(min_length=1)
    description: str = Field(min_length=1)
    severity: Severity
    solution_keywords: tuple[str, ...] = ()


class OpportunityRule(_Entry):
    category: str = Field(min_length=1)
    description: str = Field(min_length=1)
    priority: Priority
    potential_value: str = Field(min_length=1)


class ObjectionRule(_Entry):
    objection: str = Field(min_length=1)
    response: str = Field(min_length=1)


class IndustryKnowledge(_Entry):
    """One industry: how real data names it, and what selling into it is like.

    ``aliases`` are specific labels (a GICS sub-industry, a NAICS-style name, a
    CRM picklist value, a phrase in a description); ``sectors`` are broad ones
    (a GICS sector such as "Financials") that decide only when no specific
    label of any industry matches, so "Financials; Regional Banks" is banking.
    """

    key: str = Field(min_length=1)
    label: str = Field(min_length=1)
    """How the industry is named in profiles (``"SaaS / software"``)."""
    short: str = Field(min_length=1)
    """How it reads inside a sentence (``"teams in {short}"``)."""
    aliases: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()
    pain_points: tuple[PainPointRule, ...] = ()
    opportunities: tuple[OpportunityRule, ...] = ()
    insights: tuple[str, ...] = ()
    objections: tuple[ObjectionRule, ...] = ()
    founder_led: bool = False
    """Whether founder-led selling is plausible here (not for a listed bank or REIT)."""


class SignalRule(_Entry):
    """A buying signal: phrases that reveal it, and what it means for the seller.

    ``raises`` names pain-point categories that become one level more severe
    when the signal is present (hiring makes scaling pains worse, say).
    """

    key: str = Field(min_length=1)
    label: str = Field(min_length=1)
    keywords: tuple[str, ...] = Field(min_length=1)
    hook: str = Field(min_length=1)
    """An opening line that mentions the signal, for outreach."""
    subject: str = ""
    """A subject line about the signal; empty to use the finding's."""
    pain_point: PainPointRule | None = None
    opportunity: OpportunityRule | None = None
    raises: tuple[str, ...] = ()


class Technology(_Entry):
    name: str = Field(min_length=1)
    category: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()
    """Further spellings; the name itself always counts."""
    match_case: bool = False
    """For names that are also ordinary words in lower case (``SAP``)."""


class SeniorityRule(_Entry):
    level: str = Field(min_length=1)
    phrases: tuple[str, ...] = Field(min_length=1)


class SizeKnowledge(_Entry):
    insight: str = Field(min_length=1)
    pain_point: PainPointRule
    objection: ObjectionRule


class KnowledgeFile(_Entry):
    """What one knowledge file may hold: any of these tables, each optional.

    The built-in knowledge is split over several files for reading
    (``industries.toml``, ``signals.toml``…), but every file has this one
    shape, so a campaign's file may add an industry and a signal side by side.
    """

    general: IndustryKnowledge | None = None
    """What applies when a company's industry is unknown or not in the table."""
    industry: tuple[IndustryKnowledge, ...] = ()
    news_markers: tuple[str, ...] = ()
    """Phrases that make a website sentence read as company news."""
    signal: tuple[SignalRule, ...] = ()
    """In the order outreach prefers them as an opening line."""
    technology: tuple[Technology, ...] = ()
    seniority: tuple[SeniorityRule, ...] = ()
    """Checked in order: "Vice President" is a VP before "President" makes it C-level."""
    seniority_preference: dict[CompanySize, tuple[tuple[str, ...], ...]] = Field(
        default_factory=dict
    )
    """Who to address first at each size, best group first."""
    buyer_functions: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Which title words belong to which buying function."""
    function_triggers: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Words in what a seller sells that say which function buys it."""
    size: dict[CompanySize, SizeKnowledge] = Field(default_factory=dict)
    tier_playbook: dict[Tier, str] = Field(default_factory=dict)
    function_names: dict[str, str] = Field(default_factory=dict)
    """How a buying function reads in a sentence (``revenue`` → "revenue operations")."""
    unnamed_greeting: str = ""
    """The greeting when the contact's name is unknown ("Hello,")."""
    unnamed_opening: str = ""
    """The line after it that says whom the message is for, by role (a template)."""
