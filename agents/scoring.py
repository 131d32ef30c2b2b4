"""The ICP score: the campaign's weights applied by rules to a company's attributes.

Whoever extracts the attributes — the offline rules engine from its facts, or a
language model from the page — the number comes from here, so a person can
audit it: one :class:`~salesbus.agents.models.ScoreReason` per criterion, each
with the points earned out of the criterion's weight, why, and the fact ids
behind it. The model adds judgement around the score, never the score itself.

Usage::

    attributes = CompanyAttributes(
        industry=Attribute(value="Software", fact_ids=["f2"]),
        headcount=Headcount(value=240, fact_ids=["f3"]),
        keywords=[Attribute(value="pipeline", fact_ids=["f5"])],
    )
    result = score_icp(attributes, campaign.icp)
    result.score, result.tier, result.reasons, result.disqualify_reasons
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import BaseModel, ConfigDict, Field

from .campaign import Icp
from .knowledge import DEFAULT_KNOWLEDGE, KnowledgeBase, mentions
from .locations import matching_region
from .models import ScoreReason, Tier

__all__ = [
    "Attribute",
    "CompanyAttributes",
    "Headcount",
    "IcpScore",
    "industry_in_icp",
    "score_icp",
]

KEYWORDS_FOR_FULL_POINTS = 3
"""Three ICP keywords found earn the keyword criterion's full weight."""
TECHNOLOGIES_FOR_FULL_POINTS = 2
"""Two ICP technologies seen earn the technology criterion's full weight."""
_MAX_CITED = 6


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Attribute(_Frozen):
    """One thing known about a company, with the facts that show it."""

    value: str = Field(min_length=1)
    fact_ids: list[str] = Field(default_factory=list)


class Headcount(_Frozen):
    value: int = Field(ge=0)
    fact_ids: list[str] = Field(default_factory=list)


class CompanyAttributes(_Frozen):
    """What the score is computed from; everything optional, since little may be known.

    ``industry`` is the label as found (a GICS sub-industry, a CRM picklist
    value, "Regional Banks"): the knowledge base's taxonomy maps it onto the
    ICP's industries. ``location`` is a country or a place naming one.
    ``keywords`` are phrases the facts contain (an ICP keyword counts when one
    of them names it); ``technologies`` are products the company runs.
    """

    industry: Attribute | None = None
    headcount: Headcount | None = None
    location: Attribute | None = None
    keywords: list[Attribute] = Field(default_factory=list)
    technologies: list[Attribute] = Field(default_factory=list)


class IcpScore(_Frozen):
    score: int = Field(ge=0, le=100)
    tier: Tier
    qualified: bool
    """At or above the campaign's ``disqualify_below``."""
    reasons: list[ScoreReason]
    disqualify_reasons: list[str]
    """Empty when qualified; otherwise the threshold missed and each criterion that scored 0."""


def score_icp(
    attributes: CompanyAttributes, icp: Icp, knowledge: KnowledgeBase = DEFAULT_KNOWLEDGE
) -> IcpScore:
    """The score, tier and reasons for ``attributes`` against ``icp``; ``knowledge`` maps
    industry labels and technology spellings (a campaign's, if it has its own); places
    are resolved by :mod:`salesbus.agents.locations`."""
    reasons = [
        _industry(attributes.industry, icp, knowledge),
        _size(attributes.headcount, icp),
        _region(attributes.location, icp),
        _keywords(attributes.keywords, icp),
        _technologies(attributes.technologies, icp, knowledge),
    ]
    score = _score(reasons, icp)
    qualified = score >= icp.tiers.disqualify_below
    return IcpScore(
        score=score,
        tier=icp.tiers.tier(score),
        qualified=qualified,
        reasons=reasons,
        disqualify_reasons=[] if qualified else _disqualify_reasons(score, reasons, icp),
    )


def industry_in_icp(
    industry: str, wanted: Sequence[str], knowledge: KnowledgeBase = DEFAULT_KNOWLEDGE
) -> bool:
    """Whether ``industry`` is one of ``wanted``, by name or through the taxonomy."""
    known = knowledge.industry_for(industry)
    for target in wanted:
        if target.strip().lower() == industry.strip().lower():
            return True
        target_known = knowledge.industry_for(target)
        if known is not None and target_known is not None and target_known[0].key == known[0].key:
            return True
    return False


def _reason(
    criterion: str, weight: float, fraction: float, detail: str, ids: Iterable[str]
) -> ScoreReason:
    return ScoreReason(
        criterion=criterion,
        points=round(weight * fraction, 2),
        max_points=weight,
        detail=detail,
        fact_ids=list(ids),
    )


def _score(reasons: Sequence[ScoreReason], icp: Icp) -> int:
    """Points earned out of the weights' total, on a 0–100 scale."""
    total = icp.weights.total
    if total <= 0:
        return 0
    earned = sum(reason.points for reason in reasons)
    return max(0, min(100, round(100 * earned / total)))


