"""The offline provider: a deterministic rules engine that needs no model and no network.

It is the default when no API key is set and what the test suite runs, so it
does the real job from what it is given: it reads the lead row and the website
page into sourced facts, scores the profile against the campaign's ICP, draws
pain points and opportunities from :mod:`salesbus.agents.knowledge` (raised or
added by the buying signals the facts reveal), and writes outreach from
templates filled with the company's own facts and the seller's value
propositions. Every claim cites fact ids; the same input always gives the same
output (no randomness, no clock, no set ordering); every output says it was
written by rules, not by a language model.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from operator import attrgetter
from typing import TypeVar

from ..campaign import Campaign, Icp, Seller
from ..facts import FactBook, facts_from_company
from ..knowledge import (
    GENERIC_INDUSTRY,
    NEWS_MARKERS,
    SIGNALS,
    SIZE_INSIGHTS,
    SIZE_OBJECTIONS,
    SIZE_PAIN_POINTS,
    TECHNOLOGIES,
    TIER_PLAYBOOK,
    IndustryKnowledge,
    OpportunityRule,
    PainPointRule,
    SignalRule,
    Technology,
    buyer_functions,
    choose_primary_contact,
    industry_for,
    mentions,
    mentions_any,
    render,
    signals_in,
    technologies_in,
    technology_named,
)
from ..models import (
    Analysis,
    Channel,
    Company,
    CompanyProfile,
    CompanySize,
    Contact,
    Fact,
    FactSource,
    Message,
    MessageKind,
    Objection,
    Opportunity,
    PainPoint,
    PersonalizationElement,
    PersonalizationStrategy,
    Priority,
    SequenceStep,
    Severity,
    TalkingPoint,
    Tier,
)
from ..quality import SPAM_PHRASES
from ..scoring import Attribute, CompanyAttributes, Headcount, score_icp
from ..usage import Usage, record_usage
from ..website import WebPage
from .base import Draft

__all__ = ["OPT_OUT_LINE", "RULES_LABEL", "OfflineProvider"]

RULES_LABEL = "offline rules engine v1 (rule-based, no LLM)"
"""The ``generated_by`` of everything this provider writes."""

_Known = TypeVar("_Known", SignalRule, Technology)
"""An entry of a knowledge-base catalogue that facts can show."""

OPT_OUT_LINE = "If this isn't relevant, reply 'no thanks' and I won't follow up."


class OfflineProvider:
    """Research, analysis and personalization by rules: free, instant and repeatable."""

    name: str = "offline"
    model: str = "rules-v1"

    async def research(
        self, company: Company, page: WebPage | None, campaign: Campaign
    ) -> CompanyProfile:
        record_usage(Usage(calls=1))
        return _research(company, page, campaign)

    async def analyze(self, profile: CompanyProfile, campaign: Campaign) -> Analysis:
        record_usage(Usage(calls=1))
        return _analyze(profile, campaign)

    async def personalize(
        self,
        profile: CompanyProfile,
        analysis: Analysis,
        campaign: Campaign,
        revision_notes: list[str] | None = None,
    ) -> Draft:
        record_usage(Usage(calls=1))
        return _personalize(profile, analysis, campaign, revision_notes)

    async def aclose(self) -> None:
        """Nothing to release: no connections are ever opened."""


# =====================================================================================
# Shared helpers
# =====================================================================================

_NOT_ABOUT_THE_BUSINESS = frozenset({"name", "contact", "size", "location", "website"})
"""Fact topics whose text says nothing about what the company does.

The input ``website`` fact is only an address: a domain such as ``acme.ai``
must not read as an AI signal.
"""

_SEVERITY_ORDER = (Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)
_PRIORITY_ORDER = (Priority.LOW, Priority.MEDIUM, Priority.HIGH, Priority.URGENT)


def _about_business(fact: Fact) -> bool:
    return fact.topic not in _NOT_ABOUT_THE_BUSINESS


def _clip(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, marked with "…"."""
    if len(text) <= limit:
        return text
    if limit < 2:
        return text[: max(limit, 0)]
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + "…"


def _company_name(profile: CompanyProfile) -> str:
    return _plain(profile.company.name) or "your company"


def _plain(text: str) -> str:
    """Company-supplied text made safe to put in a message: nothing that reads as a placeholder."""
    without_braces = re.sub(r"[{}<>]", "", text).replace("[", "(").replace("]", ")")
    return " ".join(without_braces.split())


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?", "…", "”", '"')) else f"{text}."


def _lower_first(text: str) -> str:
    """Lower-cases the first letter to continue a sentence, unless it begins an acronym."""
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def _ordered_ids(profile: CompanyProfile, ids: Iterable[str], limit: int = 4) -> list[str]:
    """The known ids among ``ids``, in the order the profile found them, at most ``limit``."""
    wanted = set(ids)
    return [fact.id for fact in profile.facts if fact.id in wanted][:limit]


def _facts_by_id(profile: CompanyProfile) -> dict[str, Fact]:
    return {fact.id: fact for fact in profile.facts}


def _raised(severity: Severity, steps: int) -> Severity:
    index = min(_SEVERITY_ORDER.index(severity) + steps, len(_SEVERITY_ORDER) - 1)
    return _SEVERITY_ORDER[index]


# =====================================================================================
# Research
# =====================================================================================

_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[\"“'(A-Z0-9])")
_QUOTE_MAX = 240
_MAX_NEWS = 3
_MAX_SIGNAL_SENTENCES = 5
_MAX_HIGHLIGHTS = 2


