"""Outreach quality checks: named rules that judge a draft before it counts.

Every rule looks at one thing and returns a :class:`QualityCheck` whose detail
says which message failed and why, since that detail is what a revision is asked
to fix and what a reviewer reads. A failure either calls for a rewrite
(``revise``: too long, spammy, a placeholder left in) or for a person
(``escalate``: a claim that no fact supports, or a compliance gap — no opt-out,
no sender identity, no postal address).

The rules are pure functions of the draft, the profile and the campaign: no I/O
and no clock, so the same draft always gets the same report.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from .campaign import Campaign
from .lint import seams_in, untrusted_runs
from .models import (
    Channel,
    CompanyProfile,
    Message,
    MessageKind,
    QualityCheck,
    QualityDecision,
    QualityReport,
    domain_of,
)
from .phrases import mentions, mentions_any
from .providers.base import Draft
from .untrusted import links_in, within_domains

__all__ = ["RULES", "SPAM_PHRASES", "QualityRule", "check_outreach", "decide"]

FindProblems = Callable[[Draft, CompanyProfile, Campaign], list[str]]
"""A rule's test: one readable sentence per problem found, none when it passes."""


@dataclass(frozen=True, slots=True)
class QualityRule:
    """One named check: what it looks for, and what a failure calls for."""

    name: str
    on_fail: Literal["revise", "escalate"]
    passed_detail: str
    find_problems: FindProblems

    def check(self, draft: Draft, profile: CompanyProfile, campaign: Campaign) -> QualityCheck:
        problems = self.find_problems(draft, profile, campaign)
        return QualityCheck(
            rule=self.name,
            passed=not problems,
            detail="; ".join(problems) or self.passed_detail,
            on_fail=self.on_fail,
        )


def check_outreach(draft: Draft, profile: CompanyProfile, campaign: Campaign) -> QualityReport:
    """Every rule in :data:`RULES`, in order, and the decision they add up to."""
    checks = [rule.check(draft, profile, campaign) for rule in RULES.values()]
    return QualityReport(checks=checks, decision=decide(checks))


def decide(checks: Iterable[QualityCheck]) -> QualityDecision:
    """PASS when nothing failed; ESCALATE when a failure needs a person; else REVISE."""
    failed = [check for check in checks if not check.passed]
    if not failed:
        return QualityDecision.PASS
    if any(check.on_fail == "escalate" for check in failed):
        return QualityDecision.ESCALATE
    return QualityDecision.REVISE


# -- shared reading helpers ----------------------------------------------------------


def _label(index: int, message: Message) -> str:
    """How a detail names a message: its 1-based position, channel and kind."""
    return f"message {index + 1} ({message.channel.value} {message.kind.value})"


def _emails(draft: Draft) -> list[tuple[int, Message]]:
    return [(i, m) for i, m in enumerate(draft.messages) if m.channel is Channel.EMAIL]


def _wording(message: Message) -> str:
    """Everything the recipient reads: subject, body and call to action."""
    return "\n".join(
        part for part in (message.subject, message.body, message.call_to_action) if part
    )


_LEGAL_SUFFIX = re.compile(r"[,\s]+(?:inc|llc|ltd|limited|gmbh|corp|co|plc|ag|sa|bv)\.?$", re.I)


def _name_forms(name: str) -> tuple[str, ...]:
    """A company name as written and without its legal suffix (``Acme, Inc.`` → ``Acme``)."""
    short = _LEGAL_SUFFIX.sub("", name.strip())
    return tuple(dict.fromkeys(form for form in (name.strip(), short) if form))


def _names(text: str, name: str) -> bool:
    return any(mentions(text, form) for form in _name_forms(name))


# -- length rules ----------------------------------------------------------------------


def _subject_length(draft: Draft, profile: CompanyProfile, campaign: Campaign) -> list[str]:
    """Long subjects get cut off in inboxes; an opening email needs one at all."""
    limit = campaign.limits.subject_max
    problems = []
    for index, message in _emails(draft):
        subject = (message.subject or "").strip()
        if not subject and message.kind is MessageKind.INITIAL:
            problems.append(f"{_label(index, message)} has no subject")
        elif len(subject) > limit:
            problems.append(
                f"{_label(index, message)}: subject is {len(subject)} characters, limit {limit}"
            )
    return problems


