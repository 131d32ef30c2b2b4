"""Research by rules: the lead row and the website page read into sourced facts."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ...campaign import Campaign, Icp, Seller
from ...facts import FactBook, facts_from_company
from ...knowledge import KnowledgeBase, SignalRule, campaign_knowledge, mentions, mentions_any
from ...models import (
    Company,
    CompanyProfile,
    CompanySize,
    FactSource,
)
from ...untrusted import sanitise_quote
from ...website import WebPage
from .common import RULES_LABEL, about_business

_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[\"“'(A-Z0-9])")
_QUOTE_MAX = 240
_MAX_NEWS = 3
_MAX_SIGNAL_SENTENCES = 5
_MAX_HIGHLIGHTS = 2


def research_company(company: Company, page: WebPage | None, campaign: Campaign) -> CompanyProfile:
    kb = campaign_knowledge(campaign)
    book = facts_from_company(company)
    warnings: list[str] = []
    usable = _usable_page(page, warnings)
    news: list[str] = []
    if usable is not None:
        news = _add_website_facts(book, usable, company, campaign.icp, kb)
    industry = _profile_industry(company, book, kb)
    size = CompanySize.from_employees(company.employees) if company.employees is not None else None
    business_text = " ".join(
        fact.text for fact in book.facts if about_business(fact) and fact.topic != "industry"
    )
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
        primary_contact=kb.choose_primary_contact(
            contacts, size, seller_functions(campaign.seller, kb)
        ),
        technologies=[
            tech.name
            for tech in kb.technologies_in(business_text)
            if not mentions(company.name, tech.name)  # its own product, not its stack
        ],
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


def _add_website_facts(
    book: FactBook, page: WebPage, company: Company, icp: Icp, kb: KnowledgeBase
) -> list[str]:
    """Facts from the page, each sourced to the URL it was read from; returns the news found."""

    def source(detail: str) -> FactSource:
        return FactSource(kind="website", url=page.final_url, detail=detail)

    title = sanitise_quote(page.title or "", _QUOTE_MAX)
    if title:
        book.add("title", f"Website title: {title}", source("title"))
    description = sanitise_quote(page.description or "", _QUOTE_MAX)
    if description and description != sanitise_quote(company.description or "", _QUOTE_MAX):
        book.add("summary", f"Website description: {description}", source("meta description"))
    whole_page = " ".join([page.title or "", page.description or "", page.text, *page.links])
    for tech in kb.technologies_in(whole_page):
        detail = f"{tech.category} named on the page"
        book.add("technology", f"The website mentions {tech.name}.", source(detail))
    sentences = _sentences(page.text)
    news = [s for s in sentences if mentions_any(s, kb.news_markers)]
    news = news[:_MAX_NEWS]
    for sentence in news:
        book.add("news", sentence, source("news on the page"))
    used = set(news)
    for signal, sentence in _signal_sentences(sentences, used, kb)[:_MAX_SIGNAL_SENTENCES]:
        used.add(sentence)
        book.add("signal", sentence, source(f"{signal.label} signal"))
    highlights = [s for s in sentences if s not in used and mentions_any(s, icp.keywords)]
    for sentence in highlights[:_MAX_HIGHLIGHTS]:
        book.add("highlight", sentence, source("sentence naming an ICP keyword"))
    return news


def _sentences(text: str) -> list[str]:
    """The page's sentences long enough to say something, each without links or markup
    and clipped to a quotable length: the page is untrusted text."""
    found: list[str] = []
    for raw in _SENTENCE_BREAK.split(text):
        sentence = sanitise_quote(raw, _QUOTE_MAX)
        if len(sentence) >= 25 and sentence not in found:
            found.append(sentence)
    return found


def _signal_sentences(
    sentences: Sequence[str], used: set[str], kb: KnowledgeBase
) -> list[tuple[SignalRule, str]]:
    """The first unused sentence revealing each signal, in the order of the signals table."""
    found: list[tuple[SignalRule, str]] = []
    taken = set(used)
    for signal in kb.signals:
        for sentence in sentences:
            if sentence not in taken and mentions_any(sentence, signal.keywords):
                found.append((signal, sentence))
                taken.add(sentence)
                break
    return found


def _profile_industry(company: Company, book: FactBook, kb: KnowledgeBase) -> str | None:
    """The industry as the knowledge base names it; inferred from the facts when not given.

    An inferred industry becomes a fact of its own, sourced to the rules and
    naming the fact it was read from, so claims built on it stay traceable.
    """
    if company.industry and company.industry.strip():
        known = kb.industry_for(company.industry)
        return known[0].label if known else company.industry.strip()
    for fact in list(book.facts):
        if not about_business(fact):
            continue
        known = kb.industry_for(fact.text)
        if known:
            industry, alias = known
            text = f"Industry inferred as {industry.label} from “{alias}” in {fact.id}."
            rules = FactSource(kind="rules", url=fact.source.url, detail=f"keyword in {fact.id}")
            book.add("industry", text, rules)
            return industry.label
    return None


def seller_functions(seller: Seller, kb: KnowledgeBase) -> tuple[str, ...]:
    offer = " ".join([seller.product, *seller.value_propositions])
    return kb.buyer_functions(offer)
