"""The messages of a draft — initial email, connection note, follow-ups, call script — and
the sequence they are sent in."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ...campaign import Campaign
from ...grammar import clip, lower_first
from ...models import (
    Analysis,
    Channel,
    CompanyProfile,
    Message,
    MessageKind,
    PainPoint,
    SequenceStep,
    Tier,
)
from ..base import Draft
from .common import RULES_LABEL
from .layout import Part, within, written
from .values import flagged_phrases
from .writer import Writer

# -- messages --------------------------------------------------------------------------

_Caps = dict[tuple[Channel, MessageKind, int], int]
"""Per message (channel, kind, day): the length a revision must stay under."""


def write_draft(
    profile: CompanyProfile,
    analysis: Analysis,
    campaign: Campaign,
    revision_notes: Sequence[str] | None,
) -> Draft:
    """A draft; with ``revision_notes``, a tightened one, shorter than the first in every
    message and free of any phrase the notes quote."""
    flagged = flagged_phrases(campaign)
    loose = Writer(profile, analysis, campaign, tight=False, flagged=flagged)
    messages = _messages(loose, caps={})
    if revision_notes:
        quoted = tuple(q for note in revision_notes for q in _quoted_phrases(note))
        tight = Writer(profile, analysis, campaign, tight=True, flagged=(*flagged, *quoted))
        caps = {(m.channel, m.kind, m.day_offset): len(m.body) - 1 for m in messages}
        messages = _messages(tight, caps)
        loose = tight
    return Draft(
        strategy=loose.strategy,
        primary_contact=profile.primary_contact,
        messages=messages,
        sequence=_sequence(messages),
        generated_by=RULES_LABEL,
    )


def _quoted_phrases(note: str) -> list[str]:
    """Phrases a quality note quotes ('act now', “synergy”) — the ones to leave out."""
    found = re.findall(r"'([^']{2,40})'|\"([^\"]{2,40})\"|“([^”]{2,40})”", note)
    return [next(group for group in groups if group) for groups in found]


def _messages(writer: Writer, caps: _Caps) -> list[Message]:
    if writer.analysis.tier is Tier.D:
        if writer.analysis.recommended_channel is Channel.LINKEDIN:
            return [_connection_note(writer, 0, caps)]
        return [_nurture_note(writer, caps)]
    channels = list(writer.campaign.seller.channels) or [Channel.EMAIL]
    first_channel = writer.analysis.recommended_channel
    has_note = Channel.LINKEDIN in channels
    has_email = Channel.EMAIL in channels or not (has_note or Channel.PHONE in channels)
    email_day = 1 if has_note and first_channel is Channel.LINKEDIN else 0
    messages: list[Message] = []
    if has_email:
        messages.append(_initial_email(writer, email_day, caps))
    if has_note:
        note_day = 0 if (first_channel is Channel.LINKEDIN or not has_email) else 1
        messages.append(_connection_note(writer, note_day, caps))
    if has_email:
        messages.extend(_follow_ups(writer, messages[0], caps))
    if Channel.PHONE in channels:
        messages.append(_call_script(writer, _call_day(messages), caps))
    return messages


def _limits(caps: _Caps, key: tuple[Channel, MessageKind, int], configured: int) -> list[int]:
    """The revision's cap when there is one and it is tighter, then the configured limit."""
    cap = caps.get(key)
    return [cap, configured] if cap is not None and cap < configured else [configured]


def _initial_email(writer: Writer, day: int, caps: _Caps) -> Message:
    key = (Channel.EMAIL, MessageKind.INITIAL, day)
    limits = _limits(caps, key, writer.campaign.limits.email_body_max)
    value, _ = writer.value()
    cta = Part(writer.call_to_action())
    core, hook = writer.core(), writer.hook()
    if core.fact_ids:
        hook = Part(hook.text, hook.fact_ids, optional=True, clippable=hook.clippable)
    parts = writer.parts(writer.unnamed_opening(), hook, core, value, writer.proof(), cta)
    piece = written(parts, limits)
    return Message(
        channel=Channel.EMAIL,
        kind=MessageKind.INITIAL,
        day_offset=day,
        subject=writer.subject(),
        body=piece.body,
        tone=writer.tone,
        personalization=piece.elements,
        call_to_action=writer.call_to_action(),
    )


