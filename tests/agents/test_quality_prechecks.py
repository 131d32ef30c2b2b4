"""The quality rules' substring pre-checks only save time: every rule finds exactly
what a plain regex search of each message finds, whatever the text's case or script."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from salesbus.agents import quality
from salesbus.agents.campaign import Campaign, MessageLimits, Seller
from salesbus.agents.models import Channel, Company, CompanyProfile, Message, MessageKind
from salesbus.agents.models import PersonalizationStrategy as Strategy
from salesbus.agents.providers.base import Draft

# Letters whose lower case differs from what a case-insensitive regex matches
# (İ ı ſ K), a final sigma, typography, and the characters placeholders use.
ALPHABET = "aceilnorstuwyIOSTK İıſKΣς’“–-,.'%{}[]<>\n"
WORDS = [
    "act now",
    "risk-free",
    "no",
    "no catch",
    "ſpecial offer",
    "İnsert",
    "Sıte",
    "KEY",
    "-",
    "tea",
    "cost",
    "won't",
    "no strings",
    "new site",
]
texts = st.text(alphabet=ALPHABET, max_size=80) | st.lists(
    st.sampled_from(
        [*WORDS, " ", "\n", "x", "reply 'no'", "{a}", "LOREM ipsum", "no ſtrings", "new sıte"]
    ),
    max_size=12,
).map("".join)


def plain_mentions(text: str, phrase: str) -> bool:
    """The rule as first written: the first word literally, then the phrase's regex."""
    if not phrase.strip():
        return False
    words = [word for word in re.split(r"[\s-]+", phrase.strip()) if word]
    if (words[0].lower() if words else "") not in text.lower():
        return False
    return quality._phrase_pattern(phrase).search(text) is not None


@settings(max_examples=400)
@given(text=texts, phrase=st.sampled_from(WORDS) | st.text(alphabet=ALPHABET, max_size=12))
def test_mentions_matches_the_plain_search(text: str, phrase: str) -> None:
    assert quality._mentions(quality._read(text), phrase) is plain_mentions(text, phrase)


@settings(max_examples=400)
@given(text=texts)
def test_clued_patterns_match_the_plain_search(text: str) -> None:
    reading = quality._read(text)
    for clued in (*quality._PLACEHOLDERS, *quality._OPT_OUT_LINES):
        found = [match.span() for match in clued.finditer(reading)]
        assert found == [match.span() for match in clued.pattern.finditer(text)]


def draft_of(bodies: list[str]) -> Draft:
    messages = [
        Message(channel=Channel.EMAIL, kind=MessageKind.FOLLOW_UP, body=body, tone="plain")
        for body in bodies
    ]
    return Draft(
        strategy=Strategy.RELATIONSHIP_BUILDING,
        messages=messages,
        sequence=[],
        generated_by="test",
    )


@settings(max_examples=200)
@given(bodies=st.lists(texts.filter(str.strip), min_size=1, max_size=4))
def test_whole_draft_pre_checks_change_no_finding(bodies: list[str]) -> None:
    campaign = Campaign(
        seller=Seller(
            company="Acme",
            product="p",
            value_propositions=["v"],
            sender_name="Sam",
            sender_title="AE",
        ),
        limits=MessageLimits(extra_spam_phrases=WORDS),
    )
    profile = CompanyProfile(company=Company(name="x"), generated_by="test")
    phrases = [*quality.SPAM_PHRASES, *WORDS]
    expected_spam = []
    expected_placeholders = []
    for index, body in enumerate(bodies):
        label = f"message {index + 1} (email follow-up)"
        spam = dict.fromkeys(p.strip().lower() for p in phrases if plain_mentions(body, p))
        if spam:
            quoted = ", ".join(f"'{phrase}'" for phrase in spam)
            expected_spam.append(f"{label} uses spam phrases: {quoted}")
        slots = dict.fromkeys(
            match.group()
            for clued in quality._PLACEHOLDERS
            for match in clued.pattern.finditer(body)
        )
        if slots:
            quoted = ", ".join(f"'{slot}'" for slot in slots)
            expected_placeholders.append(f"{label} has unfilled placeholders: {quoted}")

    draft = draft_of(bodies)
    assert quality._spam_phrases(draft, profile, campaign) == expected_spam
    assert quality._unfilled_placeholders(draft, profile, campaign) == expected_placeholders
