"""The one phrase matcher: whole words, any case, spaces or hyphens, and its word test
never changes an answer the plain regex would give."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from salesbus.agents.phrases import mentions, mentions_any


@pytest.mark.parametrize(
    ("text", "phrase", "found"),
    [
        ("We use AI daily", "ai", True),
        ("maintain the site", "ai", False),
        ("a risk free offer", "risk-free", True),
        ("Get a ſpecial promotion", "special promotion", True),
        ("sold across the U.S. market", "u.s.", True),
        ("We’re hiring engineers", "we're hiring", True),
        ("R&D teams", "r and d", True),
        ("100% free trial", "100% free", True),
        ("", "anything", False),
        ("anything", "  ", False),
    ],
)
def test_phrases_match_as_whole_words_in_any_case(text: str, phrase: str, found: bool) -> None:
    assert mentions(text, phrase) is found
    assert mentions_any(text, ["zzz", phrase]) is found


def _regex(text: str, phrase: str) -> bool:
    text = text.replace("’", "'").replace("&", " and ")
    words = [w for w in re.split(r"[\s-]+", phrase.replace("’", "'").replace("&", " and ")) if w]
    if not words:
        return False
    body = r"[\s-]+".join(re.escape(word) for word in words)
    return re.search(rf"(?<!\w){body}(?!\w)", text, re.IGNORECASE) is not None


ALPHABET = "aeinostIKSſıİK’'&%-., \n"
WORDS = ["no", "no catch", "ſpecial", "Sıte", "KEY", "a-b", "tea", "it's", "100%", "r&d"]


@settings(max_examples=300, deadline=None)
@example(text=["it's"], phrase="S")
@example(text=["100%"], phrase="100")
@example(text=["x'it's"], phrase="it's")
@example(text=["I"], phrase="ı")
@given(
    text=st.lists(st.one_of(st.sampled_from(WORDS), st.text(ALPHABET, max_size=6)), max_size=8),
    phrase=st.one_of(st.sampled_from(WORDS), st.text(ALPHABET, max_size=8)),
)
def test_the_word_test_gives_the_same_answer_as_the_regex_alone(
    text: list[str], phrase: str
) -> None:
    joined = " ".join(text)

    assert mentions(joined, phrase) is _regex(joined, phrase)