def _nurture_note(writer: Writer, caps: _Caps) -> Message:
    """Tier D: one short note that asks for nothing now — no sequence, no call."""
    key = (Channel.EMAIL, MessageKind.INITIAL, 0)
    limits = _limits(caps, key, writer.campaign.limits.email_body_max)
    close = Part(
        f"No need to reply now; if {writer.topic()} moves up the list at {writer.name}, "
        "I'd be glad to share what has worked elsewhere."
    )
    parts = writer.parts(writer.unnamed_opening(), writer.hook(), close)
    piece = written(parts, limits)
    return Message(
        channel=Channel.EMAIL,
        kind=MessageKind.INITIAL,
        day_offset=0,
        subject=writer.subject(),
        body=piece.body,
        tone=writer.tone,
        personalization=piece.elements,
        call_to_action="No action needed",
    )


def _connection_note(writer: Writer, day: int, caps: _Caps) -> Message:
    key = (Channel.LINKEDIN, MessageKind.CONNECTION_NOTE, day)
    limits = _limits(caps, key, writer.campaign.limits.linkedin_note_max)
    hook = writer.hook()
    parts = [
        writer.greeting(),
        hook,
        _connection_reason(writer, hook),
        Part(f"– {writer.seller.sender_name}"),
    ]
    if writer.tight:
        parts = [part for part in parts if not part.optional]
    piece = written(parts, limits, separator=" ")
    return Message(
        channel=Channel.LINKEDIN,
        kind=MessageKind.CONNECTION_NOTE,
        day_offset=day,
        body=piece.body,
        tone=writer.tone,
        personalization=piece.elements,
        call_to_action="Connect on LinkedIn",
    )


def _connection_reason(writer: Writer, hook: Part) -> Part:
    """Why connect: the industry and the pain, unless the opening line already said so."""
    short = writer.industry.short if writer.industry else "B2B"
    featured = writer.featured
    if "I work with" in hook.text:
        return Part("It seemed worth connecting.", optional=True)
    if isinstance(featured, PainPoint) and not writer.hypothesis:
        text = f"I work with {short} teams on {featured.category}, so it seemed worth connecting."
        return Part(text, writer.featured_ids, optional=True, clippable=True)
    return Part(f"I work with {short} teams, so it seemed worth connecting.", optional=True)


def _follow_up_days(writer: Writer, initial: Message) -> list[int]:
    days = sorted(set(writer.campaign.limits.follow_up_days))
    return [day for day in days if day > initial.day_offset]


def _follow_ups(writer: Writer, initial: Message, caps: _Caps) -> list[Message]:
    """One email per follow-up day, each shorter than the one before it.

    Stops early only if a follow-up can no longer be made shorter without
    losing the signature or the opt-out line.
    """
    days = _follow_up_days(writer, initial)
    subject = _reply_subject(
        initial.subject or writer.subject(), writer.campaign.limits.subject_max
    )
    messages: list[Message] = []
    previous = len(initial.body)
    for position, day in enumerate(days):
        key = (Channel.EMAIL, MessageKind.FOLLOW_UP, day)
        limit = min(*_limits(caps, key, writer.campaign.limits.email_body_max), previous - 1)
        parts = _follow_up_parts(writer, position, len(days))
        piece = within(parts, limit)
        if piece is None:
            break
        previous = len(piece.body)
        messages.append(
            Message(
                channel=Channel.EMAIL,
                kind=MessageKind.FOLLOW_UP,
                day_offset=day,
                subject=subject,
                body=piece.body,
                tone=writer.tone,
                personalization=piece.elements,
                call_to_action="Reply to this email",
            )
        )
    return messages


def _reply_subject(subject: str, limit: int) -> str:
    reply = f"Re: {subject}"
    return reply if len(reply) <= limit else clip(subject, limit)


