"""How the NATS transport names things: subjects, owner tokens, consumer names.

NATS subjects are dot-separated tokens and consumer names may not hold dots,
spaces or wildcards; event type names and subscription names are free text,
so every name goes through here before it reaches the broker.
"""

from __future__ import annotations

import re

__all__ = ["consumer_name", "owner_token", "subject_matches", "subject_token"]

_UNSAFE = re.compile(r"[^A-Za-z0-9_\-.]")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_\-]")


def subject_token(type_name: str) -> str:
    """An event type's name as subject tokens (dots kept, anything else unsafe becomes ``_``)."""
    return ".".join(part or "_" for part in _UNSAFE.sub("_", type_name).split("."))


def owner_token(owner: str | None) -> str:
    """An owner as one subject token (``_`` for none); also a consumer name's suffix."""
    return _UNSAFE_NAME.sub("_", owner)[:64] if owner else "_"


def subject_matches(pattern: str, subject: str) -> bool:
    """Whether a NATS filter subject (``*`` one token, ``>`` the rest) takes ``subject``."""
    want, have = pattern.split("."), subject.split(".")
    for index, token in enumerate(want):
        if token == ">":
            return len(have) > index
        if index >= len(have) or (token != "*" and token != have[index]):
            return False
    return len(want) == len(have)


def consumer_name(subscription_name: str) -> str:
    """A subscription's name as a durable consumer name (no dots, spaces or wildcards)."""
    return _UNSAFE_NAME.sub("_", subscription_name)[:200] or "_"
