"""What one profile's facts show — industry, size, signals, technologies — each with the ids
that show it, and those findings as the attributes the ICP score is computed from."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import TypeVar

from ...campaign import Icp
from ...knowledge import IndustryKnowledge, KnowledgeBase, SignalRule, Technology, mentions
from ...models import (
    CompanyProfile,
    CompanySize,
    Fact,
)
from ...scoring import Attribute, CompanyAttributes, Headcount
from .common import about_business, company_name

_Known = TypeVar("_Known", SignalRule, Technology)
"""An entry of a knowledge-base catalogue that facts can show."""


@dataclass(frozen=True)
class Evidence:
    """What the facts of one profile show, each finding with the ids that show it."""

    kb: KnowledgeBase
    profile: CompanyProfile
    industry: IndustryKnowledge | None
    industry_ids: list[str]
    size: CompanySize | None
    size_ids: list[str]
    signals: list[tuple[SignalRule, list[str]]]
    technologies: list[tuple[Technology, list[str]]]
    basis_ids: list[str]
    """What industry-level claims cite: the industry facts, else what describes the company."""

    @functools.cached_property
    def name(self) -> str:
        """Cached: every claim and message names the company, often several times."""
        return company_name(self.profile)

    def ids_mentioning(self, phrase: str) -> list[str]:
        """The facts about the business that name ``phrase``."""
        return [
            fact.id
            for fact in self.profile.facts
            if about_business(fact) and mentions(fact.text, phrase)
        ]


def gather_evidence(profile: CompanyProfile, kb: KnowledgeBase) -> Evidence:
    business = [fact for fact in profile.facts if about_business(fact)]
    known = kb.industry_for(profile.industry) if profile.industry else None
    industry_ids = [fact.id for fact in profile.facts if fact.topic == "industry"]
    size = profile.size
    employees = profile.employees if profile.employees is not None else profile.company.employees
    if size is None and employees is not None:
        size = CompanySize.from_employees(employees)
    # A signal is something the company does, not what its industry label says.
    described = [fact for fact in business if fact.topic != "industry"]
    signals = _shown_by_facts(described, kb.signals_in, kb.signals, attrgetter("key"))
    technologies = [
        (tech, ids)
        for tech, ids in _shown_by_facts(
            described, kb.technologies_in, kb.technologies, attrgetter("name")
        )
        if not mentions(profile.company.name, tech.name)  # its own product, not its stack
    ]
    return Evidence(
        kb=kb,
        profile=profile,
        industry=known[0] if known else None,
        industry_ids=industry_ids,
        size=size,
        size_ids=[fact.id for fact in profile.facts if fact.topic == "size"],
        signals=[(signal, ids[:3]) for signal, ids in signals],
        technologies=[(tech, ids[:3]) for tech, ids in technologies],
        basis_ids=industry_ids or _descriptive_ids(profile),
    )


def _shown_by_facts(
    business: Sequence[Fact],
    find: Callable[[str], Sequence[_Known]],
    catalogue: Sequence[_Known],
    key: Callable[[_Known], str],
) -> list[tuple[_Known, list[str]]]:
    """Every catalogue entry that ``find`` sees in the facts, in catalogue order, with
    the facts it is seen in; each fact is read once (and ``find`` caches per text)."""
    ids: dict[str, list[str]] = {}
    for fact in business:
        for entry in find(fact.text):
            ids.setdefault(key(entry), []).append(fact.id)
    return [(entry, ids[key(entry)]) for entry in catalogue if key(entry) in ids]


def _descriptive_ids(profile: CompanyProfile) -> list[str]:
    """The best facts to rest a general claim on when the industry is unknown."""
    for topics in (("description", "summary", "notes", "title"), ("name",)):
        ids = [fact.id for fact in profile.facts if fact.topic in topics]
        if ids:
            return ids[:2]
    return [profile.facts[0].id] if profile.facts else []


# -- the attributes the ICP score is computed from ----------------------------------


def attributes(evidence: Evidence, icp: Icp) -> CompanyAttributes:
    """What the facts show, in the shape :func:`score_icp` takes.

    Keywords are the business facts themselves (an ICP keyword counts when a
    fact names it); technologies are the catalogue's ones the facts show, plus
    any ICP technology the catalogue does not know, found by name.
    """
    profile = evidence.profile
    ids_of = functools.partial(_topic_ids, profile)
    industry = profile.industry
    employees = profile.employees if profile.employees is not None else profile.company.employees
    location = profile.location or profile.company.country
    keywords = [
        Attribute(value=fact.text, fact_ids=[fact.id])
        for fact in profile.facts
        if about_business(fact)
    ]
    technologies = [Attribute(value=tech.name, fact_ids=ids) for tech, ids in evidence.technologies]
    for name in icp.technologies:
        if evidence.kb.technology_named(name) is None and (ids := evidence.ids_mentioning(name)):
            technologies.append(Attribute(value=name, fact_ids=ids))
    return CompanyAttributes(
        industry=Attribute(value=industry, fact_ids=ids_of("industry")) if industry else None,
        headcount=Headcount(value=employees, fact_ids=ids_of("size"))
        if employees is not None
        else None,
        location=Attribute(value=location, fact_ids=ids_of("location")) if location else None,
        keywords=keywords,
        technologies=technologies,
    )


def _topic_ids(profile: CompanyProfile, topic: str) -> list[str]:
    return [fact.id for fact in profile.facts if fact.topic == topic]


def technology_ids(evidence: Evidence, name: str) -> list[str]:
    known = evidence.kb.technology_named(name)
    if known is None:
        return evidence.ids_mentioning(name)
    return next((ids for tech, ids in evidence.technologies if tech.name == known.name), [])
