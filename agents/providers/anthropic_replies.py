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
    ScoreReason,
    SequenceStep,
    TalkingPoint,
)
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
    """:class:`Analysis` minus ``generated_by``, and ``tier``: the campaign's thresholds set it."""

    icp_score: int = Field(ge=0, le=100)
    score_reasons: list[ScoreReason]
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


def _analysis_citations(reply: AnalysisReply) -> Iterator[tuple[str, list[str]]]:
    for index, reason in enumerate(reply.score_reasons):
        yield f"score_reasons.{index}", reason.fact_ids
    for index, pain in enumerate(reply.pain_points):
        yield f"pain_points.{index}", pain.fact_ids
    for index, opportunity in enumerate(reply.opportunities):
        yield f"opportunities.{index}", opportunity.fact_ids
    for index, point in enumerate(reply.talking_points):
        yield f"talking_points.{index}", point.fact_ids


def analysis_problems(reply: AnalysisReply, known: set[str]) -> list[str]:
    problems = _unknown_citations(_analysis_citations(reply), known)
    if not reply.qualified and not reply.disqualify_reasons:
        problems.append("disqualify_reasons: qualified is false, so give at least one reason")
    return problems


def _draft_citations(reply: DraftReply) -> Iterator[tuple[str, list[str]]]:
    for m, message in enumerate(reply.messages):
        for p, element in enumerate(message.personalization):
            yield f"messages.{m}.personalization.{p}", element.fact_ids


def draft_problems(reply: DraftReply, known: set[str], channels: list[Channel]) -> list[str]:
    problems = _unknown_citations(_draft_citations(reply), known)
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