def _research(company: Company, page: WebPage | None, campaign: Campaign) -> CompanyProfile:
    book = facts_from_company(company)
    warnings: list[str] = []
    usable = _usable_page(page, warnings)
    news: list[str] = []
    if usable is not None:
        news = _add_website_facts(book, usable, company, campaign.icp)
    industry = _profile_industry(company, book)
    size = CompanySize.from_employees(company.employees) if company.employees is not None else None
    business_text = " ".join(fact.text for fact in book.facts if _about_business(fact))
    contacts = [company.contact] if company.contact else []
    return CompanyProfile(
        company=company,
        industry=industry,
        size=size,
        employees=company.employees,
        location=company.country,
        website=_website(company, usable),
        description=company.description or (usable.description if usable else None),
        recent_news=news,
        key_contacts=contacts,
        primary_contact=choose_primary_contact(contacts, size, _seller_functions(campaign.seller)),
        technologies=[tech.name for tech in technologies_in(business_text)],
        facts=book.facts,
        warnings=warnings,
        generated_by=RULES_LABEL,
    )


def _usable_page(page: WebPage | None, warnings: list[str]) -> WebPage | None:
    """The page if its content can be trusted as the company's own words; why not, if not."""
    if page is None:
        return None
    if page.status >= 400:
        warnings.append(f"website answered HTTP {page.status}; its content was not used")
        return None
    if not (page.title or page.description or page.text):
        warnings.append("website page had no readable text")
        return None
    if page.truncated:
        warnings.append("website text was cut at the fetcher's size limit; the rest was not read")
    return page


def _website(company: Company, page: WebPage | None) -> str | None:
    if company.website:
        return company.website
    if page is not None:
        return page.final_url
    return f"https://{company.domain}" if company.domain else None


def _add_website_facts(book: FactBook, page: WebPage, company: Company, icp: Icp) -> list[str]:
    """Facts from the page, each sourced to the URL it was read from; returns the news found."""

    def source(detail: str) -> FactSource:
        return FactSource(kind="website", url=page.final_url, detail=detail)

    if page.title:
        book.add(
            "title", f"Website title: {_clip(page.title.strip(), _QUOTE_MAX)}", source("title")
        )
    if page.description and page.description.strip() != (company.description or "").strip():
        text = f"Website description: {_clip(page.description.strip(), _QUOTE_MAX)}"
        book.add("summary", text, source("meta description"))
    whole_page = " ".join([page.title or "", page.description or "", page.text, *page.links])
    for tech in technologies_in(whole_page):
        detail = f"{tech.category} named on the page"
        book.add("technology", f"The website mentions {tech.name}.", source(detail))
    sentences = _sentences(page.text)
    news = [s for s in sentences if mentions_any(s, NEWS_MARKERS)]
    news = news[:_MAX_NEWS]
    for sentence in news:
        book.add("news", sentence, source("news on the page"))
    used = set(news)
    for signal, sentence in _signal_sentences(sentences, used)[:_MAX_SIGNAL_SENTENCES]:
        used.add(sentence)
        book.add("signal", sentence, source(f"{signal.label} signal"))
    highlights = [s for s in sentences if s not in used and mentions_any(s, icp.keywords)]
    for sentence in highlights[:_MAX_HIGHLIGHTS]:
        book.add("highlight", sentence, source("sentence naming an ICP keyword"))
    return news


def _sentences(text: str) -> list[str]:
    """The page's sentences long enough to say something, each clipped to a quotable length."""
    found: list[str] = []
    for raw in _SENTENCE_BREAK.split(text):
        sentence = " ".join(raw.split())
        if len(sentence) >= 25 and sentence not in found:
            found.append(_clip(sentence, _QUOTE_MAX))
    return found


def _signal_sentences(sentences: Sequence[str], used: set[str]) -> list[tuple[SignalRule, str]]:
    """The first unused sentence revealing each signal, in the order of the signals table."""
    found: list[tuple[SignalRule, str]] = []
    taken = set(used)
    for signal in SIGNALS:
        for sentence in sentences:
            if sentence not in taken and mentions_any(sentence, signal.keywords):
                found.append((signal, sentence))
                taken.add(sentence)
                break
    return found


def _profile_industry(company: Company, book: FactBook) -> str | None:
    """The industry as the knowledge base names it; inferred from the facts when not given.

    An inferred industry becomes a fact of its own, sourced to the rules and
    naming the fact it was read from, so claims built on it stay traceable.
    """
    if company.industry and company.industry.strip():
        known = industry_for(company.industry)
        return known[0].label if known else company.industry.strip()
    for fact in list(book.facts):
        if not _about_business(fact):
            continue
        known = industry_for(fact.text)
        if known:
            industry, alias = known
            text = f"Industry inferred as {industry.label} from “{alias}” in {fact.id}."
            rules = FactSource(kind="rules", url=fact.source.url, detail=f"keyword in {fact.id}")
            book.add("industry", text, rules)
            return industry.label
    return None


def _seller_functions(seller: Seller) -> tuple[str, ...]:
    offer = " ".join([seller.product, *seller.value_propositions])
    return buyer_functions(offer)


# =====================================================================================
# Analysis
# =====================================================================================


@dataclass(frozen=True)
class _Evidence:
    """What the facts of one profile show, each finding with the ids that show it."""

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
        return _company_name(self.profile)

    def ids_mentioning(self, phrase: str) -> list[str]:
        """The facts about the business that name ``phrase``."""
        return [
            fact.id
            for fact in self.profile.facts
            if _about_business(fact) and mentions(fact.text, phrase)
        ]