def _follow_up_parts(writer: Writer, position: int, count: int) -> list[Part]:
    """A new angle first, then a question, then short nudges, and a polite close last."""
    if position == count - 1 and count > 1:
        return writer.parts(_closing_line(writer))
    if position == 0:
        return writer.parts(*_new_angle(writer))
    if position == 1:
        return writer.parts(_question(writer), writer.proof(1))
    return writer.parts(_nudge(writer))


def _new_angle(writer: Writer) -> list[Part | None]:
    angle = writer.second_angle()
    _, first_choice = writer.value()
    if angle is None:
        line = Part(f"Following up on my note about {writer.topic()}.")
    else:
        claim = writer.claim(angle)
        line = Part(f"One more thought. {claim.text}", claim.fact_ids, clippable=True)
    value, _ = writer.value(avoid=first_choice)
    return [line, Part(value.text, optional=True), Part("Worth a short conversation?")]


def _question(writer: Writer) -> Part:
    question = writer.question()
    text = question if writer.tight else f"A quick question: {lower_first(question)}"
    return Part(text, writer.featured_ids, clippable=True)


def _nudge(writer: Writer) -> Part:
    text = f"Checking in: is {writer.topic()} a priority for {writer.name} this quarter?"
    return Part(text, writer.featured_ids, clippable=True)


def _closing_line(writer: Writer) -> Part:
    """The last follow-up: short by design, so the sequence ends on its shortest note.

    It names the topic, not a claim, so it cites facts only when the topic was seen in
    them (an industry hypothesis is no fact about the company)."""
    ids = writer.name_ids if writer.hypothesis else writer.featured_ids
    if writer.tight:
        return Part(f"Closing the loop on {writer.topic()}.", ids)
    text = f"Closing the loop on {writer.topic()}; happy to help if it comes up."
    return Part(text, ids, clippable=True)


def _call_day(messages: Sequence[Message]) -> int:
    """The day after the first follow-up, when a call finds the name already familiar."""
    if not messages:
        return 0
    follow_ups = [m.day_offset for m in messages if m.kind is MessageKind.FOLLOW_UP]
    return follow_ups[0] + 1 if follow_ups else max(m.day_offset for m in messages) + 2


_CALL_SCRIPT_FACTOR = 2
"""A call script has no configured limit; it stays within twice an email's."""


def _call_script(writer: Writer, day: int, caps: _Caps) -> Message:
    key = (Channel.PHONE, MessageKind.CALL_SCRIPT, day)
    limits = _limits(caps, key, _CALL_SCRIPT_FACTOR * writer.campaign.limits.email_body_max)
    first = writer.first_name()
    hello = f"Hi {first}" if first else "Hello"
    seller = writer.seller
    featured = writer.featured
    reason = writer.claim(featured) if featured else Part(f"I wanted to learn about {writer.name}.")
    value, _ = writer.value()
    parts = [
        Part(f"Opener: {hello}, this is {seller.sender_name} from {seller.company}."),
        Part(f"Why I'm calling: {reason.text}", reason.fact_ids, clippable=True),
        Part(f"Ask: {writer.question()}"),
        Part("Ask: Who else is involved when the team looks at tools for this?", optional=True),
        Part(f"Value: {value.text}", clippable=True),
        Part(f"Close: {writer.call_to_action()}"),
        Part("If it isn't relevant: thank them, and don't call again."),
        Part(
            f"Voicemail: {hello}, {seller.sender_name} from {seller.company}, calling about "
            f"{writer.topic()}. I'll follow up in writing."
        ),
    ]
    piece = written([p for p in parts if not (writer.tight and p.optional)], limits, "\n")
    return Message(
        channel=Channel.PHONE,
        kind=MessageKind.CALL_SCRIPT,
        day_offset=day,
        body=piece.body,
        tone=writer.tone,
        personalization=piece.elements,
        call_to_action=writer.call_to_action(),
    )


def _sequence(messages: Sequence[Message]) -> list[SequenceStep]:
    order = sorted(range(len(messages)), key=lambda i: (messages[i].day_offset, i))
    return [
        SequenceStep(day=messages[i].day_offset, channel=messages[i].channel, message_index=i)
        for i in order
    ]
