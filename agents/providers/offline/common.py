"""What every part of the offline engine shares: its label, the opt-out line, fact helpers."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ...grammar import running_name
from ...models import (
    CompanyProfile,
    Fact,
    Priority,
    Severity,
)

RULES_LABEL = "offline rules engine v1 (rule-based, no LLM)"
"""The ``generated_by`` of everything this provider writes."""

OPT_OUT_LINE = "If this isn't relevant, reply 'no thanks' and I won't follow up."


_NOT_ABOUT_THE_BUSINESS = frozenset({"name", "contact", "size", "location", "website"})
"""Fact topics whose text says nothing about what the company does.

The input ``website`` fact is only an address: a domain such as ``acme.ai``
must not read as an AI signal.
"""

SEVERITY_ORDER = (Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)
PRIORITY_ORDER = (Priority.LOW, Priority.MEDIUM, Priority.HIGH, Priority.URGENT)


def about_business(fact: Fact) -> bool:
    return fact.topic not in _NOT_ABOUT_THE_BUSINESS


def company_name(profile: CompanyProfile) -> str:
    """The name as a sentence uses it: ``Viasat``, not ``Viasat (American company)``."""
    return running_name(plain(profile.company.name)) or "your company"


def plain(text: str) -> str:
    """Company-supplied text made safe to put in a message: nothing that reads as a placeholder."""
    without_braces = re.sub(r"[{}<>]", "", text).replace("[", "(").replace("]", ")")
    return " ".join(without_braces.split())


def ordered_ids(profile: CompanyProfile, ids: Iterable[str], limit: int = 4) -> list[str]:
    """The known ids among ``ids``, in the order the profile found them, at most ``limit``."""
    wanted = set(ids)
    return [fact.id for fact in profile.facts if fact.id in wanted][:limit]


def facts_by_id(profile: CompanyProfile) -> dict[str, Fact]:
    return {fact.id: fact for fact in profile.facts}


def raised(severity: Severity, steps: int) -> Severity:
    index = min(SEVERITY_ORDER.index(severity) + steps, len(SEVERITY_ORDER) - 1)
    return SEVERITY_ORDER[index]


LABEL_TOPICS = frozenset({"industry", "name"})
"""Facts that only label a company: a claim resting on them alone is a hypothesis."""


def is_hypothesis(profile: CompanyProfile, ids: Iterable[str]) -> bool:
    """Whether the facts ``ids`` only label the company (its industry, its name):
    then what they support is what is typical of the industry, not what was seen."""
    topics = {fact.topic for fact in profile.facts if fact.id in set(ids)}
    return topics <= LABEL_TOPICS