def _gather_evidence(profile: CompanyProfile) -> _Evidence:
    business = [fact for fact in profile.facts if _about_business(fact)]
    known = industry_for(profile.industry) if profile.industry else None
    industry_ids = [fact.id for fact in profile.facts if fact.topic == "industry"]
    size = profile.size
    employees = profile.employees if profile.employees is not None else profile.company.employees
    if size is None and employees is not None:
        size = CompanySize.from_employees(employees)
    signals = _shown_by_facts(business, signals_in, SIGNALS, attrgetter("key"))
    technologies = _shown_by_facts(business, technologies_in, TECHNOLOGIES, attrgetter("name"))
    return _Evidence(
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


def _analyze(profile: CompanyProfile, campaign: Campaign) -> Analysis:
    evidence = _gather_evidence(profile)
    icp = campaign.icp
    scored = score_icp(_attributes(evidence, icp), icp)
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


# -- the attributes the ICP score is computed from ----------------------------------


def _attributes(evidence: _Evidence, icp: Icp) -> CompanyAttributes:
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
        if _about_business(fact)
    ]
    technologies = [Attribute(value=tech.name, fact_ids=ids) for tech, ids in evidence.technologies]
    for name in icp.technologies:
        if technology_named(name) is None and (ids := evidence.ids_mentioning(name)):
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


def _technology_ids(evidence: _Evidence, name: str) -> list[str]:
    known = technology_named(name)
    if known is None:
        return evidence.ids_mentioning(name)
    return next((ids for tech, ids in evidence.technologies if tech.name == known.name), [])


# -- pain points, opportunities and what to say ---------------------------------------

_MAX_PAIN_POINTS = 5
_MAX_OPPORTUNITIES = 4
_MAX_TALKING_POINTS = 5
_MAX_OBJECTIONS = 4


def _pain_points(evidence: _Evidence, campaign: Campaign) -> list[PainPoint]:
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
        severity = _raised(rule.severity, len(raisers))
        cited = [*own_ids, *(i for _, ids in raisers for i in ids)]
        pain = _pain_point(evidence, rule, severity, cited, campaign)
        previous = by_category.get(rule.category)
        if previous is None:
            by_category[rule.category] = pain
        else:
            by_category[rule.category] = _merge_pains(evidence, previous, pain)
    return _by_severity(by_category.values())[:_MAX_PAIN_POINTS]


def _by_severity(pain_points: Iterable[PainPoint]) -> list[PainPoint]:
    """Most severe first; equally severe ones keep their order (``sorted`` is stable)."""
    return sorted(pain_points, key=lambda pain: -_SEVERITY_ORDER.index(pain.severity))


def _by_priority(opportunities: Iterable[Opportunity]) -> list[Opportunity]:
    return sorted(
        opportunities, key=lambda opportunity: -_PRIORITY_ORDER.index(opportunity.priority)
    )


def _pain_candidates(evidence: _Evidence) -> list[tuple[PainPointRule, list[str], str | None]]:
    industry = evidence.industry or GENERIC_INDUSTRY
    candidates: list[tuple[PainPointRule, list[str], str | None]] = []
    for signal, ids in evidence.signals:
        if signal.pain_point is not None:
            candidates.append((signal.pain_point, ids, signal.key))
    if evidence.basis_ids:
        candidates.extend((rule, evidence.basis_ids, None) for rule in industry.pain_points)
    if evidence.size is not None and evidence.size_ids:
        candidates.append((SIZE_PAIN_POINTS[evidence.size], evidence.size_ids, None))
    return candidates


def _pain_point(
    evidence: _Evidence,
    rule: PainPointRule,
    severity: Severity,
    ids: Sequence[str],
    campaign: Campaign,
) -> PainPoint:
    cited = _ordered_ids(evidence.profile, ids)
    return PainPoint(
        category=rule.category,
        description=render(rule.description, company=evidence.name, product=_product(campaign)),
        severity=severity,
        evidence=_evidence_text(evidence.profile, cited),
        potential_solution=_solution(rule.solution_keywords, campaign),
        fact_ids=cited,
    )


def _merge_pains(evidence: _Evidence, first: PainPoint, second: PainPoint) -> PainPoint:
    """The more severe of two pains of one category (the first on a tie), citing both."""
    keep = _by_severity([first, second])[0]
    cited = _ordered_ids(evidence.profile, [*keep.fact_ids, *first.fact_ids, *second.fact_ids])
    return replace(keep, fact_ids=cited, evidence=_evidence_text(evidence.profile, cited))


def _opportunities(evidence: _Evidence, campaign: Campaign) -> list[Opportunity]:
    industry = evidence.industry or GENERIC_INDUSTRY
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
    return _by_priority(found.values())[:_MAX_OPPORTUNITIES]


def _opportunity(
    evidence: _Evidence, rule: OpportunityRule, ids: Sequence[str], campaign: Campaign
) -> Opportunity:
    cited = _ordered_ids(evidence.profile, ids)
    product = _product(campaign)
    return Opportunity(
        category=rule.category,
        description=render(rule.description, company=evidence.name, product=product),
        priority=rule.priority,
        evidence=_evidence_text(evidence.profile, cited),
        potential_value=render(rule.potential_value, company=evidence.name, product=product),
        fact_ids=cited,
    )


def _stack_fit(evidence: _Evidence, campaign: Campaign) -> Opportunity | None:
    """A company already running the ICP's technologies is an easier, faster sale."""
    wanted = campaign.icp.technologies
    hits = [(name, ids) for name in wanted if (ids := _technology_ids(evidence, name))]
    if not hits:
        return None
    names = ", ".join(name for name, _ in hits)
    cited = _ordered_ids(evidence.profile, (i for _, ids in hits for i in ids))
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
    facts = _facts_by_id(profile)
    return "; ".join(f"{i}: {_clip(facts[i].text, 140)}" for i in ids if i in facts)


