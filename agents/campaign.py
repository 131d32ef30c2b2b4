"""The campaign: who sells what to whom, and the rules outreach must follow.

Loaded from a TOML file (see ``examples/campaign.toml``); every field has a
sensible default so a small file is enough to start.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import CampaignError, LeadFileError
from .leads.columns import Target, explicit_targets
from .models import Channel, Company, Tier, domain_of

__all__ = [
    "ApprovalPolicy",
    "Campaign",
    "DoNotContact",
    "Icp",
    "IcpWeights",
    "KnowledgeSource",
    "LeadColumns",
    "MessageLimits",
    "ProofPoint",
    "Seller",
    "TierThresholds",
    "load_campaign",
]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ProofPoint(_Section):
    """A customer result; ``industries`` (any label the taxonomy knows) say whom it convinces."""

    text: str = Field(min_length=1)
    industries: list[str] = Field(default_factory=list)


class Seller(_Section):
    company: str
    product: str
    value_propositions: list[str] = Field(min_length=1)
    proof_points: list[ProofPoint | str] = Field(default_factory=list)
    """Untagged ones (plain strings) are generic: used only when no tagged one fits."""
    call_to_action: str = "Would a 20-minute call next week be useful?"
    sender_name: str
    sender_title: str
    sender_email: str | None = None
    postal_address: str | None = None
    """Printed in every email footer when set (CAN-SPAM asks for it)."""
    website: str | None = None
    tone: str = "consultative"
    channels: list[Channel] = Field(default_factory=lambda: [Channel.EMAIL, Channel.LINKEDIN])


class IcpWeights(_Section):
    """Points each criterion contributes to the 0–100 ICP score (normalised to 100)."""

    industry: float = Field(default=30, ge=0)
    size: float = Field(default=25, ge=0)
    region: float = Field(default=15, ge=0)
    keywords: float = Field(default=20, ge=0)
    technology: float = Field(default=10, ge=0)

    @property
    def total(self) -> float:
        return self.industry + self.size + self.region + self.keywords + self.technology


class TierThresholds(_Section):
    """Minimum ICP score for each tier; below ``disqualify_below`` nothing is drafted."""

    a: int = Field(default=75, ge=0, le=100)
    b: int = Field(default=55, ge=0, le=100)
    c: int = Field(default=35, ge=0, le=100)
    disqualify_below: int = Field(default=25, ge=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> TierThresholds:
        if not self.a >= self.b >= self.c >= self.disqualify_below:
            raise ValueError("tier thresholds must satisfy a >= b >= c >= disqualify_below")
        return self

    def tier(self, score: int) -> Tier:
        if score >= self.a:
            return Tier.A
        if score >= self.b:
            return Tier.B
        if score >= self.c:
            return Tier.C
        return Tier.D


class Icp(_Section):
    """The ideal customer profile the analysis scores against."""

    industries: list[str] = Field(default_factory=list)
    employees_min: int = Field(default=0, ge=0)
    employees_max: int | None = Field(default=None, ge=0)
    regions: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    technologies: list[str] = Field(default_factory=list)
    weights: IcpWeights = Field(default_factory=IcpWeights)
    tiers: TierThresholds = Field(default_factory=TierThresholds)


class ApprovalPolicy(_Section):
    """Which drafts a person must approve before they count as done."""

    mode: Literal["never", "always", "below_score"] = "below_score"
    below_score: int = Field(default=60, ge=0, le=100)
    on_quality_failure: bool = True
    """A draft whose quality checks ended in ESCALATE always waits for a person."""
    tier_d: Literal["nurture", "skip"] = "nurture"
    """Tier D companies get one short nurture note (no sequence, no approval queue unless
    a quality check fails), or nothing at all (``skip``)."""


class MessageLimits(_Section):
    subject_max: int = Field(default=60, gt=0)
    email_body_max: int = Field(default=900, gt=0)
    linkedin_note_max: int = Field(default=300, gt=0)
    follow_up_days: list[int] = Field(default_factory=lambda: [3, 7, 14])
    extra_spam_phrases: list[str] = Field(default_factory=list)


class DoNotContact(_Section):
    domains: list[str] = Field(default_factory=list)
    emails: list[str] = Field(default_factory=list)

    def blocks(self, company: Company) -> str | None:
        """Why ``company`` must not be contacted, or ``None``."""
        domains = {d.strip().lower().removeprefix("www.") for d in self.domains}
        emails = {e.strip().lower() for e in self.emails}
        for candidate in (domain_of(company.domain), domain_of(company.website)):
            if candidate and candidate in domains:
                return f"domain {candidate} is on the do-not-contact list"
        email = company.contact.email if company.contact else None
        if email:
            if email.lower() in emails:
                return "the contact's email is on the do-not-contact list"
            if email.rsplit("@", 1)[-1].lower() in domains:
                return "the contact's email domain is on the do-not-contact list"
        return None


class KnowledgeSource(_Section):
    path: Path | None = None
    """A knowledge file or folder merged over the built-in knowledge (relative to the campaign)."""


class LeadColumns(_Section):
    """``[leads] columns = {"Company Name" = "name", "HQ" = "location"}``: how this
    campaign's lead files map headers to fields, as ``--map`` does (which wins)."""

    columns: dict[str, str] = Field(default_factory=dict)

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, columns: dict[str, str]) -> dict[str, str]:
        try:
            explicit_targets(columns)
        except LeadFileError as exc:
            raise ValueError(str(exc)) from None
        return columns

    def targets(self) -> dict[str, Target]:
        return explicit_targets(self.columns)


class Campaign(_Section):
    name: str = "campaign"
    knowledge: KnowledgeSource = Field(default_factory=KnowledgeSource)
    seller: Seller
    icp: Icp = Field(default_factory=Icp)
    approval: ApprovalPolicy = Field(default_factory=ApprovalPolicy)
    limits: MessageLimits = Field(default_factory=MessageLimits)
    do_not_contact: DoNotContact = Field(default_factory=DoNotContact)
    leads: LeadColumns = Field(default_factory=LeadColumns)


def load_campaign(path: str | Path) -> Campaign:
    """:raises CampaignError: unreadable file, invalid TOML or invalid fields, with where."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CampaignError(f"cannot read campaign file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CampaignError(f"{path} is not valid TOML: {exc}") from exc
    try:
        campaign = Campaign.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise CampaignError(f"{path}: {problems}") from exc
    return _with_knowledge(campaign, path.parent)


def _with_knowledge(campaign: Campaign, folder: Path) -> Campaign:
    """The knowledge path made absolute and loaded once, so a broken file fails at start.

    :raises KnowledgeError: naming the file, the entry and the field.
    """
    extra = campaign.knowledge.path
    if extra is None:
        return campaign
    from .knowledge import knowledge_for  # the knowledge base imports the domain, not this

    absolute = extra if extra.is_absolute() else (folder / extra).resolve()
    knowledge_for(absolute)
    return campaign.model_copy(update={"knowledge": KnowledgeSource(path=absolute)})
