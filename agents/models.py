"""The sales domain: what goes in (a company), what research, analysis and
personalization produce, and how every claim points back at a sourced fact.

Everything is validated by pydantic so it checks LLM output, round-trips through
JSON (events, the store, exports) and documents itself. The small records that
come by the dozen in every profile, analysis and draft (facts, pain points,
messages…) are frozen, slotted pydantic dataclasses rather than models: a model
instance carries a ``__dict__`` and a set of the fields it was given (~1.1 KB
for six fields), a slotted dataclass ~150 bytes, and every in-flight workflow
holds its step's inputs while it waits for the model. Change one with
:func:`dataclasses.replace`, which validates again.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.dataclasses import dataclass

__all__ = [
    "Analysis",
    "Channel",
    "Company",
    "CompanyProfile",
    "CompanySize",
    "Contact",
    "Fact",
    "FactSource",
    "Message",
    "MessageKind",
    "Objection",
    "Opportunity",
    "Outreach",
    "PainPoint",
    "PersonalizationElement",
    "PersonalizationStrategy",
    "Priority",
    "QualityCheck",
    "QualityDecision",
    "QualityReport",
    "ScoreReason",
    "SequenceStep",
    "Severity",
    "TalkingPoint",
    "Tier",
    "domain_of",
]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


_RECORD = ConfigDict(extra="forbid")
"""The config of the slotted records, used as ``@dataclass(..., config=_RECORD)``
on each (spelled out every time so that type checkers see a dataclass)."""


class CompanySize(StrEnum):
    STARTUP = "startup"
    MID_MARKET = "mid-market"
    ENTERPRISE = "enterprise"

    @classmethod
    def from_employees(cls, employees: int) -> CompanySize:
        """Under 200 people is a startup, under 2,000 mid-market, else enterprise."""
        if employees < 200:
            return cls.STARTUP
        if employees < 2000:
            return cls.MID_MARKET
        return cls.ENTERPRISE


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Priority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    URGENT = "urgent"


class Channel(StrEnum):
    EMAIL = "email"
    LINKEDIN = "linkedin"
    PHONE = "phone"


class PersonalizationStrategy(StrEnum):
    PAIN_POINT_FOCUSED = "pain-point-focused"
    OPPORTUNITY_FOCUSED = "opportunity-focused"
    RELATIONSHIP_BUILDING = "relationship-building"


class Tier(StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"


class QualityDecision(StrEnum):
    PASS = "PASS"
    REVISE = "REVISE"
    ESCALATE = "ESCALATE"


# -- input -------------------------------------------------------------------------


class Contact(_Model):
    name: str
    title: str | None = None
    email: str | None = None
    linkedin: str | None = None


def domain_of(address: str | None) -> str | None:
    """The host of a website or bare domain, lower-cased and without ``www.``."""
    if not address:
        return None
    host = address.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return host.lower().removeprefix("www.") or None


class Company(_Model):
    """One row of a lead list, as the user gave it."""

    name: str = Field(min_length=1)
    domain: str | None = None
    website: str | None = None
    industry: str | None = None
    employees: int | None = Field(default=None, ge=0)
    country: str | None = None
    """Where the company is, as the lead file wrote it (``Austin, Texas``)."""
    country_code: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    """The ISO 3166-1 alpha-2 country that location resolved to, when it did."""
    description: str | None = None
    notes: str | None = None
    contact: Contact | None = None
    extra_fields: dict[str, str] = Field(default_factory=dict)
    """Columns with no field of their own (``Products``) and values that could not be
    read (a headcount of ``a lot``), by header: each becomes a fact for the agents."""
    line: int | None = None
    """Line of the lead file this company came from, for error reports."""

    @property
    def key(self) -> str:
        """What identifies the company within a batch: its domain, else its name.

        Lead reading decides duplicates with the stricter
        :func:`salesbus.agents.leads.company_key` (registrable domain, else the
        name without case, spacing or legal form)."""
        return (self.domain or self.name).strip().lower()


# -- research ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True, config=_RECORD)
class FactSource:
    kind: Literal["input", "website", "model", "rules"]
    url: str | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True, config=_RECORD)
class Fact:
    """One thing known about a company, with where it came from.

    ``id`` is short (``f1``, ``f2``…) so that claims can cite it cheaply.
    """

    id: str
    topic: str
    text: str
    source: FactSource


class CompanyProfile(_Model):
    company: Company
    industry: str | None = None
    size: CompanySize | None = None
    employees: int | None = None
    location: str | None = None
    website: str | None = None
    description: str | None = None
    recent_news: list[str] = Field(default_factory=list)
    key_contacts: list[Contact] = Field(default_factory=list)
    primary_contact: Contact | None = None
    technologies: list[str] = Field(default_factory=list)
    facts: list[Fact] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    """What research could not do (a website that did not answer, say)."""
    generated_by: str

    def fact_ids(self) -> set[str]:
        return {fact.id for fact in self.facts}


# -- analysis ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True, config=_RECORD)
class ScoreReason:
    criterion: str
    points: float
    max_points: float
    detail: str
    fact_ids: list[str] = Field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True, config=_RECORD)
class PainPoint:
    category: str
    description: str
    severity: Severity
    evidence: str
    potential_solution: str
    fact_ids: list[str] = Field(min_length=1)


@dataclass(frozen=True, slots=True, kw_only=True, config=_RECORD)
class Opportunity:
    category: str
    description: str
    priority: Priority
    evidence: str
    potential_value: str
    fact_ids: list[str] = Field(min_length=1)


@dataclass(frozen=True, slots=True, kw_only=True, config=_RECORD)
class TalkingPoint:
    text: str
    fact_ids: list[str] = Field(min_length=1)


@dataclass(frozen=True, slots=True, kw_only=True, config=_RECORD)
class Objection:
    objection: str
    response: str


class Analysis(_Model):
    icp_score: int = Field(ge=0, le=100)
    score_reasons: list[ScoreReason]
    tier: Tier
    qualified: bool
    disqualify_reasons: list[str] = Field(default_factory=list)
    pain_points: list[PainPoint]
    opportunities: list[Opportunity]
    industry_insights: list[str] = Field(default_factory=list)
    talking_points: list[TalkingPoint] = Field(default_factory=list)
    likely_objections: list[Objection] = Field(default_factory=list)
    recommended_approach: str
    recommended_channel: Channel
    confidence: float = Field(ge=0, le=1)
    fit: str | None = None
    """A model's judgement of the fit in words, beside the rules' score (``None`` offline)."""
    generated_by: str


# -- personalization ---------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True, config=_RECORD)
class PersonalizationElement:
    text: str
    fact_ids: list[str] = Field(min_length=1)


class MessageKind(StrEnum):
    INITIAL = "initial"
    CONNECTION_NOTE = "connection-note"
    FOLLOW_UP = "follow-up"
    CALL_SCRIPT = "call-script"


@dataclass(frozen=True, slots=True, kw_only=True, config=_RECORD)
class Message:
    channel: Channel
    kind: MessageKind
    day_offset: int = Field(default=0, ge=0)
    subject: str | None = None
    body: str
    tone: str
    personalization: list[PersonalizationElement] = Field(default_factory=list)
    call_to_action: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True, config=_RECORD)
class SequenceStep:
    day: int = Field(ge=0)
    channel: Channel
    message_index: int = Field(ge=0)
    """Index into :attr:`Outreach.messages`."""


@dataclass(frozen=True, slots=True, kw_only=True, config=_RECORD)
class QualityCheck:
    rule: str
    passed: bool
    detail: str
    on_fail: Literal["revise", "escalate"] = "revise"


class QualityReport(_Model):
    checks: list[QualityCheck]
    decision: QualityDecision

    @property
    def failed(self) -> list[QualityCheck]:
        return [check for check in self.checks if not check.passed]


class Outreach(_Model):
    strategy: PersonalizationStrategy
    primary_contact: Contact | None = None
    messages: list[Message]
    sequence: list[SequenceStep]
    quality: QualityReport
    generated_by: str

    def first(self, channel: Channel) -> Message | None:
        """The first message of ``channel`` in the sequence, if any."""
        return next((m for m in self.messages if m.channel is channel), None)
