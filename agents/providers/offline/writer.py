"""What a draft says: its strategy, its subject, its opening, its core and its value line."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from ...campaign import Campaign
from ...grammar import clip, possessive, sentence
from ...knowledge import (
    render,
)
from ...models import (
    Analysis,
    CompanyProfile,
    Opportunity,
    PainPoint,
    PersonalizationStrategy,
)
from .common import OPT_OUT_LINE, company_name, ordered_ids, plain
from .evidence import gather_evidence
from .findings import (
    best_value_proposition,
    by_priority,
    by_severity,
    choose_strategy,
    is_clean,
    value_sentence,
)
from .layout import Part


class Writer:
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
        self.evidence = gather_evidence(profile)
        self.industry = self.evidence.industry
        self.name = company_name(profile)
        self.strategy = choose_strategy(analysis.pain_points, analysis.opportunities)
        self.pain = self._top_pain()
        self.opportunity = self._top_opportunity()
        self.featured = self._featured()
        """What the first message is about, by strategy."""
        self.featured_ids = self.cited(self.featured.fact_ids) if self.featured else ()

    def cited(self, ids: Iterable[str]) -> tuple[str, ...]:
        return tuple(ordered_ids(self.profile, ids))

    def clean(self, text: str) -> bool:
        return is_clean(text, self.flagged)

    # -- what the draft is about ------------------------------------------------------

    def _top_pain(self) -> PainPoint | None:
        usable = [p for p in self.analysis.pain_points if self.clean(p.description)]
        return next(iter(by_severity(usable)), None)

    def _top_opportunity(self) -> Opportunity | None:
        usable = [o for o in self.analysis.opportunities if self.clean(o.description)]
        return next(iter(by_priority(usable)), None)

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
        words = [w for w in plain(contact.name).split() if w.rstrip(".").lower() not in _TITLES]
        return words[0] if words else None

    def greeting(self) -> Part:
        first = self.first_name()
        return Part(f"Hi {first}," if first else "Hi there,")

    def signature(self) -> Part:
        seller = self.seller
        return Part(f"Best,\n{seller.sender_name}\n{seller.sender_title}, {seller.company}")

    def footer(self) -> Part:
        address = self.seller.postal_address
        return Part(f"{OPT_OUT_LINE}\n{address}" if address else OPT_OUT_LINE)

    def call_to_action(self) -> str:
        wanted = self.seller.call_to_action
        return wanted if self.clean(wanted) else "Would a short call to compare notes be useful?"

    @property
    def tone(self) -> str:
        return f"{self.seller.tone}, concise" if self.tight else self.seller.tone

    def parts(self, *middle: Part | None) -> list[Part]:
        """Greeting, ``middle``, signature and footer; optional parts left out when tight."""
        kept = [p for p in middle if p is not None and not (self.tight and p.optional)]
        return [self.greeting(), *kept, self.signature(), self.footer()]

    # -- building blocks ---------------------------------------------------------------

    def hook(self) -> Part:
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
        return Part(f"I came across {self.name} recently.", self.cited(names))

    def _signal_hook(self, *, featured_only: bool) -> Part | None:
        wanted = set(self.featured_ids)
        for signal, ids in self.evidence.signals:
            if featured_only and not wanted & set(ids):
                continue
            text = render(signal.hook, company=self.name, product=self.seller.product)
            return Part(text, self.cited(ids[:2]), clippable=True)
        return None

    def _news_hook(self) -> Part | None:
        news = [fact for fact in self.profile.facts if fact.topic == "news"]
        if not news:
            return None
        quote = clip(plain(news[0].text), 150)
        return Part(f"I saw this on your website: “{quote}”", (news[0].id,), clippable=True)

    def _technology_hook(self) -> Part | None:
        if not self.evidence.technologies:
            return None
        tech, ids = self.evidence.technologies[0]
        return Part(f"I noticed {self.name} runs {tech.name}.", self.cited(ids[:1]))

    def _industry_hook(self) -> Part | None:
        industry_ids = self.evidence.industry_ids
        if self.industry is None or not industry_ids:
            return None
        short = self.industry.short
        if self.evidence.size_ids:
            text = f"I work with a number of {short} teams around {possessive(self.name)} size."
            return Part(text, self.cited([*industry_ids, *self.evidence.size_ids]))
        return Part(f"I work with a number of {short} teams.", self.cited(industry_ids))

    def _description_hook(self) -> Part | None:
        facts = [f for f in self.profile.facts if f.topic in ("description", "summary")]
        if not facts:
            return None
        quote = clip(plain(facts[0].text), 120)
        text = f"I was reading about {self.name}: “{quote}”"
        return Part(text, (facts[0].id,), clippable=True)

    def core(self) -> Part:
        """The paragraph that carries the strategy: the pain, the opportunity or a question."""
        featured = self.featured
        if featured is None:
            return Part(f"I'd be curious to hear what {self.name} is focused on this quarter.")
        text = plain(featured.description)
        if self.strategy is PersonalizationStrategy.RELATIONSHIP_BUILDING:
            text = f"{text} I'd be curious whether that matches what you see at {self.name}."
        return Part(text, self.featured_ids, clippable=True)

    def question(self) -> str:
        """A discovery question about what the message is about, phrased for its kind."""
        featured = self.featured
        if isinstance(featured, PainPoint):
            return f"How does {self.name} handle {featured.category} today?"
        if isinstance(featured, Opportunity):
            return f"Is {featured.category} on {possessive(self.name)} agenda this year?"
        return f"What is {self.name} focused on this quarter?"

    def value(self, avoid: str | None = None) -> tuple[Part, str | None]:
        """The seller's best answer to what the message is about, and which proposition it was."""
        featured = self.featured
        about = f"{featured.category} {featured.description}".lower() if featured else ""
        words = tuple(re.findall(r"[a-z]{4,}", about))
        chosen = best_value_proposition(words, self.campaign, self.flagged, avoid)
        if chosen is None:
            return Part(f"That is the problem {self.seller.product} was built for."), None
        return Part(value_sentence(self.seller, chosen), clippable=True), chosen

    def proof(self, index: int = 0) -> Part | None:
        proofs = [p for p in self.seller.proof_points if self.clean(p)]
        if not proofs:
            return None
        return Part(sentence(proofs[index % len(proofs)]), optional=True)

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
        return fitting[0] if fitting else clip(candidates[0], limit)


_TITLES = frozenset({"mr", "mrs", "ms", "mx", "dr", "prof"})
"""Honorifics skipped when finding a contact's first name."""
