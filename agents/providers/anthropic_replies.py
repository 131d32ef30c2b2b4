"""What Claude must answer for each step, and how an answer is read and checked.

Each reply is a small pydantic model whose JSON schema goes to the API as
``output_config.format`` (structured outputs); pydantic validates the answer
together with what a schema cannot say (cited fact ids exist, a sequence step
points at a real message). The problems found are worded for the model, so one
repair turn can fix them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any, Literal, TypeVar

import anthropic
from anthropic.types import Message as ApiMessage
from anthropic.types import MessageParam, TextBlock
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import InvalidOutputError
from ..models import (
    Channel,
    Message,
    Objection,
    Opportunity,
    PainPoint,
    PersonalizationStrategy,
    SequenceStep,
    TalkingPoint,
)
from ..scoring import CompanyAttributes
from ..website import WebPage

__all__ = [
    "AnalysisReply",
    "DraftReply",
    "NewFact",
    "Reply",
    "ResearchReply",
    "analysis_problems",
    "draft_problems",
    "json_schema",
    "read_reply",
    "repair_turns",
    "reply_text",
    "research_problems",
]

_MAX_PROBLEMS_SHOWN = 20


class Reply(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class NewFact(Reply):
    """A fact research found; its id is handed out by :class:`FactBook`, not the model."""

    topic: str = Field(
        min_length=1,
        description="One or two lower-case words: industry, product, customers, funding, "
        "technology, hiring, news, location, size ...",
    )
    text: str = Field(min_length=1, description="One self-contained sentence.")
    source: Literal["website", "model"] = Field(
        description="website: stated in <website_content>; model: your own knowledge of "
        "this company, only when you are confident of it."
    )


class ResearchReply(Reply):
    """What research asks of the model beyond the facts the lead row already gave."""

    industry: str | None = None
    location: str | None = None
    description: str | None = Field(
        default=None, description="Two sentences at most: what the company does, for whom."
    )
    technologies: list[str] = Field(default_factory=list)
    recent_news: list[str] = Field(
        default_factory=list, description="Dated events stated in <website_content> only."
    )
    facts: list[NewFact] = Field(default_factory=list)


class AnalysisReply(Reply):
    """The model's part of an :class:`Analysis`: attributes and judgement, never the score.

    The score, its reasons, the tier and qualification come from ``attributes``
    through :func:`salesbus.agents.scoring.score_icp`, the rules the offline
    engine uses, so no number the model states can decide anything (a reply
    that adds one fails validation: replies forbid unknown fields).
    """

    attributes: CompanyAttributes = Field(
        description="What the ICP is scored on, each citing the facts that state it."
    )
    fit: str = Field(description="Two sentences: how well the company fits the offer, and why.")
    pain_points: list[PainPoint]
    opportunities: list[Opportunity]
    industry_insights: list[str] = Field(default_factory=list)
    talking_points: list[TalkingPoint] = Field(default_factory=list)
    likely_objections: list[Objection] = Field(default_factory=list)
    recommended_approach: str
    recommended_channel: Channel
    confidence: float = Field(ge=0, le=1)


class DraftReply(Reply):
    """:class:`Draft` without ``primary_contact`` (taken from the profile) or ``generated_by``."""

    strategy: PersonalizationStrategy
    messages: list[Message] = Field(min_length=1)
    sequence: list[SequenceStep]


ReplyT = TypeVar("ReplyT", bound=Reply)


@cache
def json_schema(reply_type: type[Reply]) -> dict[str, Any]:
    """The reply's JSON schema in the subset structured outputs accept (the SDK's transform)."""
    return anthropic.transform_schema(reply_type)


def reply_text(response: ApiMessage) -> str:
    """The answer's text blocks; thinking blocks, which some models put first, are skipped."""
    return "".join(block.text for block in response.content if isinstance(block, TextBlock))


