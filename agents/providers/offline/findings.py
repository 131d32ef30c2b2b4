"""Analysis by rules: the ICP score, pain points, opportunities, talking points, objections
and the recommended approach, each claim citing the facts behind it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from ...campaign import Campaign
from ...grammar import clip, possessive, prose_list
from ...knowledge import (
    OpportunityRule,
    PainPointRule,
    campaign_knowledge,
    render,
)
from ...models import (
    Analysis,
    Channel,
    CompanyProfile,
    CompanySize,
    Contact,
    Objection,
    Opportunity,
    PainPoint,
    PersonalizationStrategy,
    Priority,
    Severity,
    TalkingPoint,
    Tier,
)
from ...scoring import score_icp
from .common import (
    LABEL_TOPICS,
    PRIORITY_ORDER,
    RULES_LABEL,
    SEVERITY_ORDER,
    facts_by_id,
    is_hypothesis,
    ordered_ids,
    raised,
)
from .evidence import Evidence, attributes, gather_evidence, technology_ids
from .research import seller_functions
from .values import solution


def analyze_profile(profile: CompanyProfile, campaign: Campaign) -> Analysis:
    evidence = gather_evidence(profile, campaign_knowledge(campaign))
    icp = campaign.icp
    scored = score_icp(attributes(evidence, icp), icp, evidence.kb)
    pain_points = _pain_points(evidence, campaign)
    opportunities = _opportunities(evidence, campaign)
    channel = _recommended_channel(profile.primary_contact, campaign.seller.channels)
    return Analysis(
        icp_score=scored.score,
        score_reasons=scored.reasons,
        tier=scored.tier,
        qualified=scored.qualified,
        disqualify_reasons=scored.disqualify_reasons,
        pain_points=pain_points,
        opportunities=opportunities,
        industry_insights=_insights(evidence),
        talking_points=_talking_points(evidence, pain_points, opportunities, campaign),
        likely_objections=_objections(evidence, campaign),
        recommended_approach=_approach(
            evidence,
            scored.tier,
            scored.disqualify_reasons,
            pain_points,
            opportunities,
            channel,
            campaign,
        ),
        recommended_channel=channel,
        confidence=_confidence(profile),
        generated_by=RULES_LABEL,
    )


# -- pain points, opportunities and what to say ---------------------------------------

_MAX_PAIN_POINTS = 5
_MAX_OPPORTUNITIES = 4
_MAX_TALKING_POINTS = 5
_MAX_OBJECTIONS = 4


def _pain_points(evidence: Evidence, campaign: Campaign) -> list[PainPoint]:
    """Industry and size pains, plus those signals reveal; each made worse by related signals.

    Pains that share a category merge into the most severe one, citing the facts
    of all of them.
    """
    by_category: dict[str, PainPoint] = {}
    for rule, own_ids, own_signal in _pain_candidates(evidence):
        raisers = [
            (signal, ids)
            for signal, ids in evidence.signals
            if rule.category in signal.raises and signal.key != own_signal
        ]
        severity = raised(rule.severity, len(raisers))
        cited = [*own_ids, *(i for _, ids in raisers for i in ids)]
        pain = _pain_point(evidence, rule, severity, cited, campaign)
        previous = by_category.get(rule.category)
        if previous is None:
            by_category[rule.category] = pain
        else:
            by_category[rule.category] = _merge_pains(evidence, previous, pain)
    return by_severity(by_category.values())[:_MAX_PAIN_POINTS]


def by_severity(pain_points: Iterable[PainPoint]) -> list[PainPoint]:
    """Most severe first; equally severe ones keep their order (``sorted`` is stable)."""
    return sorted(pain_points, key=lambda pain: -SEVERITY_ORDER.index(pain.severity))


def by_priority(opportunities: Iterable[Opportunity]) -> list[Opportunity]:
    return sorted(
        opportunities, key=lambda opportunity: -PRIORITY_ORDER.index(opportunity.priority)
    )


def _pain_candidates(evidence: Evidence) -> list[tuple[PainPointRule, list[str], str | None]]:
    industry = evidence.industry or evidence.kb.general
    candidates: list[tuple[PainPointRule, list[str], str | None]] = []
    for signal, ids in evidence.signals:
        if signal.pain_point is not None:
            candidates.append((signal.pain_point, ids, signal.key))
    if evidence.basis_ids:
        candidates.extend((rule, evidence.basis_ids, None) for rule in industry.pain_points)
    if evidence.size is not None and evidence.size_ids and _size_applies(evidence):
        candidates.append((evidence.kb.size_pain_point(evidence.size), evidence.size_ids, None))
    return candidates


def _size_applies(evidence: Evidence) -> bool:
    """The small-company pain (founder-led selling) only where founders sell: not at a
    listed bank or REIT with few employees."""
    if evidence.size is not CompanySize.STARTUP or evidence.industry is None:
        return True
    return evidence.industry.founder_led


def _pain_point(
    evidence: Evidence,
    rule: PainPointRule,
    severity: Severity,
    ids: Sequence[str],
    campaign: Campaign,
) -> PainPoint:
    cited = ordered_ids(evidence.profile, ids)
    return PainPoint(
        category=rule.category,
        description=render(rule.description, company=evidence.name, product=_product(campaign)),
        severity=severity,
        evidence=_evidence_text(evidence.profile, cited),
        potential_solution=solution(rule.solution_keywords, campaign),
        fact_ids=cited,
    )


def _merge_pains(evidence: Evidence, first: PainPoint, second: PainPoint) -> PainPoint:
    """The more severe of two pains of one category (the first on a tie), citing both."""
    keep = by_severity([first, second])[0]
    cited = ordered_ids(evidence.profile, [*keep.fact_ids, *first.fact_ids, *second.fact_ids])
    return replace(keep, fact_ids=cited, evidence=_evidence_text(evidence.profile, cited))


def _opportunities(evidence: Evidence, campaign: Campaign) -> list[Opportunity]:
    industry = evidence.industry or evidence.kb.general
    candidates: list[tuple[OpportunityRule, list[str]]] = [
        (signal.opportunity, ids) for signal, ids in evidence.signals if signal.opportunity
    ]
    if evidence.basis_ids:
        candidates.extend((rule, evidence.basis_ids) for rule in industry.opportunities)
    found: dict[str, Opportunity] = {}
    for rule, ids in candidates:
        if rule.category not in found:
            found[rule.category] = _opportunity(evidence, rule, ids, campaign)
    stack = _stack_fit(evidence, campaign)
    if stack is not None:
        found.setdefault(stack.category, stack)
    return by_priority(found.values())[:_MAX_OPPORTUNITIES]


def _opportunity(
    evidence: Evidence, rule: OpportunityRule, ids: Sequence[str], campaign: Campaign
) -> Opportunity:
    cited = ordered_ids(evidence.profile, ids)
    product = _product(campaign)
    return Opportunity(
        category=rule.category,
        description=render(rule.description, company=evidence.name, product=product),
        priority=rule.priority,
        evidence=_evidence_text(evidence.profile, cited),
        potential_value=render(rule.potential_value, company=evidence.name, product=product),
        fact_ids=cited,
    )


def _stack_fit(evidence: Evidence, campaign: Campaign) -> Opportunity | None:
    """A company already running the ICP's technologies is an easier, faster sale."""
    wanted = campaign.icp.technologies
    hits = [(name, ids) for name in wanted if (ids := technology_ids(evidence, name))]
    if not hits:
        return None
    names = prose_list([name for name, _ in hits])
    cited = ordered_ids(evidence.profile, (i for _, ids in hits for i in ids))
    return Opportunity(
        category="stack fit",
        description=f"{evidence.name} runs {names}, part of the stack "
        f"{campaign.seller.company} targets, so setup starts from tools the team already uses.",
        priority=Priority.HIGH if len(hits) >= 2 else Priority.MEDIUM,
        evidence=_evidence_text(evidence.profile, cited),
        potential_value="A shorter setup and a faster first result.",
        fact_ids=cited,
    )


