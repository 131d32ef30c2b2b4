"""What the offline rules engine knows: industries, signals, technologies, people, sizes.

Places (countries, sales regions) are :mod:`salesbus.agents.locations`' job.

The knowledge is data — TOML files beside this module (see ``FORMAT.md``
here), validated by :mod:`.entries` at load — so it can be read, reviewed and
extended like a playbook. A campaign adds or overrides entries with
``[knowledge] path = "..."``; :func:`knowledge_for` gives the merged base.

The module-level names (``INDUSTRIES``, :func:`industry_for`…) are those of
the built-in base, for code and tests that need no campaign's additions.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ..campaign import Campaign
from ..models import CompanySize, Tier
from ..phrases import mentions, mentions_any
from .base import KnowledgeBase, render
from .entries import (
    TEMPLATE_FIELDS,
    IndustryKnowledge,
    KnowledgeFile,
    ObjectionRule,
    OpportunityRule,
    PainPointRule,
    SignalRule,
    Technology,
)
from .loader import load_files, read_file

__all__ = [
    "DEFAULT_KNOWLEDGE",
    "GENERIC_INDUSTRY",
    "INDUSTRIES",
    "NEWS_MARKERS",
    "SIGNALS",
    "SIZE_INSIGHTS",
    "SIZE_OBJECTIONS",
    "SIZE_PAIN_POINTS",
    "TECHNOLOGIES",
    "TEMPLATE_FIELDS",
    "TIER_PLAYBOOK",
    "IndustryKnowledge",
    "KnowledgeBase",
    "KnowledgeFile",
    "ObjectionRule",
    "OpportunityRule",
    "PainPointRule",
    "SignalRule",
    "Technology",
    "buyer_functions",
    "campaign_knowledge",
    "choose_primary_contact",
    "industry_for",
    "knowledge_for",
    "mentions",
    "mentions_any",
    "read_file",
    "render",
    "seniority_of",
    "signals_in",
    "technologies_in",
    "technology_named",
]


@lru_cache(maxsize=16)
def knowledge_for(path: Path | None = None) -> KnowledgeBase:
    """The built-in knowledge, with the file or folder at ``path`` merged over it.

    :raises KnowledgeError: naming the file, the entry and the field at fault.
    """
    return KnowledgeBase(load_files(path))


def campaign_knowledge(campaign: Campaign) -> KnowledgeBase:
    """The knowledge a campaign's companies are judged with: built-in, plus its own files."""
    return knowledge_for(campaign.knowledge.path)


DEFAULT_KNOWLEDGE = knowledge_for()

GENERIC_INDUSTRY = DEFAULT_KNOWLEDGE.general
INDUSTRIES = DEFAULT_KNOWLEDGE.industries
SIGNALS = DEFAULT_KNOWLEDGE.signals
NEWS_MARKERS = DEFAULT_KNOWLEDGE.news_markers
TECHNOLOGIES = DEFAULT_KNOWLEDGE.technologies
SIZE_PAIN_POINTS = {size: DEFAULT_KNOWLEDGE.size_pain_point(size) for size in CompanySize}
SIZE_INSIGHTS = {size: DEFAULT_KNOWLEDGE.size_insight(size) for size in CompanySize}
SIZE_OBJECTIONS = {size: DEFAULT_KNOWLEDGE.size_objection(size) for size in CompanySize}
TIER_PLAYBOOK = {tier.value: DEFAULT_KNOWLEDGE.tier_playbook(tier) for tier in Tier}

industry_for = DEFAULT_KNOWLEDGE.industry_for
signals_in = DEFAULT_KNOWLEDGE.signals_in
technologies_in = DEFAULT_KNOWLEDGE.technologies_in
technology_named = DEFAULT_KNOWLEDGE.technology_named
seniority_of = DEFAULT_KNOWLEDGE.seniority_of
buyer_functions = DEFAULT_KNOWLEDGE.buyer_functions
choose_primary_contact = DEFAULT_KNOWLEDGE.choose_primary_contact