_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(.*)\n\s*```\s*$", re.DOTALL)


def read_reply(
    response: ApiMessage,
    reply_type: type[ReplyT],
    problems_of: Callable[[ReplyT], list[str]],
) -> tuple[ReplyT | None, list[str]]:
    """The validated reply, or ``None`` and what is wrong with it.

    :raises InvalidOutputError: the model declined; asking again would not help.
    """
    if response.stop_reason == "refusal":
        raise InvalidOutputError("anthropic: the model declined to answer (stop_reason refusal)")
    text = reply_text(response)
    fenced = _FENCE.match(text)
    try:
        reply = reply_type.model_validate_json(fenced.group(1) if fenced else text)
    except ValidationError as exc:
        problems = _validation_problems(exc)
        if response.stop_reason == "max_tokens":
            problems.insert(0, "the answer was cut off at the output limit; answer more briefly")
        return None, problems
    problems = problems_of(reply)
    return (None, problems) if problems else (reply, [])


def _validation_problems(exc: ValidationError) -> list[str]:
    """Where and what, without the offending values: they may quote the website."""
    return [
        f"{'.'.join(str(part) for part in err['loc']) or '(answer)'}: {err['msg']}"
        for err in exc.errors()
    ][:_MAX_PROBLEMS_SHOWN]


def repair_turns(previous_answer: str, problems: list[str]) -> list[MessageParam]:
    listed = "\n".join(f"- {problem}" for problem in problems[:_MAX_PROBLEMS_SHOWN])
    note = (
        "Your previous answer cannot be used:\n"
        f"{listed}\n"
        "Answer again with the complete, corrected JSON object."
    )
    turns: list[MessageParam] = []
    if previous_answer.strip():
        turns.append({"role": "assistant", "content": previous_answer.strip()})
    turns.append({"role": "user", "content": note})
    return turns


def _unknown_citations(cited: Iterator[tuple[str, list[str]]], known: set[str]) -> list[str]:
    shown = ", ".join(sorted(known, key=_fact_order))
    return [
        f"{where}.fact_ids cites {fact_id!r}, which is not a known fact id ({shown})"
        for where, fact_ids in cited
        for fact_id in fact_ids
        if fact_id not in known
    ]


def _fact_order(fact_id: str) -> tuple[int, str]:
    digits = fact_id.lstrip("f")
    return (int(digits), fact_id) if digits.isdigit() else (1 << 30, fact_id)


def research_problems(reply: ResearchReply, page: WebPage | None) -> list[str]:
    if page is not None:
        return []
    return [
        f"facts.{index}.source: 'website' but no website content was given"
        for index, fact in enumerate(reply.facts)
        if fact.source == "website"
    ]


def _attribute_citations(attributes: CompanyAttributes) -> Iterator[tuple[str, list[str]]]:
    for name in ("industry", "headcount", "location"):
        attribute = getattr(attributes, name)
        if attribute is not None:
            yield f"attributes.{name}", attribute.fact_ids
    for index, keyword in enumerate(attributes.keywords):
        yield f"attributes.keywords.{index}", keyword.fact_ids
    for index, technology in enumerate(attributes.technologies):
        yield f"attributes.technologies.{index}", technology.fact_ids


def _analysis_citations(reply: AnalysisReply) -> Iterator[tuple[str, list[str]]]:
    yield from _attribute_citations(reply.attributes)
    for index, pain in enumerate(reply.pain_points):
        yield f"pain_points.{index}", pain.fact_ids
    for index, opportunity in enumerate(reply.opportunities):
        yield f"opportunities.{index}", opportunity.fact_ids
    for index, point in enumerate(reply.talking_points):
        yield f"talking_points.{index}", point.fact_ids


def analysis_problems(reply: AnalysisReply, known: set[str]) -> list[str]:
    """Unknown citations, and attributes that cite nothing: a score must rest on facts."""
    problems = _unknown_citations(_analysis_citations(reply), known)
    problems += [
        f"{where}.fact_ids: cite the facts that state it, or leave it out"
        for where, fact_ids in _attribute_citations(reply.attributes)
        if not fact_ids
    ]
    return problems


def _draft_citations(reply: DraftReply) -> Iterator[tuple[str, list[str]]]:
    for m, message in enumerate(reply.messages):
        for p, element in enumerate(message.personalization):
            yield f"messages.{m}.personalization.{p}", element.fact_ids


def draft_problems(
    reply: DraftReply, known: set[str], unverified: set[str], channels: list[Channel]
) -> list[str]:
    """Citations of unknown facts or of ``unverified`` ones (the model's memory, which
    grounds nothing a prospect reads), channels the campaign lacks, a broken sequence."""
    problems = _unknown_citations(_draft_citations(reply), known)
    problems += [
        f"{where}.fact_ids cites {fact_id!r}, a [model] fact: messages may cite only "
        "[lead] and [website] facts"
        for where, fact_ids in _draft_citations(reply)
        for fact_id in fact_ids
        if fact_id in unverified
    ]
    allowed = ", ".join(channel.value for channel in channels)
    for index, message in enumerate(reply.messages):
        if message.channel not in channels:
            problems.append(
                f"messages.{index}.channel: {message.channel.value} is not one of the "
                f"campaign's channels ({allowed})"
            )
    for index, step in enumerate(reply.sequence):
        if step.message_index >= len(reply.messages):
            problems.append(
                f"sequence.{index}.message_index: {step.message_index} but there are only "
                f"{len(reply.messages)} messages"
            )
        elif reply.messages[step.message_index].channel is not step.channel:
            problems.append(
                f"sequence.{index}.channel: differs from the channel of message "
                f"{step.message_index}"
            )
    return problems