def _product(campaign: Campaign) -> str:
    return campaign.seller.product


def _flagged_phrases(campaign: Campaign) -> tuple[str, ...]:
    """What outreach never says: the phrases the quality checks flag, and the campaign's own."""
    return (*SPAM_PHRASES, *campaign.limits.extra_spam_phrases)


@functools.lru_cache(maxsize=4096)
def _is_clean(text: str, flagged: tuple[str, ...]) -> bool:
    """Cached: calls to action, proof points and subjects recur in every draft."""
    return not mentions_any(text, flagged)


def _value_propositions(campaign: Campaign, flagged: Sequence[str]) -> tuple[str, ...]:
    return _clean_value_propositions(tuple(campaign.seller.value_propositions), tuple(flagged))


@functools.lru_cache(maxsize=64)
def _clean_value_propositions(
    value_propositions: tuple[str, ...], flagged: tuple[str, ...]
) -> tuple[str, ...]:
    """Computed once per campaign, not once per message of every company."""
    return tuple(vp for vp in value_propositions if _is_clean(vp, flagged))


def _best_value_proposition(
    keywords: Sequence[str], campaign: Campaign, flagged: Sequence[str], avoid: str | None = None
) -> str | None:
    """The value proposition sharing most words with ``keywords``; the first one on ties."""
    return _best_of(_value_propositions(campaign, flagged), tuple(keywords), avoid)


@functools.lru_cache(maxsize=1024)
def _best_of(
    value_propositions: tuple[str, ...], keywords: tuple[str, ...], avoid: str | None
) -> str | None:
    """Cached: each pain rule asks with the same keywords for every company."""
    options = [vp for vp in value_propositions if vp != avoid] or list(value_propositions)
    if not options:
        return None
    return max(options, key=lambda vp: sum(word in vp.lower() for word in keywords))


def _value_sentence(seller: Seller, value_proposition: str) -> str:
    """One value proposition as a sentence about the seller.

    A proposition written as a verb phrase ("Unifies CRM data…") reads as
    "Tallyline unifies CRM data…"; anything else is introduced instead.
    """
    text = value_proposition.strip().rstrip(".")
    first_word = text.split(" ", 1)[0]
    if first_word.istitle() and first_word.endswith("s"):
        return f"{seller.company} {_lower_first(text)}."
    return f"How {seller.company} helps: {_lower_first(text)}."


def _solution(keywords: Sequence[str], campaign: Campaign) -> str:
    flagged = _flagged_phrases(campaign)
    value_proposition = _best_value_proposition(keywords, campaign, flagged)
    if value_proposition is None:
        return f"{campaign.seller.product} addresses this directly."
    return _value_sentence(campaign.seller, value_proposition)


def _insights(evidence: _Evidence) -> list[str]:
    insights = list((evidence.industry or GENERIC_INDUSTRY).insights)
    if evidence.size is not None:
        insights.append(SIZE_INSIGHTS[evidence.size])
    return insights


def _talking_points(
    evidence: _Evidence,
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
        TalkingPoint(text=f"Mention their news: “{_clip(fact.text, 160)}”", fact_ids=[fact.id])
        for fact in news
    )
    if evidence.technologies:
        names = ", ".join(tech.name for tech, _ in evidence.technologies[:3])
        ids = _ordered_ids(evidence.profile, (i for _, ids in evidence.technologies for i in ids))
        text = f"They run {names}; show how {campaign.seller.product} fits alongside."
        points.append(TalkingPoint(text=text, fact_ids=ids))
    return points[:_MAX_TALKING_POINTS]


def _objections(evidence: _Evidence, campaign: Campaign) -> list[Objection]:
    product = _product(campaign)
    rules = list((evidence.industry or GENERIC_INDUSTRY).objections)
    if evidence.size is not None:
        rules.append(SIZE_OBJECTIONS[evidence.size])
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
    evidence: _Evidence,
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
        function = _seller_functions(campaign.seller)[0]
        who = f"{_WHO_BY_SIZE[evidence.size or CompanySize.MID_MARKET]} of {function}"
    lead = _lead_topic(pain_points, opportunities)
    opening = f"Lead with {lead} " if lead else "Open "
    return (
        f"Tier {tier.value}, {TIER_PLAYBOOK[tier.value]}. {opening}to {who} by "
        f"{channel.value}, grounded in {evidence.name}'s own facts."
    )


def _lead_topic(pain_points: Sequence[PainPoint], opportunities: Sequence[Opportunity]) -> str:
    strategy = _strategy(pain_points, opportunities)
    if strategy is PersonalizationStrategy.PAIN_POINT_FOCUSED:
        return f"the {pain_points[0].category} pain ({pain_points[0].severity.value})"
    if strategy is PersonalizationStrategy.OPPORTUNITY_FOCUSED:
        return f"the {opportunities[0].category} opportunity"
    return ""


def _confidence(profile: CompanyProfile) -> float:
    """More facts, more confidence: from 0.3 with almost nothing to 0.9 with a dozen or more."""
    return round(min(0.9, max(0.3, 0.3 + 0.05 * len(profile.facts))), 2)


# =====================================================================================
# Personalization
# =====================================================================================

_URGENT_PAIN = frozenset({Severity.HIGH, Severity.CRITICAL})
_URGENT_OPPORTUNITY = frozenset({Priority.HIGH, Priority.URGENT})


