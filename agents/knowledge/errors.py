"""What a complete knowledge base must hold, checked once at load."""

from __future__ import annotations

from ..errors import KnowledgeError
from ..models import CompanySize, Tier
from .entries import KnowledgeFile

__all__ = ["missing_tables"]


def missing_tables(data: KnowledgeFile) -> None:
    """:raises KnowledgeError: naming the first table the engines need that is missing."""
    if data.general is None:
        raise KnowledgeError("knowledge: the [general] industry is missing")
    for size in CompanySize:
        if size not in data.size:
            raise KnowledgeError(f"knowledge: [size.{size.value}] is missing")
        if size not in data.seniority_preference:
            raise KnowledgeError(f"knowledge: seniority_preference.{size.value} is missing")
    for tier in Tier:
        if tier not in data.tier_playbook:
            raise KnowledgeError(f"knowledge: tier_playbook.{tier.value} is missing")