def _evidence_text(profile: CompanyProfile, ids: Sequence[str]) -> str:
    facts = facts_by_id(profile)
    return "; ".join(f"{i}: {clip(facts[i].text, 140)}" for i in ids if i in facts)


def _product(campaign: Campaign) -> str:
    return campaign.seller.product


def _insights(evidence: Evidence) -> list[str]:
    insights = list((evidence.industry or evidence.kb.general).insights)
    if evidence.size is not None:
        insights.append(evidence.kb.size_insight(evidence.size))
    return insights


def _talking_points(
    evidence: Evidence,
    pain_points: Sequence[PainPoint],
    opportunities: Sequence[Opportunity],
    campaign: Campaign,
) -> list[TalkingPoint]:
    points = [
        TalkingPoint(text=f"On {p.category}: {p.potential_solution}", fact_ids=p.fact_ids)
        for p in pain_points[:2]
    ]
    points.extend(
        TalkingPoint(text=f"{o.description} Value: {o.potential_value}", fact_ids=o.fact_ids)
        for o in opportunities[:1]
    )
    news = [fact for fact in evidence.profile.facts if fact.topic == "news"][:1]
    points.extend(
        TalkingPoint(text=f"Mention their news: “{clip(fact.text, 160)}”", fact_ids=[fact.id])
        for fact in news
    )
    if evidence.technologies:
        names = prose_list([tech.name for tech, _ in evidence.technologies[:3]])
        ids = ordered_ids(evidence.profile, (i for _, ids in evidence.technologies for i in ids))
        text = f"They run {names}; show how {campaign.seller.product} fits alongside."
        points.append(TalkingPoint(text=text, fact_ids=ids))
    return points[:_MAX_TALKING_POINTS]


