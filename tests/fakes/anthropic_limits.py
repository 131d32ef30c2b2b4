"""The Messages API's rate limits and prompt cache, as the loopback server models them.

Rate limits: a sliding window per kind (requests, input tokens, output tokens).
Every response carries the API's header set, ``anthropic-ratelimit-<kind>-limit``,
``-remaining`` and ``-reset`` (RFC 3339), and a refusal is a 429 with
``retry-after`` in whole seconds. The limit is reported per minute, as the API
does; the window may be shorter (a 100-per-10-s window reports 600) so that a
test sees minutes of traffic in seconds, and a short window is the stricter one.

Prompt cache: the prefix up to the last ``cache_control`` breakpoint is cached
when it has at least the model's minimum of tokens; below it nothing is cached
and nothing is said, as with the API. ``usage`` then reports
``cache_creation_input_tokens`` on a write, ``cache_read_input_tokens`` on a hit
and only the rest as ``input_tokens``.

Tokens are counted as words and punctuation marks: close enough to a real
tokenizer for shares and ratios, and independent of how salesbus estimates them.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["CacheModel", "RateLimits", "Window", "count_tokens"]

_TOKEN = re.compile(r"\w+|[^\w\s]")


def count_tokens(text: str) -> int:
    return len(_TOKEN.findall(text))


def _rfc3339(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Window:
    """At most ``limit`` units in any ``seconds``-long window."""

    limit: int
    seconds: float = 60.0
    _spent: deque[tuple[float, int]] = field(default_factory=deque, repr=False)

    def _expire(self, now: float) -> None:
        while self._spent and self._spent[0][0] <= now - self.seconds:
            self._spent.popleft()

    def used(self, now: float) -> int:
        self._expire(now)
        return sum(units for _, units in self._spent)

    def wait(self, now: float, units: int) -> float:
        """Seconds until ``units`` more fit (0.0: they fit now)."""
        used = self.used(now)
        if used + units <= self.limit:
            return 0.0
        excess = used + units - self.limit
        for at, spent in self._spent:
            excess -= spent
            if excess <= 0:
                return at + self.seconds - now
        return self.seconds

    def spend(self, now: float, units: int) -> None:
        if units:
            self._spent.append((now, units))

    def headers(self, kind: str, now: float) -> dict[str, str]:
        """The API's three headers; ``reset`` is when the window is whole again (wall clock)."""
        used = self.used(now)
        newest = self._spent[-1][0] if self._spent else now - self.seconds
        full_in = max(newest + self.seconds - now, 0.0)
        return {
            f"anthropic-ratelimit-{kind}-limit": str(round(self.limit * 60 / self.seconds)),
            f"anthropic-ratelimit-{kind}-remaining": str(max(self.limit - used, 0)),
            f"anthropic-ratelimit-{kind}-reset": _rfc3339(time.time() + full_in),
        }


class RateLimits:
    """Sliding windows on requests and (optionally) input and output tokens.

    ``set_requests`` changes the request limit mid-run, as an account's tier
    change or a shared organisation limit does.
    """

    def __init__(
        self,
        requests: int,
        *,
        window: float = 60.0,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self.window = window
        self.windows: dict[str, Window] = {"requests": Window(requests, window)}
        if input_tokens is not None:
            self.windows["input-tokens"] = Window(input_tokens, window)
        if output_tokens is not None:
            self.windows["output-tokens"] = Window(output_tokens, window)
        self.accepted: list[float] = []
        self.refused: list[float] = []

    def set_requests(self, limit: int) -> None:
        with self._lock:
            self.windows["requests"].limit = limit

    def admit(self, input_tokens: int) -> tuple[float, dict[str, str]]:
        """``(0.0, headers)`` when the request may run, else ``(retry_after, headers)``."""
        with self._lock:
            now = time.monotonic()
            costs = {"requests": 1, "input-tokens": input_tokens, "output-tokens": 0}
            wait = max(w.wait(now, costs[kind]) for kind, w in self.windows.items())
            if wait > 0:
                self.refused.append(now)
            else:
                self.accepted.append(now)
                for kind, w in self.windows.items():
                    w.spend(now, costs[kind])
            headers = self._headers(now)
            if wait > 0:
                headers["retry-after"] = str(max(1, math.ceil(wait)))
            return wait, headers

    def spend_output(self, tokens: int) -> None:
        with self._lock:
            window = self.windows.get("output-tokens")
            if window is not None:
                window.spend(time.monotonic(), tokens)

    def _headers(self, now: float) -> dict[str, str]:
        headers: dict[str, str] = {}
        for kind, window in self.windows.items():
            headers.update(window.headers(kind, now))
        return headers


@dataclass
class CacheModel:
    """The prompt cache: prefixes by digest, each alive ``ttl`` seconds after its last use."""

    min_tokens: int | Mapping[str, int] = 4096
    """The smallest cacheable prefix: one number, or per model id (default 4096)."""
    ttl: float = 300.0
    _entries: dict[str, float] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def minimum(self, model: str | None) -> int:
        if isinstance(self.min_tokens, int):
            return self.min_tokens
        return self.min_tokens.get(model or "", 4096)

    def usage(self, body: Mapping[str, Any]) -> dict[str, int]:
        """``input_tokens`` and the cache fields for one request, updating the cache."""
        blocks = _prompt_blocks(body)
        total = sum(count_tokens(text) for text, _ in blocks)
        marks = [index for index, (_, marked) in enumerate(blocks) if marked]
        usage = {"input_tokens": total, "cache_creation_input_tokens": 0}
        usage["cache_read_input_tokens"] = 0
        if not marks:
            return usage
        prefix = blocks[: marks[-1] + 1]
        prefix_tokens = sum(count_tokens(text) for text, _ in prefix)
        if prefix_tokens < self.minimum(body.get("model")):
            return usage
        digest = hashlib.sha256(
            json.dumps([body.get("model"), [text for text, _ in prefix]]).encode()
        ).hexdigest()
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(digest, 0.0) > now
            self._entries[digest] = now + self.ttl
        usage["input_tokens"] = total - prefix_tokens
        key = "cache_read_input_tokens" if hit else "cache_creation_input_tokens"
        usage[key] = prefix_tokens
        return usage


def _prompt_blocks(body: Mapping[str, Any]) -> list[tuple[str, bool]]:
    """Every text of the prompt in the API's cache order (system, then messages), and
    whether a ``cache_control`` breakpoint ends it."""
    blocks: list[tuple[str, bool]] = []
    system = body.get("system")
    if isinstance(system, str):
        blocks.append((system, False))
    elif isinstance(system, list):
        blocks += [_block(item) for item in system if isinstance(item, Mapping)]
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, Mapping) else None
        if isinstance(content, str):
            blocks.append((content, False))
        elif isinstance(content, list):
            blocks += [_block(item) for item in content if isinstance(item, Mapping)]
    return blocks


def _block(item: Mapping[str, Any]) -> tuple[str, bool]:
    return str(item.get("text", "")), bool(item.get("cache_control"))
