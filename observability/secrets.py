"""The one place where secrets are scrubbed from text we store or emit.

Scrubbing only the exact key is not enough: a server that echoes the key
back base64-encoded, or cut to twenty characters, put it into a stored
error reason, an export and a trace. So :func:`scrub_secrets` removes

- anything shaped like a key: ``sk-ant-…`` (and other ``sk-…`` keys),
  bearer/basic credentials, ``api_key=…``-style settings;
- any run of 8 or more characters of a *known* secret — the configured
  ``ANTHROPIC_API_KEY`` / ``ANTHROPIC_AUTH_TOKEN`` and whatever
  :func:`register_secret` was given — and of its base64 (standard and
  URL-safe, at each of the three byte alignments).

Every path that writes text out of the process calls it: log formatters and
span errors (through :func:`salesbus.observability.logs.redact`), step error
messages (``ErrorInfo``, and so stored reasons and events), and exports.
"""

from __future__ import annotations

import base64
import functools
import os
import re
from collections.abc import Iterable

__all__ = ["FRAGMENT", "SECRET_ENV_VARS", "register_secret", "scrub_secrets"]

FRAGMENT = 8
"""The shortest run of a secret's characters that is scrubbed."""

SECRET_ENV_VARS = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")
"""Environment variables whose values are secrets wherever they appear."""

MASK = "[redacted]"

_ANTHROPIC_KEY = re.compile(r"sk-ant-[A-Za-z0-9_-]+")
_OTHER_SK_KEY = re.compile(r"\bsk-(?!ant-)[A-Za-z0-9_-]{16,}")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
_SECRET_SETTING = re.compile(
    r"(?i)\b(authorization|x-api-key|api[-_]?key|access[-_]?token|client[-_]?secret|password)"
    r"(\s*[\"']?\s*[:=]\s*[\"']?\s*)"
    r"(?!(?:(?:bearer|basic)\s+)?\*\*\*)((?:bearer|basic)\s+)?[^\s\"',;&]+"
)

_registered: set[str] = set()


def register_secret(secret: str | None) -> None:
    """Scrub ``secret`` (and its fragments and base64) from everything from now on.

    For a key that does not come from :data:`SECRET_ENV_VARS`, e.g. one passed
    to a provider in code. Secrets shorter than :data:`FRAGMENT` are ignored.
    """
    if secret and len(secret) >= FRAGMENT:
        _registered.add(secret)


def scrub_secrets(text: str) -> str:
    """``text`` without credentials: key shapes become ``sk-ant-***`` / ``***``,
    fragments of known secrets ``[redacted]``."""
    if not text:
        return text
    text = _SECRET_SETTING.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3) or ''}***", text)
    text = _ANTHROPIC_KEY.sub("sk-ant-***", text)
    text = _OTHER_SK_KEY.sub("sk-***", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} ***", text)
    known = _known_secrets()
    return _scrub_fragments(text, _fragment_pattern(known)) if known else text


def _known_secrets() -> frozenset[str]:
    from_env = (os.environ.get(name, "") for name in SECRET_ENV_VARS)
    return frozenset({s for s in from_env if len(s) >= FRAGMENT} | _registered)


@functools.lru_cache(maxsize=8)
def _fragment_pattern(secrets: frozenset[str]) -> re.Pattern[str]:
    """Finds, overlapping, every place where a FRAGMENT-long piece of a secret starts."""
    grams: set[str] = set()
    for form in _forms(secrets):
        grams.update(form[i : i + FRAGMENT] for i in range(len(form) - FRAGMENT + 1))
    alternatives = "|".join(re.escape(g) for g in sorted(grams))
    return re.compile(f"(?=({alternatives}))")


def _forms(secrets: Iterable[str]) -> Iterable[str]:
    """Each secret as written, and its base64 at each alignment (without the edge
    characters, which depend on the bytes around it)."""
    for secret in secrets:
        yield secret
        raw = secret.encode()
        for offset in range(3):
            for encode in (base64.b64encode, base64.urlsafe_b64encode):
                encoded = encode(raw[offset:]).decode("ascii").rstrip("=")
                yield encoded[:-1]


def _scrub_fragments(text: str, pattern: re.Pattern[str]) -> str:
    """Every stretch of ``text`` covered by a secret's fragments becomes one mask."""
    spans: list[list[int]] = []
    for match in pattern.finditer(text):
        start, end = match.start(), match.start() + FRAGMENT
        if spans and start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])
    if not spans:
        return text
    pieces: list[str] = []
    last = 0
    for start, end in spans:
        pieces.append(text[last:start])
        pieces.append(MASK)
        last = end
    pieces.append(text[last:])
    return "".join(pieces)