def _objections(evidence: Evidence, campaign: Campaign) -> list[Objection]:
    product = _product(campaign)
    rules = list((evidence.industry or evidence.kb.general).objections)
    if evidence.size is not None:
        rules.append(evidence.kb.size_objection(evidence.size))
    objections = [
        Objection(
            objection=render(rule.objection, company=evidence.name, product=product),
            response=render(rule.response, company=evidence.name, product=product),
        )
        for rule in rules
    ]
    crm = next((tech for tech, _ in evidence.technologies if tech.category == "CRM"), None)
    if crm is not None:
        objections.insert(
            0,
            Objection(
                objection=f"We already report out of {crm.name}.",
                response=f"{crm.name} stays the system of record; {product} adds the data "
                f"{crm.name} does not hold and the model on top of it.",
            ),
        )
    return objections[:_MAX_OBJECTIONS]


def _recommended_channel(contact: Contact | None, channels: Sequence[Channel]) -> Channel:
    """LinkedIn for a contact reachable only there; otherwise email when the seller uses it."""
    available = list(channels) or [Channel.EMAIL]
    if (
        contact is not None
        and contact.linkedin
        and not contact.email
        and Channel.LINKEDIN in available
    ):
        return Channel.LINKEDIN
    return Channel.EMAIL if Channel.EMAIL in available else available[0]


_WHO_BY_SIZE = {
    CompanySize.STARTUP: "a founder or the CEO",
    CompanySize.MID_MARKET: "a VP or head",
    CompanySize.ENTERPRISE: "a director or head",
}


def _approach(
    evidence: Evidence,
    tier: Tier,
    disqualify_reasons: Sequence[str],
    pain_points: Sequence[PainPoint],
    opportunities: Sequence[Opportunity],
    channel: Channel,
    campaign: Campaign,
) -> str:
    if disqualify_reasons:
        return (
            f"Not a fit for active outreach: {disqualify_reasons[0]}. "
            "Keep for nurture and revisit if the company's situation changes."
        )
    contact = evidence.profile.primary_contact
    if contact is not None:
        who = f"{contact.name} ({contact.title})" if contact.title else contact.name
    else:
        function = seller_functions(campaign.seller, evidence.kb)[0]
        who = f"{_WHO_BY_SIZE[evidence.size or CompanySize.MID_MARKET]} of {function}"
    lead = _lead_topic(evidence.profile, pain_points, opportunities)
    opening = f"Lead with {lead} " if lead else "Open "
    return (
        f"Tier {tier.value}, {evidence.kb.tier_playbook(tier)}. {opening}to {who} by "
        f"{channel.value}, grounded in {possessive(evidence.name)} own facts."
    )


def _lead_topic(
    profile: CompanyProfile, pain_points: Sequence[PainPoint], opportunities: Sequence[Opportunity]
) -> str:
    strategy = choose_strategy(profile, pain_points, opportunities)
    if strategy is PersonalizationStrategy.PAIN_POINT_FOCUSED:
        return f"the {pain_points[0].category} pain ({pain_points[0].severity.value})"
    if strategy is PersonalizationStrategy.OPPORTUNITY_FOCUSED:
        return f"the {opportunities[0].category} opportunity"
    return ""


def _confidence(profile: CompanyProfile) -> float:
    """More facts, more confidence: from 0.3 with almost nothing to 0.9 with a dozen or more."""
    return round(min(0.9, max(0.3, 0.3 + 0.05 * len(profile.facts))), 2)


_URGENT_PAIN = frozenset({Severity.HIGH, Severity.CRITICAL})
_URGENT_OPPORTUNITY = frozenset({Priority.HIGH, Priority.URGENT})


def choose_strategy(
    profile: CompanyProfile,
    pain_points: Sequence[PainPoint],
    opportunities: Sequence[Opportunity],
) -> PersonalizationStrategy:
    """By what was found: a pain the company's own facts show and that hurts, else an
    opportunity they show, else rapport around a question (industry hypotheses only)."""
    if any(
        p.severity in _URGENT_PAIN and not is_hypothesis(profile, p.fact_ids) and _seen(profile, p)
        for p in pain_points
    ):
        return PersonalizationStrategy.PAIN_POINT_FOCUSED
    if any(
        o.priority in _URGENT_OPPORTUNITY and not is_hypothesis(profile, o.fact_ids)
        for o in opportunities
    ):
        return PersonalizationStrategy.OPPORTUNITY_FOCUSED
    return PersonalizationStrategy.RELATIONSHIP_BUILDING


def _seen(profile: CompanyProfile, pain: PainPoint) -> bool:
    """A pain counts as seen when a fact beyond the labels and the headcount shows it."""
    topics = {fact.topic for fact in profile.facts if fact.id in set(pain.fact_ids)}
    return bool(topics - LABEL_TOPICS - {"size"})