def _strategy(
    pain_points: Sequence[PainPoint], opportunities: Sequence[Opportunity]
) -> PersonalizationStrategy:
    """Pain first when something hurts badly, else a strong opportunity, else rapport."""
    if any(p.severity in _URGENT_PAIN for p in pain_points):
        return PersonalizationStrategy.PAIN_POINT_FOCUSED
    if any(o.priority in _URGENT_OPPORTUNITY for o in opportunities):
        return PersonalizationStrategy.OPPORTUNITY_FOCUSED
    return PersonalizationStrategy.RELATIONSHIP_BUILDING


@dataclass(frozen=True)
class _Part:
    """One paragraph (or line) of a message, with the facts it rests on."""

    text: str
    fact_ids: tuple[str, ...] = ()
    optional: bool = False
    """Dropped first when the message is too long, and always in a tightened revision."""
    clippable: bool = False
    """May be shortened at a word boundary when dropping optional parts is not enough."""


_MIN_CLIPPED = 30


def _joined(parts: Sequence[_Part], separator: str) -> str:
    return separator.join(part.text for part in parts if part.text)


def _length(parts: Sequence[_Part], separator: str) -> int:
    return len(_joined(parts, separator))


def _fit(parts: Sequence[_Part], limit: int, separator: str) -> list[_Part] | None:
    """``parts`` made to fit ``limit``: optional parts dropped (last first), then clippable
    ones shortened (last first). ``None`` when the fixed parts alone are too long."""
    kept = list(parts)
    while _length(kept, separator) > limit and any(part.optional for part in kept):
        last_optional = max(i for i, part in enumerate(kept) if part.optional)
        del kept[last_optional]
    for index in reversed(range(len(kept))):
        excess = _length(kept, separator) - limit
        if excess <= 0:
            break
        part = kept[index]
        if not part.clippable:
            continue
        shorter = _clip(part.text, len(part.text) - excess)
        kept[index] = _Part(shorter, part.fact_ids, part.optional, part.clippable)
        if len(shorter) < _MIN_CLIPPED:
            kept[index] = _Part("", ())
    kept = [part for part in kept if part.text]
    return kept if _length(kept, separator) <= limit else None


def _elements(parts: Sequence[_Part]) -> list[PersonalizationElement]:
    return [
        PersonalizationElement(text=part.text, fact_ids=list(part.fact_ids))
        for part in parts
        if part.fact_ids
    ]


@dataclass(frozen=True)
class _Piece:
    """A message body as written: its text and what it cites."""

    body: str
    elements: list[PersonalizationElement]


def _within(parts: Sequence[_Part], limit: int, separator: str = "\n\n") -> _Piece | None:
    """The body made to fit ``limit``, or ``None`` if only cutting the footer could."""
    fitted = _fit(parts, limit, separator)
    if fitted is None:
        return None
    return _Piece(_joined(fitted, separator), _elements(fitted))


def _written(parts: Sequence[_Part], limits: Sequence[int], separator: str = "\n\n") -> _Piece:
    """The body within the first of ``limits`` it can meet.

    The last limit is the campaign's: when even the fixed lines (greeting,
    signature, opt-out, address) exceed it, the body is cut hard so the limit
    still holds, and the quality checks will say what went missing.
    """
    for limit in limits:
        piece = _within(parts, limit, separator)
        if piece is not None:
            return piece
    return _Piece(_clip(_joined(parts, separator), limits[-1]), [])