def _too_long(messages: Iterable[tuple[int, Message]], limit: int) -> list[str]:
    return [
        f"{_label(index, message)}: body is {len(message.body.strip())} characters, limit {limit}"
        for index, message in messages
        if len(message.body.strip()) > limit
    ]


def _email_body_length(draft: Draft, profile: CompanyProfile, campaign: Campaign) -> list[str]:
    """Cold emails that need scrolling go unread."""
    return _too_long(_emails(draft), campaign.limits.email_body_max)


def _linkedin_note_length(draft: Draft, profile: CompanyProfile, campaign: Campaign) -> list[str]:
    """LinkedIn refuses connection notes past its limit, so a long one cannot be sent."""
    notes = [
        (index, message)
        for index, message in enumerate(draft.messages)
        if message.kind is MessageKind.CONNECTION_NOTE
    ]
    return _too_long(notes, campaign.limits.linkedin_note_max)


def _follow_ups_shorter(draft: Draft, profile: CompanyProfile, campaign: Campaign) -> list[str]:
    """A follow-up is a nudge, not a second pitch: each must be shorter than the
    message it follows on the same channel (connection notes and call scripts aside)."""
    problems = []
    for channel in Channel:
        thread = sorted(
            (
                (index, message)
                for index, message in enumerate(draft.messages)
                if message.channel is channel
                and message.kind in (MessageKind.INITIAL, MessageKind.FOLLOW_UP)
            ),
            key=lambda pair: pair[1].day_offset,
        )
        for (_, before), (index, message) in itertools.pairwise(thread):
            length, previous = len(message.body.strip()), len(before.body.strip())
            if message.kind is MessageKind.FOLLOW_UP and length >= previous:
                problems.append(
                    f"{_label(index, message)} is {length} characters, not shorter than "
                    f"the {previous} of the message before it"
                )
    return problems


# -- wording rules ---------------------------------------------------------------------

SPAM_PHRASES: tuple[str, ...] = (
    "act now",
    "100% free",
    "guaranteed",
    "risk-free",
    "click here",
    "limited time",
    "no obligation",
    "winner",
    "congratulations",
    "buy now",
    "order now",
    "call now",
    "apply now",
    "special promotion",
    "once in a lifetime",
    "no strings attached",
    "no catch",
    "this is not spam",
    "dear friend",
    "double your",
    "earn extra cash",
    "cash bonus",
    "best price",
    "lowest price",
    "exclusive deal",
    "you have been selected",
    "what are you waiting for",
)
"""Phrases that spam filters and wary readers both punish; campaigns add their own."""


def _spam_phrases(draft: Draft, profile: CompanyProfile, campaign: Campaign) -> list[str]:
    """Spam-trigger phrases send a cold email to the junk folder."""
    phrases = [p for p in (*SPAM_PHRASES, *campaign.limits.extra_spam_phrases) if p.strip()]
    problems = []
    for index, message in enumerate(draft.messages):
        wording = _wording(message)
        if not mentions_any(wording, phrases):
            continue
        found = dict.fromkeys(p.strip().lower() for p in phrases if mentions(wording, p))
        quoted = ", ".join(f"'{phrase}'" for phrase in found)
        problems.append(f"{_label(index, message)} uses spam phrases: {quoted}")
    return problems


_PLACEHOLDERS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(regex, flags)
    for regex, flags in (
        (r"\{\{[^{}]*\}\}", 0),  # {{first_name}}
        (r"(?<!\{)\{[^{}\s][^{}]{0,40}\}(?!\})", 0),  # {company}
        (r"\[[A-Za-z][\w .'-]{0,40}\]", 0),  # [First Name]
        (r"<[A-Za-z][\w -]{0,40}>", 0),  # <company>
        (r"%(?:\([A-Za-z_]\w*\))?[sd](?!\w)", 0),  # %s, %(name)s
        (r"\b(?:INSERT|TODO|TBD|FIXME|XXX)\b", 0),  # upper case only: markers, not words
        (r"\blorem ipsum\b", re.IGNORECASE),
    )
)


