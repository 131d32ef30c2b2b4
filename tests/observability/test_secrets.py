"""Secrets are scrubbed by shape and by fragment, wherever in a text they hide."""

from __future__ import annotations

import base64

import pytest

from salesbus.observability.logs import redact
from salesbus.observability.secrets import register_secret, scrub_secrets

KEY = "sk-ant-api03-Zq8xPw3vLm7tRn2Ks9Yb4Hc6Jd1Fe5Ga0"


@pytest.fixture(autouse=True)
def configured_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)


@pytest.mark.parametrize(
    "leak",
    [
        KEY,
        KEY[:20],
        KEY[13:21],
        KEY[-9:],
        base64.b64encode(KEY.encode()).decode(),
        base64.b64encode(b"x" + KEY.encode()).decode()[4:30],
        base64.b64encode(b"xy" + KEY.encode()).decode(),
        base64.urlsafe_b64encode(KEY.encode()).decode()[10:40],
    ],
)
def test_a_fragment_of_the_configured_key_is_scrubbed_in_any_form(leak: str) -> None:
    scrubbed = scrub_secrets(f"server said: {leak} (check it)")
    assert leak not in scrubbed
    assert scrubbed.startswith("server said: ")
    assert scrubbed.endswith(" (check it)")


def test_seven_characters_of_the_key_are_not_a_secret() -> None:
    text = f"region {KEY[13:20]} is fine"
    assert scrub_secrets(text) == text


def test_any_key_shape_is_scrubbed_even_if_it_is_not_ours() -> None:
    text = "keys sk-ant-api03-someone-elses-key and Bearer abcdefghijklmnop and api_key=hunter22"
    scrubbed = scrub_secrets(text)
    assert "someone-elses" not in scrubbed
    assert "abcdefghijklmnop" not in scrubbed
    assert "hunter22" not in scrubbed


def test_a_key_given_in_code_is_scrubbed_once_registered() -> None:
    secret = "in-code-token-7f3a9c2e"
    assert secret[:12] in scrub_secrets(f"echo {secret[:12]}")
    register_secret(secret)
    assert secret[:12] not in scrub_secrets(f"echo {secret[:12]}")


def test_ordinary_text_is_unchanged() -> None:
    text = "Acme Robotics builds picking robots for 300 warehouses in Canada."
    assert scrub_secrets(text) == text


def test_redact_also_drops_terminal_escape_sequences_and_nul() -> None:
    assert redact("ok\x1b]8;;http://evil.example\x07click\x1b]8;;\x07\x00 done\n") == (
        "ok]8;;http://evil.exampleclick]8;; done\n"
    )