class _Writer:
    """Everything one draft is written from, and the phrases it must not use."""

    def __init__(
        self,
        profile: CompanyProfile,
        analysis: Analysis,
        campaign: Campaign,
        *,
        tight: bool,
        flagged: Sequence[str],
    ) -> None:
        self.profile = profile
        self.analysis = analysis
        self.campaign = campaign
        self.seller = campaign.seller
        self.tight = tight
        """A revision: optional parts left out, every message shorter than the first draft's."""
        self.flagged = tuple(flagged)
        self.evidence = _gather_evidence(profile)
        self.industry = self.evidence.industry
        self.name = _company_name(profile)
        self.strategy = _strategy(analysis.pain_points, analysis.opportunities)
        self.pain = self._top_pain()
        self.opportunity = self._top_opportunity()
        self.featured = self._featured()
        """What the first message is about, by strategy."""
        self.featured_ids = self.cited(self.featured.fact_ids) if self.featured else ()

    def cited(self, ids: Iterable[str]) -> tuple[str, ...]:
        return tuple(_ordered_ids(self.profile, ids))

    def clean(self, text: str) -> bool:
        return _is_clean(text, self.flagged)

    # -- what the draft is about ------------------------------------------------------

    def _top_pain(self) -> PainPoint | None:
        usable = [p for p in self.analysis.pain_points if self.clean(p.description)]
        return next(iter(_by_severity(usable)), None)

    def _top_opportunity(self) -> Opportunity | None:
        usable = [o for o in self.analysis.opportunities if self.clean(o.description)]
        return next(iter(_by_priority(usable)), None)

    def _featured(self) -> PainPoint | Opportunity | None:
        if self.strategy is PersonalizationStrategy.OPPORTUNITY_FOCUSED and self.opportunity:
            return self.opportunity
        return self.pain or self.opportunity

    def second_angle(self) -> PainPoint | Opportunity | None:
        """What the first follow-up adds: the other kind of finding than the first message."""
        featured = self.featured
        if isinstance(featured, PainPoint) and self.opportunity is not None:
            return self.opportunity
        if isinstance(featured, Opportunity) and self.pain is not None:
            return self.pain
        others = [
            p for p in self.analysis.pain_points if p != featured and self.clean(p.description)
        ]
        return others[0] if others else None

    def topic(self) -> str:
        featured = self.featured
        return featured.category if featured else "your priorities this quarter"

    # -- people and fixed lines ---------------------------------------------------------

    def first_name(self) -> str | None:
        contact = self.profile.primary_contact
        if contact is None:
            return None
        words = [w for w in _plain(contact.name).split() if w.rstrip(".").lower() not in _TITLES]
        return words[0] if words else None

    def greeting(self) -> _Part:
        first = self.first_name()
        return _Part(f"Hi {first}," if first else "Hi there,")

    def signature(self) -> _Part:
        seller = self.seller
        return _Part(f"Best,\n{seller.sender_name}\n{seller.sender_title}, {seller.company}")

    def footer(self) -> _Part:
        address = self.seller.postal_address
        return _Part(f"{OPT_OUT_LINE}\n{address}" if address else OPT_OUT_LINE)

    def call_to_action(self) -> str:
        wanted = self.seller.call_to_action
        return wanted if self.clean(wanted) else "Would a short call to compare notes be useful?"

    @property
    def tone(self) -> str:
        return f"{self.seller.tone}, concise" if self.tight else self.seller.tone

    def parts(self, *middle: _Part | None) -> list[_Part]:
        """Greeting, ``middle``, signature and footer; optional parts left out when tight."""
        kept = [p for p in middle if p is not None and not (self.tight and p.optional)]
        return [self.greeting(), *kept, self.signature(), self.footer()]

    # -- building blocks ---------------------------------------------------------------

    def hook(self) -> _Part:
        """The opening line, from the most specific fact available.

        A signal behind what the message is about comes first, then news from
        the website, any other signal, the stack, the industry and size, the
        description, and at the very least the name.
        """
        for candidate in (
            self._signal_hook(featured_only=True),
            self._news_hook(),
            self._signal_hook(featured_only=False),
            self._technology_hook(),
            self._industry_hook(),
            self._description_hook(),
        ):
            if candidate is not None and self.clean(candidate.text):
                return candidate
        names = [fact.id for fact in self.profile.facts if fact.topic == "name"]
        return _Part(f"I came across {self.name} recently.", self.cited(names))

    def _signal_hook(self, *, featured_only: bool) -> _Part | None:
        wanted = set(self.featured_ids)
        for signal, ids in self.evidence.signals:
            if featured_only and not wanted & set(ids):
                continue
            text = render(signal.hook, company=self.name, product=self.seller.product)
            return _Part(text, self.cited(ids[:2]), clippable=True)
        return None

    def _news_hook(self) -> _Part | None:
        news = [fact for fact in self.profile.facts if fact.topic == "news"]
        if not news:
            return None
        quote = _clip(_plain(news[0].text), 150)
        return _Part(f"I saw this on your website: “{quote}”", (news[0].id,), clippable=True)

    def _technology_hook(self) -> _Part | None:
        if not self.evidence.technologies:
            return None
        tech, ids = self.evidence.technologies[0]
        return _Part(f"I noticed {self.name} runs {tech.name}.", self.cited(ids[:1]))

    def _industry_hook(self) -> _Part | None:
        industry_ids = self.evidence.industry_ids
        if self.industry is None or not industry_ids:
            return None
        short = self.industry.short
        if self.evidence.size_ids:
            text = f"I work with a number of {short} teams around {self.name}'s size."
            return _Part(text, self.cited([*industry_ids, *self.evidence.size_ids]))
        return _Part(f"I work with a number of {short} teams.", self.cited(industry_ids))

    def _description_hook(self) -> _Part | None:
        facts = [f for f in self.profile.facts if f.topic in ("description", "summary")]
        if not facts:
            return None
        quote = _clip(_plain(facts[0].text), 120)
        text = f"I was reading about {self.name}: “{quote}”"
        return _Part(text, (facts[0].id,), clippable=True)

    def core(self) -> _Part:
        """The paragraph that carries the strategy: the pain, the opportunity or a question."""
        featured = self.featured
        if featured is None:
            return _Part(f"I'd be curious to hear what {self.name} is focused on this quarter.")
        text = _plain(featured.description)
        if self.strategy is PersonalizationStrategy.RELATIONSHIP_BUILDING:
            text = f"{text} I'd be curious whether that matches what you see at {self.name}."
        return _Part(text, self.featured_ids, clippable=True)

    def question(self) -> str:
        """A discovery question about what the message is about, phrased for its kind."""
        featured = self.featured
        if isinstance(featured, PainPoint):
            return f"How does {self.name} handle {featured.category} today?"
        if isinstance(featured, Opportunity):
            return f"Is {featured.category} on {self.name}'s agenda this year?"
        return f"What is {self.name} focused on this quarter?"

    def value(self, avoid: str | None = None) -> tuple[_Part, str | None]:
        """The seller's best answer to what the message is about, and which proposition it was."""
        featured = self.featured
        about = f"{featured.category} {featured.description}".lower() if featured else ""
        words = tuple(re.findall(r"[a-z]{4,}", about))
        chosen = _best_value_proposition(words, self.campaign, self.flagged, avoid)
        if chosen is None:
            return _Part(f"That is the problem {self.seller.product} was built for."), None
        return _Part(_value_sentence(self.seller, chosen), clippable=True), chosen

    def proof(self, index: int = 0) -> _Part | None:
        proofs = [p for p in self.seller.proof_points if self.clean(p)]
        if not proofs:
            return None
        return _Part(_sentence(proofs[index % len(proofs)]), optional=True)

    def subject(self) -> str:
        """A short subject naming what the message is about; the shortest one in a revision."""
        limit = self.campaign.limits.subject_max
        topic = self.topic()
        title = topic[:1].upper() + topic[1:]
        if self.strategy is PersonalizationStrategy.PAIN_POINT_FOCUSED:
            candidates = [f"{title} at {self.name}", f"Question on {topic}", title]
        elif self.strategy is PersonalizationStrategy.OPPORTUNITY_FOCUSED:
            candidates = [f"Idea for {self.name}", f"An idea on {topic}", "An idea"]
        else:
            candidates = [f"Comparing notes on {topic}", f"Idea for {self.name}", title]
        fitting = [c for c in candidates if len(c) <= limit and self.clean(c)]
        if self.tight and fitting:
            return min(fitting, key=len)
        return fitting[0] if fitting else _clip(candidates[0], limit)