def _unfilled_placeholders(draft: Draft, profile: CompanyProfile, campaign: Campaign) -> list[str]:
    """A template slot left in ("Hi {first_name}") shows the email is a mass mailing."""
    problems = []
    for index, message in enumerate(draft.messages):
        wording = _wording(message)
        found = dict.fromkeys(
            match.group() for pattern in _PLACEHOLDERS for match in pattern.finditer(wording)
        )
        if found:
            quoted = ", ".join(f"'{placeholder}'" for placeholder in found)
            problems.append(f"{_label(index, message)} has unfilled placeholders: {quoted}")
    return problems


_LABEL_TOPICS = frozenset({"industry", "name"})
"""Facts that only label a company: a claim resting on them alone is a guess."""


def _grounded_claims(draft: Draft, profile: CompanyProfile, campaign: Campaign) -> list[str]:
    """Every claim about the prospect must trace to a sourced fact, or it may be invented.

    A message cites facts through its personalization elements; one that names the
    company (or a technology research found) without citing anything makes claims
    nobody can check. Only a message citing nothing is read for names at all.
    """
    known = profile.fact_ids()
    topics = {fact.id: fact.topic for fact in profile.facts}
    specifics = [profile.company.name, *profile.technologies]
    problems = []
    for index, message in enumerate(draft.messages):
        cited = [fact_id for element in message.personalization for fact_id in element.fact_ids]
        unknown = [fact_id for fact_id in dict.fromkeys(cited) if fact_id not in known]
        labelled = next(
            (
                element.text
                for element in message.personalization
                if "?" not in element.text
                and "industry" in (cited_topics := {topics.get(i) for i in element.fact_ids})
                and cited_topics <= _LABEL_TOPICS
            ),
            None,
        )
        if unknown:
            problems.append(
                f"{_label(index, message)} cites facts not in the profile: {', '.join(unknown)}"
            )
        elif labelled is not None:
            problems.append(
                f"{_label(index, message)} states as fact what only the industry label "
                f"suggests (ask it as a question): '{labelled[:60]}'"
            )
        elif not cited:
            wording = _wording(message)
            mentioned = next((term for term in specifics if _names(wording, term)), None)
            if mentioned:
                problems.append(f"{_label(index, message)} mentions {mentioned} but cites no facts")
    return problems


# -- compliance rules ------------------------------------------------------------------

_NOT_CONTACT_AGAIN = r"(?:follow\s+up|reach\s+out|contact\s+you|email\s+you)"
"""What an opt-out line promises the sender won't do again."""

_OPT_OUT_LINES: tuple[re.Pattern[str], ...] = tuple(
    re.compile(regex, re.IGNORECASE)
    for regex in (
        r"\bunsubscribe\b",
        r"\bopt[\s-]?out\b",
        r"\breply(?:\s+with)?\s+[\"'“‘]?(?:no|stop|remove|unsubscribe)\b",
        rf"\b(?:won[’']?t|will\s+not)\s+{_NOT_CONTACT_AGAIN}",
        r"\brather\s+not\b",
        r"\bno\s+longer\s+(?:wish|want)\s+to\b",
        r"\bremove\s+you\s+from\b",
    )
)


def _has_opt_out(text: str) -> bool:
    return any(line.search(text) for line in _OPT_OUT_LINES)


def _opt_out_line(draft: Draft, profile: CompanyProfile, campaign: Campaign) -> list[str]:
    """Commercial email must tell the reader how to stop it (CAN-SPAM, GDPR)."""
    return [
        f"{_label(index, message)} has no opt-out line"
        for index, message in _emails(draft)
        if not _has_opt_out(message.body)
    ]


def _sender_identified(draft: Draft, profile: CompanyProfile, campaign: Campaign) -> list[str]:
    """The reader must see who is writing and for which company."""
    seller = campaign.seller
    problems = []
    for index, message in _emails(draft):
        body = message.body
        missing = [
            f"{role} ({name})"
            for role, name in (("the sender", seller.sender_name), ("the company", seller.company))
            if not _names(body, name)
        ]
        if missing:
            problems.append(f"{_label(index, message)} does not name {' or '.join(missing)}")
    return problems


def _flatten_address(text: str) -> str:
    """Lower case with commas and line breaks as single spaces, so a footer written on
    several lines matches an address configured on one."""
    return " ".join(text.replace(",", " ").lower().split())


