"""A loaded knowledge base, and the lookups the engines make in it.

Each lookup answers one question about a piece of text — which industry does
this label name, which signals and technologies does this sentence show,
which country and region is this location in, who among these contacts to
address — with the package's one phrase matcher.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property, lru_cache

from ..grammar import possessive
from ..models import CompanySize, Contact, Tier
from ..phrases import first_position, mentions, mentions_any
from .entries import (
    IndustryKnowledge,
    KnowledgeFile,
    ObjectionRule,
    PainPointRule,
    SignalRule,
    Technology,
)
from .errors import missing_tables

__all__ = ["KnowledgeBase", "render"]


def render(template: str, *, company: str, product: str, role: str = "revenue operations") -> str:
    """Fill a knowledge template; company text is inserted, never interpreted."""
    return template.format(
        company=company, company_possessive=possessive(company), product=product, role=role
    )


class KnowledgeBase:
    """Everything the offline engine knows, validated and complete.

    :raises KnowledgeError: when a table every engine needs (the general
        industry, each size, each tier) is missing.
    """

    def __init__(self, data: KnowledgeFile) -> None:
        missing_tables(data)
        assert data.general is not None  # checked by missing_tables
        self.data = data
        self.general: IndustryKnowledge = data.general
        self.industries = data.industry
        self.signals = data.signal
        self.news_markers = data.news_markers
        self.technologies = data.technology

    def __repr__(self) -> str:
        return f"KnowledgeBase({len(self.industries)} industries, {len(self.signals)} signals)"

    # -- sizes and tiers -----------------------------------------------------------------

    def size_pain_point(self, size: CompanySize) -> PainPointRule:
        return self.data.size[size].pain_point

    def size_insight(self, size: CompanySize) -> str:
        return self.data.size[size].insight

    def size_objection(self, size: CompanySize) -> ObjectionRule:
        return self.data.size[size].objection

    def tier_playbook(self, tier: Tier) -> str:
        return self.data.tier_playbook[tier]

    # -- industries ----------------------------------------------------------------------

    def industry_for(self, text: str) -> tuple[IndustryKnowledge, str] | None:
        """The industry ``text`` names, with the label that matched.

        A specific label ("Regional Banks", "Application Software") beats a
        sector ("Financials", "Information Technology"), whatever the order;
        among labels of one kind the longest wins ("marketing software" is
        software, not an agency), then the earliest in the text.
        """
        return _industry_for(self, text)

    def industry_keyed(self, key: str) -> IndustryKnowledge | None:
        return self._industry_by_key.get(key)

    @cached_property
    def _industry_by_key(self) -> dict[str, IndustryKnowledge]:
        return {industry.key: industry for industry in self.industries}

    # -- signals and technologies -----------------------------------------------------

    def signals_in(self, text: str) -> tuple[SignalRule, ...]:
        """Every signal whose phrases occur in ``text``, in the order of the signals table."""
        return _signals_in(self, text)

    def technologies_in(self, text: str) -> tuple[Technology, ...]:
        """Every known technology ``text`` names, in the order of the technologies table."""
        return _technologies_in(self, text)

    def technology_named(self, name: str) -> Technology | None:
        """The known technology ``name`` spells (any case), if any."""
        return self._technology_spellings.get(name.strip().lower())

    @cached_property
    def _technology_spellings(self) -> dict[str, Technology]:
        spellings: dict[str, Technology] = {}
        for tech in self.technologies:
            for spelling in (tech.name, *tech.aliases):
                spellings.setdefault(spelling.lower(), tech)
        return spellings

    # -- people --------------------------------------------------------------------------

    def seniority_of(self, title: str | None) -> str | None:
        """``"VP Sales"`` → ``"vp"``; ``None`` for titles without a recognisable level."""
        if not title:
            return None
        for rule in self.data.seniority:
            if mentions_any(title, rule.phrases):
                return rule.level
        return None

    def buyer_functions(self, offer: str) -> tuple[str, ...]:
        """The buying functions whose trigger words occur in a description of what is sold."""
        found = tuple(
            function
            for function, triggers in self.data.function_triggers.items()
            if mentions_any(offer, triggers)
        )
        return found or ("revenue",)

    def _serves_function(self, title: str | None, functions: Sequence[str]) -> bool:
        if not title:
            return False
        words = [w for f in functions for w in self.data.buyer_functions.get(f, ())]
        return mentions_any(title, words)

    def choose_primary_contact(
        self, contacts: Sequence[Contact], size: CompanySize | None, functions: Sequence[str] = ()
    ) -> Contact | None:
        """The contact to address first, by seniority for the company's size.

        Startups: founders and C-level first, whatever their function. Mid-market
        and enterprise: someone in one of ``functions`` first, then by seniority.
        Ties keep the given order; an unknown size is treated as mid-market.
        """
        if not contacts:
            return None
        preference = self.data.seniority_preference[size or CompanySize.MID_MARKET]

        def rank(indexed: tuple[int, Contact]) -> tuple[int, int, int]:
            position, contact = indexed
            level = self.seniority_of(contact.title)
            level_rank = next(
                (i for i, group in enumerate(preference) if level in group), len(preference)
            )
            off_function = 0
            if size is not CompanySize.STARTUP:
                off_function = 0 if self._serves_function(contact.title, functions) else 1
            return off_function, level_rank, position

        return min(enumerate(contacts), key=rank)[1]


@lru_cache(maxsize=2048)
def _industry_for(kb: KnowledgeBase, text: str) -> tuple[IndustryKnowledge, str] | None:
    """Cached: an analysis looks up the same few industry names for every company."""
    for specific in (True, False):
        best: tuple[int, int, IndustryKnowledge, str] | None = None
        for industry in kb.industries:
            labels = (*industry.aliases, industry.label.lower()) if specific else industry.sectors
            for alias in labels:
                position = first_position(text, alias)
                if position is None:
                    continue
                candidate = (-len(alias), position, industry, alias)
                if best is None or candidate[:2] < best[:2]:
                    best = candidate
        if best is not None:
            return best[2], best[3]
    return None


@lru_cache(maxsize=4096)
def _signals_in(kb: KnowledgeBase, text: str) -> tuple[SignalRule, ...]:
    """Cached: research, analysis and personalization each read the same facts."""
    return tuple(signal for signal in kb.signals if mentions_any(text, signal.keywords))


@lru_cache(maxsize=4096)
def _technologies_in(kb: KnowledgeBase, text: str) -> tuple[Technology, ...]:
    return tuple(
        tech
        for tech in kb.technologies
        if any(
            mentions(text, spelling, match_case=tech.match_case)
            for spelling in (tech.name, *tech.aliases)
        )
    )