_TITLES = frozenset({"mr", "mrs", "ms", "mx", "dr", "prof"})
"""Honorifics skipped when finding a contact's first name."""


# -- messages --------------------------------------------------------------------------

_Caps = dict[tuple[Channel, MessageKind, int], int]
"""Per message (channel, kind, day): the length a revision must stay under."""


def _personalize(
    profile: CompanyProfile,
    analysis: Analysis,
    campaign: Campaign,
    revision_notes: Sequence[str] | None,
) -> Draft:
    """A draft; with ``revision_notes``, a tightened one, shorter than the first in every
    message and free of any phrase the notes quote."""
    flagged = _flagged_phrases(campaign)
    loose = _Writer(profile, analysis, campaign, tight=False, flagged=flagged)
    messages = _messages(loose, caps={})
    if revision_notes:
        quoted = tuple(q for note in revision_notes for q in _quoted_phrases(note))
        tight = _Writer(profile, analysis, campaign, tight=True, flagged=(*flagged, *quoted))
        caps = {(m.channel, m.kind, m.day_offset): len(m.body) - 1 for m in messages}
        messages = _messages(tight, caps)
        loose = tight
    return Draft(
        strategy=loose.strategy,
        primary_contact=profile.primary_contact,
        messages=messages,
        sequence=_sequence(messages),
        generated_by=RULES_LABEL,
    )


def _quoted_phrases(note: str) -> list[str]:
    """Phrases a quality note quotes ('act now', “synergy”) — the ones to leave out."""
    found = re.findall(r"'([^']{2,40})'|\"([^\"]{2,40})\"|“([^”]{2,40})”", note)
    return [next(group for group in groups if group) for groups in found]


def _messages(writer: _Writer, caps: _Caps) -> list[Message]:
    channels = list(writer.campaign.seller.channels) or [Channel.EMAIL]
    first_channel = writer.analysis.recommended_channel
    has_note = Channel.LINKEDIN in channels
    has_email = Channel.EMAIL in channels or not (has_note or Channel.PHONE in channels)
    email_day = 1 if has_note and first_channel is Channel.LINKEDIN else 0
    messages: list[Message] = []
    if has_email:
        messages.append(_initial_email(writer, email_day, caps))
    if has_note:
        note_day = 0 if (first_channel is Channel.LINKEDIN or not has_email) else 1
        messages.append(_connection_note(writer, note_day, caps))
    if has_email:
        messages.extend(_follow_ups(writer, messages[0], caps))
    if Channel.PHONE in channels:
        messages.append(_call_script(writer, _call_day(messages), caps))
    return messages


def _limits(caps: _Caps, key: tuple[Channel, MessageKind, int], configured: int) -> list[int]:
    """The revision's cap when there is one and it is tighter, then the configured limit."""
    cap = caps.get(key)
    return [cap, configured] if cap is not None and cap < configured else [configured]


def _initial_email(writer: _Writer, day: int, caps: _Caps) -> Message:
    key = (Channel.EMAIL, MessageKind.INITIAL, day)
    limits = _limits(caps, key, writer.campaign.limits.email_body_max)
    value, _ = writer.value()
    cta = _Part(writer.call_to_action())
    core, hook = writer.core(), writer.hook()
    if core.fact_ids:
        hook = _Part(hook.text, hook.fact_ids, optional=True, clippable=hook.clippable)
    parts = writer.parts(hook, core, value, writer.proof(), cta)
    piece = _written(parts, limits)
    return Message(
        channel=Channel.EMAIL,
        kind=MessageKind.INITIAL,
        day_offset=day,
        subject=writer.subject(),
        body=piece.body,
        tone=writer.tone,
        personalization=piece.elements,
        call_to_action=writer.call_to_action(),
    )


def _connection_note(writer: _Writer, day: int, caps: _Caps) -> Message:
    key = (Channel.LINKEDIN, MessageKind.CONNECTION_NOTE, day)
    limits = _limits(caps, key, writer.campaign.limits.linkedin_note_max)
    hook = writer.hook()
    parts = [
        writer.greeting(),
        hook,
        _connection_reason(writer, hook),
        _Part(f"– {writer.seller.sender_name}"),
    ]
    if writer.tight:
        parts = [part for part in parts if not part.optional]
    piece = _written(parts, limits, separator=" ")
    return Message(
        channel=Channel.LINKEDIN,
        kind=MessageKind.CONNECTION_NOTE,
        day_offset=day,
        body=piece.body,
        tone=writer.tone,
        personalization=piece.elements,
        call_to_action="Connect on LinkedIn",
    )


def _connection_reason(writer: _Writer, hook: _Part) -> _Part:
    """Why connect: the industry and the pain, unless the opening line already said so."""
    short = writer.industry.short if writer.industry else "B2B"
    featured = writer.featured
    if "I work with" in hook.text:
        return _Part("It seemed worth connecting.", optional=True)
    if isinstance(featured, PainPoint):
        text = f"I work with {short} teams on {featured.category}, so it seemed worth connecting."
        return _Part(text, writer.featured_ids, optional=True, clippable=True)
    return _Part(f"I work with {short} teams, so it seemed worth connecting.", optional=True)