def _postal_address(draft: Draft, profile: CompanyProfile, campaign: Campaign) -> list[str]:
    """CAN-SPAM asks for the sender's postal address in every commercial email."""
    address = campaign.seller.postal_address
    if not address or not address.strip():
        return []
    wanted = _flatten_address(address)
    return [
        f"{_label(index, message)} lacks the postal address ({address.strip()})"
        for index, message in _emails(draft)
        if wanted not in _flatten_address(message.body)
    ]


def _draft_linter(draft: Draft, profile: CompanyProfile, campaign: Campaign) -> list[str]:
    """Seams — ``Inc..``, ``Markets's``, empty slots, a sentence twice, a pasted list,
    text copied from the company's page — show a draft was assembled, not written."""
    boilerplate = [campaign.seller.postal_address or ""]
    runs = untrusted_runs(profile)
    return [
        f"{_label(index, message)} has {', '.join(seams)}"
        for index, message in enumerate(draft.messages)
        if (seams := seams_in(message, runs, boilerplate))
    ]


def _allowed_domains(profile: CompanyProfile, campaign: Campaign) -> set[str]:
    """The seller's own domains and the company's own: the only places a draft may point."""
    seller, company = campaign.seller, profile.company
    contacts = [c for c in (*profile.key_contacts, profile.primary_contact) if c is not None]
    addresses = [
        seller.website,
        _email_domain(seller.sender_email),
        company.domain,
        company.website,
        profile.website,
        *(_email_domain(contact.email) for contact in contacts),
    ]
    return {domain for address in addresses if (domain := domain_of(address))}


def _email_domain(email: str | None) -> str | None:
    return email.rsplit("@", 1)[-1] if email and "@" in email else None


def _no_untrusted_links(draft: Draft, profile: CompanyProfile, campaign: Campaign) -> list[str]:
    """A link, address or markup the seller did not write may be a phishing lure
    copied from a web page: only the seller's and the company's own domains pass,
    and technologies research found may be named (``Outreach.io``)."""
    allowed = _allowed_domains(profile, campaign)
    named = {domain for tech in profile.technologies if (domain := domain_of(tech))}
    problems = []
    for index, message in enumerate(draft.messages):
        untrusted = [
            link.text
            for link in links_in(_wording(message))
            if not within_domains(link.host, allowed)
            and not (link.kind == "host" and link.host in named)
        ]
        if untrusted:
            quoted = ", ".join(f"'{text[:80]}'" for text in dict.fromkeys(untrusted))
            problems.append(
                f"{_label(index, message)} links outside the seller and company: {quoted}"
            )
    return problems


RULES: Mapping[str, QualityRule] = MappingProxyType(
    {
        rule.name: rule
        for rule in (
            QualityRule(
                "subject_length", "revise", "email subjects fit the limit", _subject_length
            ),
            QualityRule(
                "email_body_length", "revise", "email bodies fit the limit", _email_body_length
            ),
            QualityRule(
                "linkedin_note_length",
                "revise",
                "connection notes fit the limit",
                _linkedin_note_length,
            ),
            QualityRule(
                "follow_ups_shorter",
                "revise",
                "each follow-up is shorter than the message before it",
                _follow_ups_shorter,
            ),
            QualityRule("spam_phrases", "revise", "no spam phrases", _spam_phrases),
            QualityRule(
                "unfilled_placeholders",
                "revise",
                "no unfilled placeholders",
                _unfilled_placeholders,
            ),
            QualityRule("draft_linter", "revise", "no seams in the wording", _draft_linter),
            QualityRule(
                "grounded_claims",
                "escalate",
                "every claim cites facts from the profile",
                _grounded_claims,
            ),
            QualityRule(
                "no_untrusted_links",
                "escalate",
                "no links, addresses or markup beyond the seller's and the company's own",
                _no_untrusted_links,
            ),
            QualityRule(
                "opt_out_line", "escalate", "every email has an opt-out line", _opt_out_line
            ),
            QualityRule(
                "sender_identified",
                "escalate",
                "every email names the sender and the company",
                _sender_identified,
            ),
            QualityRule(
                "postal_address",
                "escalate",
                "every email carries the postal address, when the campaign sets one",
                _postal_address,
            ),
        )
    }
)
"""The rules :func:`check_outreach` runs, by their stable names (used in metrics)."""
