"""Text from a file or a model, made safe to print with Rich.

A company name such as ``Acme [/b] Corp`` is Rich markup (and crashes the
console), ``[red]`` vanishes and ``:100:`` becomes an emoji; an escape sequence
in a cell can move the cursor or retitle the terminal. Everything the CLI prints
that it did not write itself goes through :func:`safe`; the consoles are made
with ``emoji=False``.
"""

from __future__ import annotations

from rich.markup import escape

from salesbus.agents.leads.cells import strip_controls

__all__ = ["safe"]


def safe(value: object, *, single_line: bool = True) -> str:
    """``value`` as text with control characters removed and Rich markup escaped;
    ``single_line`` also folds line breaks into spaces."""
    text = strip_controls(str(value))
    if single_line:
        text = " ".join(text.split())
    return escape(text)