def _follow_up_days(writer: _Writer, initial: Message) -> list[int]:
    days = sorted(set(writer.campaign.limits.follow_up_days))
    return [day for day in days if day > initial.day_offset]


def _follow_ups(writer: _Writer, initial: Message, caps: _Caps) -> list[Message]:
    """One email per follow-up day, each shorter than the one before it.

    Stops early only if a follow-up can no longer be made shorter without
    losing the signature or the opt-out line.
    """
    days = _follow_up_days(writer, initial)
    subject = _reply_subject(
        initial.subject or writer.subject(), writer.campaign.limits.subject_max
    )
    messages: list[Message] = []
    previous = len(initial.body)
    for position, day in enumerate(days):
        key = (Channel.EMAIL, MessageKind.FOLLOW_UP, day)
        limit = min(*_limits(caps, key, writer.campaign.limits.email_body_max), previous - 1)
        parts = _follow_up_parts(writer, position, len(days))
        piece = _within(parts, limit)
        if piece is None:
            break
        previous = len(piece.body)
        messages.append(
            Message(
                channel=Channel.EMAIL,
                kind=MessageKind.FOLLOW_UP,
                day_offset=day,
                subject=subject,
                body=piece.body,
                tone=writer.tone,
                personalization=piece.elements,
                call_to_action="Reply to this email",
            )
        )
    return messages


def _reply_subject(subject: str, limit: int) -> str:
    reply = f"Re: {subject}"
    return reply if len(reply) <= limit else _clip(subject, limit)


def _follow_up_parts(writer: _Writer, position: int, count: int) -> list[_Part]:
    """A new angle first, then a question, then short nudges, and a polite close last."""
    if position == count - 1 and count > 1:
        return writer.parts(_closing_line(writer))
    if position == 0:
        return writer.parts(*_new_angle(writer))
    if position == 1:
        return writer.parts(_question(writer), writer.proof(1))
    return writer.parts(_nudge(writer))


def _new_angle(writer: _Writer) -> list[_Part | None]:
    angle = writer.second_angle()
    _, first_choice = writer.value()
    if angle is None:
        line = _Part(f"Following up on my note about {writer.topic()}.")
    else:
        text = f"One more thought. {_plain(angle.description)}"
        line = _Part(text, writer.cited(angle.fact_ids), clippable=True)
    value, _ = writer.value(avoid=first_choice)
    return [line, _Part(value.text, optional=True), _Part("Worth a short conversation?")]


def _question(writer: _Writer) -> _Part:
    question = writer.question()
    text = question if writer.tight else f"A quick question: {_lower_first(question)}"
    return _Part(text, writer.featured_ids, clippable=True)


def _nudge(writer: _Writer) -> _Part:
    text = f"Checking in: is {writer.topic()} a priority for {writer.name} this quarter?"
    return _Part(text, writer.featured_ids, clippable=True)


def _closing_line(writer: _Writer) -> _Part:
    """The last follow-up: short by design, so the sequence ends on its shortest note."""
    if writer.tight:
        return _Part(f"Closing the loop on {writer.topic()}.", writer.featured_ids)
    text = f"Closing the loop on {writer.topic()}; happy to help if it comes up."
    return _Part(text, writer.featured_ids, clippable=True)


def _call_day(messages: Sequence[Message]) -> int:
    """The day after the first follow-up, when a call finds the name already familiar."""
    if not messages:
        return 0
    follow_ups = [m.day_offset for m in messages if m.kind is MessageKind.FOLLOW_UP]
    return follow_ups[0] + 1 if follow_ups else max(m.day_offset for m in messages) + 2


_CALL_SCRIPT_FACTOR = 2
"""A call script has no configured limit; it stays within twice an email's."""


def _call_script(writer: _Writer, day: int, caps: _Caps) -> Message:
    key = (Channel.PHONE, MessageKind.CALL_SCRIPT, day)
    limits = _limits(caps, key, _CALL_SCRIPT_FACTOR * writer.campaign.limits.email_body_max)
    first = writer.first_name() or "there"
    seller = writer.seller
    featured = writer.featured
    reason = _plain(featured.description) if featured else f"I wanted to learn about {writer.name}."
    value, _ = writer.value()
    parts = [
        _Part(f"Opener: Hi {first}, this is {seller.sender_name} from {seller.company}."),
        _Part(f"Why I'm calling: {reason}", writer.featured_ids, clippable=True),
        _Part(f"Ask: {writer.question()}"),
        _Part("Ask: Who else is involved when the team looks at tools for this?", optional=True),
        _Part(f"Value: {value.text}", clippable=True),
        _Part(f"Close: {writer.call_to_action()}"),
        _Part("If it isn't relevant: thank them, and don't call again."),
        _Part(
            f"Voicemail: Hi {first}, {seller.sender_name} from {seller.company}, calling about "
            f"{writer.topic()}. I'll follow up in writing."
        ),
    ]
    piece = _written([p for p in parts if not (writer.tight and p.optional)], limits, "\n")
    return Message(
        channel=Channel.PHONE,
        kind=MessageKind.CALL_SCRIPT,
        day_offset=day,
        body=piece.body,
        tone=writer.tone,
        personalization=piece.elements,
        call_to_action=writer.call_to_action(),
    )


def _sequence(messages: Sequence[Message]) -> list[SequenceStep]:
    order = sorted(range(len(messages)), key=lambda i: (messages[i].day_offset, i))
    return [
        SequenceStep(day=messages[i].day_offset, channel=messages[i].channel, message_index=i)
        for i in order
    ]