def _industry(industry: Attribute | None, icp: Icp, knowledge: KnowledgeBase) -> ScoreReason:
    weight = icp.weights.industry
    ids = industry.fact_ids if industry else []
    if not icp.industries:
        return _reason("industry", weight, 1, "the ICP accepts every industry", ids)
    if industry is None:
        return _reason("industry", weight, 0, "industry unknown", ids)
    targets = ", ".join(icp.industries)
    label = industry.value
    if industry_in_icp(label, icp.industries, knowledge):
        return _reason("industry", weight, 1, f"{label} is an ICP industry ({targets})", ids)
    return _reason("industry", weight, 0, f"{label} is outside the ICP ({targets})", ids)


def _size(headcount: Headcount | None, icp: Icp) -> ScoreReason:
    """Full points inside the ICP's headcount range, half within a factor of two of it."""
    weight = icp.weights.size
    ids = headcount.fact_ids if headcount else []
    low, high = icp.employees_min, icp.employees_max
    wanted = f"{low:,}–{high:,}" if high is not None else f"at least {low:,}"
    if low == 0 and high is None:
        return _reason("size", weight, 1, "the ICP accepts every company size", ids)
    if headcount is None:
        return _reason("size", weight, 0, "headcount unknown", ids)
    employees = headcount.value
    if low <= employees and (high is None or employees <= high):
        return _reason("size", weight, 1, f"{employees:,} employees is within {wanted}", ids)
    near_low = low / 2 <= employees < low
    near_high = high is not None and high < employees <= high * 2
    if near_low or near_high:
        detail = f"{employees:,} employees is close to the ICP range ({wanted})"
        return _reason("size", weight, 0.5, detail, ids)
    return _reason("size", weight, 0, f"{employees:,} employees is outside {wanted}", ids)


def _region(location: Attribute | None, icp: Icp) -> ScoreReason:
    weight = icp.weights.region
    ids = location.fact_ids if location else []
    if not icp.regions:
        return _reason("region", weight, 1, "the ICP accepts every region", ids)
    if location is None:
        return _reason("region", weight, 0, "location unknown", ids)
    region = matching_region(location.value, icp.regions)
    if region is not None:
        return _reason("region", weight, 1, f"{location.value} is in {region}", ids)
    wanted = ", ".join(icp.regions)
    detail = f"{location.value} is outside the ICP regions ({wanted})"
    return _reason("region", weight, 0, detail, ids)


def _cited(found: Sequence[Attribute], hits: Sequence[tuple[str, list[Attribute]]]) -> list[str]:
    """The facts behind ``hits``, each once, in the order the attributes were given."""
    matched = {id(a) for _, attributes in hits for a in attributes}
    ids = dict.fromkeys(i for a in found if id(a) in matched for i in a.fact_ids)
    return list(ids)[:_MAX_CITED]


def _keywords(found: Sequence[Attribute], icp: Icp) -> ScoreReason:
    weight = icp.weights.keywords
    if not icp.keywords:
        return _reason("keywords", weight, 1, "the ICP names no keywords", [])
    hits = [
        (keyword, naming)
        for keyword in icp.keywords
        if (naming := [a for a in found if mentions(a.value, keyword)])
    ]
    fraction = min(1.0, len(hits) / min(KEYWORDS_FOR_FULL_POINTS, len(icp.keywords)))
    if not hits:
        detail = f"none of the {len(icp.keywords)} ICP keywords appear in the facts"
    else:
        names = ", ".join(kw for kw, _ in hits)
        detail = f"{len(hits)} of {len(icp.keywords)} ICP keywords found: {names}"
    return _reason("keywords", weight, fraction, detail, _cited(found, hits))


def _technologies(found: Sequence[Attribute], icp: Icp, knowledge: KnowledgeBase) -> ScoreReason:
    weight = icp.weights.technology
    if not icp.technologies:
        return _reason("technology", weight, 1, "the ICP names no technologies", [])
    hits = [
        (tech, running)
        for tech in icp.technologies
        if (running := [a for a in found if _same_technology(a.value, tech, knowledge)])
    ]
    wanted = min(TECHNOLOGIES_FOR_FULL_POINTS, len(icp.technologies))
    fraction = min(1.0, len(hits) / wanted)
    if not hits:
        detail = f"none of the ICP technologies ({', '.join(icp.technologies)}) seen"
    else:
        detail = f"uses {', '.join(tech for tech, _ in hits)} (ICP technologies)"
    return _reason("technology", weight, fraction, detail, _cited(found, hits))


def _same_technology(seen: str, wanted: str, knowledge: KnowledgeBase) -> bool:
    """One product, however spelled ("sfdc" is Salesforce); unknown names by phrase."""
    known_seen, known_wanted = knowledge.technology_named(seen), knowledge.technology_named(wanted)
    if known_seen is not None and known_wanted is not None:
        return known_seen.name == known_wanted.name
    return mentions(seen, wanted)


def _disqualify_reasons(score: int, reasons: Sequence[ScoreReason], icp: Icp) -> list[str]:
    threshold = icp.tiers.disqualify_below
    missed = [r.detail for r in reasons if r.max_points > 0 and r.points == 0]
    return [f"ICP score {score} is below the threshold of {threshold}", *missed]
