"""Token usage and cost, metered per step attempt through a context variable.

Providers call :func:`record_usage` after every model call; the agent runtime
opens a :class:`UsageMeter` around each step attempt and reports its total in
the step's status event. Because the bus runs handlers in the publisher's
context, the meter reaches every call made on the step's behalf without being
passed around.
"""

from __future__ import annotations

from contextvars import ContextVar, Token

from pydantic import BaseModel, ConfigDict

__all__ = ["Usage", "UsageMeter", "metered", "record_usage"]


class Usage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    calls: int = 0
    input_tokens: int = 0
    """Uncached input tokens."""
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def total_input_tokens(self) -> int:
        """Input tokens as the GenAI conventions count them: cache reads and writes included."""
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            calls=self.calls + other.calls,
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_read_tokens=self.cache_read_tokens + other.cache_read_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
            cost_usd=round(self.cost_usd + other.cost_usd, 8),
        )


class UsageMeter:
    """Accumulates the usage of one step attempt; a context manager that makes it current.

    Meters nest: usage recorded inside a meter's block reaches it and every
    meter open around it, so a model call metered on its own (for its span)
    still counts in its step's total. A plain class rather than a
    generator-based context manager: one is open for every step in flight,
    and a slotted object is a tenth of the size.
    """

    __slots__ = ("_outer", "_token", "total")

    def __init__(self) -> None:
        self.total = Usage()
        self._outer: UsageMeter | None = None
        self._token: Token[UsageMeter | None] | None = None

    def add(self, usage: Usage) -> None:
        self.total = self.total + usage
        if self._outer is not None:
            self._outer.add(usage)

    def __enter__(self) -> UsageMeter:
        self._outer = _current.get()
        self._token = _current.set(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._token is not None:
            _current.reset(self._token)
            self._token = None
            self._outer = None


_current: ContextVar[UsageMeter | None] = ContextVar("salesbus_usage_meter", default=None)


def record_usage(usage: Usage) -> None:
    """Add ``usage`` to the meter of the step being run (and the meters around it), if any."""
    meter = _current.get()
    if meter is not None:
        meter.add(usage)


def metered() -> UsageMeter:
    """Meter every model call made inside the ``with`` block."""
    return UsageMeter()
