"""Which of the seller's proof points a company should read.

A bank is not persuaded by what a logistics software company achieved. A
campaign may tag proof points with industries (any label the taxonomy knows);
a company reads those tagged with its own industry first, the untagged,
generic ones only when none is tagged for it, and never one tagged for
somebody else.
"""

from __future__ import annotations

from collections.abc import Callable

from ...campaign import Campaign, ProofPoint
from ...knowledge import KnowledgeBase
from ...scoring import industry_in_icp

__all__ = ["relevant_proofs"]


def relevant_proofs(
    campaign: Campaign, industry: str | None, kb: KnowledgeBase, clean: Callable[[str], bool]
) -> tuple[str, ...]:
    """The proof points for a company in ``industry``, best first, without flagged phrases."""
    tagged: list[str] = []
    generic: list[str] = []
    for proof in campaign.seller.proof_points:
        point = proof if isinstance(proof, ProofPoint) else ProofPoint(text=proof)
        if not clean(point.text):
            continue
        if not point.industries:
            generic.append(point.text)
        elif industry and industry_in_icp(industry, point.industries, kb):
            tagged.append(point.text)
    return tuple(tagged or generic)
