"""What a draft says: its strategy, its subject, its opening, its core and its value line."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from ...campaign import Campaign
from ...grammar import clip, lower_first, possessive, sentence, upper_first
from ...knowledge import campaign_knowledge, render
from ...models import (
    Analysis,
    CompanyProfile,
    Opportunity,
    PainPoint,
    PersonalizationStrategy,
)
from .common import OPT_OUT_LINE, company_name, is_hypothesis, ordered_ids, plain
from .evidence import gather_evidence
from .findings import by_priority, by_severity, choose_strategy
from .layout import Part
from .proofs import relevant_proofs
from .research import seller_functions
from .values import best_value_proposition, is_clean, value_sentence


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
        self.kb = campaign_knowledge(campaign)
        self.evidence = gather_evidence(profile, self.kb)
        self.industry = self.evidence.industry
        self.name = company_name(profile)
        self.strategy = choose_strategy(profile, analysis.pain_points, analysis.opportunities)
        self.pain = self._top_pain()
        self.opportunity = self._top_opportunity()
        self.featured = self._featured()
        """What the first message is about, by strategy."""
        self.featured_ids = self.cited(self.featured.fact_ids) if self.featured else ()
        self.hypothesis = self.featured is not None and is_hypothesis(profile, self.featured_ids)
        """The featured finding rests only on the industry label: asked, not asserted."""
        self.name_ids = self.cited(f.id for f in profile.facts if f.topic == "name")
        """What a line naming the company (a subject, a closing) rests on."""
        self.proofs = relevant_proofs(campaign, profile.industry, self.kb, self.clean)

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
        if first:
            return Part(f"Hi {first},")
        return Part(self.kb.data.unnamed_greeting or "Hello,")

    def unnamed_opening(self) -> Part | None:
        """Whom the message is for, by role, when the contact's name is unknown."""
        template = self.kb.data.unnamed_opening
        if self.first_name() or not template:
            return None
        return Part(self.render(template))

    @property
    def role(self) -> str:
        """The buying function the seller sells to, as a sentence puts it."""
        function = seller_functions(self.seller, self.kb)[0]
        return self.kb.data.function_names.get(function, function)

    def render(self, template: str) -> str:
        """A knowledge template filled for this company, product and role."""
        return render(template, company=self.name, product=self.seller.product, role=self.role)

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
            text = self.render(signal.hook)
            return Part(text, self.cited(ids[:2]), clippable=True)
        return None

    def _news_hook(self) -> Part | None:
        """News is referred to by what it is about, never quoted: a page's words are not ours."""
        news = [fact for fact in self.profile.facts if fact.topic == "news"]
        if not news:
            return None
        about = [signal.label for signal in self.kb.signals_in(news[0].text)]
        if about:
            text = f"I read the {about[0]} news on {possessive(self.name)} website."
        else:
            text = f"I read the latest news on {possessive(self.name)} website."
        return Part(text, (news[0].id,))

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
        short = self.industry.short if self.industry else None
        where = f" in {self.profile.location}" if self.profile.location else ""
        if short:
            text = f"I was reading about what {self.name} does in {short}{where}."
        else:
            text = f"I was reading about what {self.name} does{where}."
        return Part(text, (facts[0].id,))

    def core(self) -> Part:
        """The paragraph that carries the strategy: the pain, the opportunity or a question."""
        featured = self.featured
        if featured is None:
            return Part(f"I'd be curious to hear what {self.name} is focused on this quarter.")
        claim = self.claim(featured)
        if self.hypothesis or self.strategy is not PersonalizationStrategy.RELATIONSHIP_BUILDING:
            return claim
        text = f"{claim.text} I'd be curious whether that matches what you see at {self.name}."
        return Part(text, claim.fact_ids, clippable=True)

    def claim(self, finding: PainPoint | Opportunity) -> Part:
        """A finding as the draft puts it: asserted when the company's own facts show it,
        asked as a question when only its industry label suggests it."""
        ids = self.cited(finding.fact_ids)
        text = plain(finding.description)
        if is_hypothesis(self.profile, ids):
            short = self.industry.short if self.industry else "companies like yours"
            text = f"In {short}, {lower_first(text)} Is that true at {self.name} too?"
        return Part(text, ids, clippable=True)

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
        """A customer result that fits the company's industry; a generic one only when none
        does; none at all rather than one made for another industry."""
        if not self.proofs:
            return None
        return Part(sentence(self.proofs[index % len(self.proofs)]), optional=True)

    def _fact_subjects(self) -> list[str]:
        """Subjects from the company's own strongest fact: a signal, then a technology,
        then where it is and how big, each naming the company."""
        subjects = [
            upper_first(self.render(signal.subject))
            for signal, _ in self.evidence.signals
            if signal.subject
        ][:1]
        if self.evidence.technologies and self.featured is not None:
            tech, _ = self.evidence.technologies[0]
            subjects.append(f"{upper_first(self.topic())} beside {tech.name}")
        if self.hypothesis:
            subjects.append(f"A question on {self.topic()} at {self.name}")
        return subjects

    def subject(self) -> str:
        """A short subject naming what the message is about; the shortest one in a revision."""
        limit = self.campaign.limits.subject_max
        topic = self.topic()
        title = upper_first(topic)
        candidates = [*self._fact_subjects(), f"{title} at {self.name}", title]
        fitting = [c for c in candidates if len(c) <= limit and self.clean(c)]
        if self.tight and fitting:
            return min(fitting, key=len)
        return fitting[0] if fitting else clip(candidates[0], limit)


_TITLES = frozenset({"mr", "mrs", "ms", "mx", "dr", "prof"})
"""Honorifics skipped when finding a contact's first name."""
