"""A command's logging lasts as long as the command.

``--log-level``/``--log-format`` install a handler on the root logger, bound to
the stderr the command was given. Run in-process (an embedding application
calling ``app``, a test's ``CliRunner``), that stderr is closed when the
command returns; a handler left behind would print ``--- Logging error ---``
for every later record, from any thread. So the command group takes the root
logger's handlers and level when a command starts and puts them back when it
ends, however it ends.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from salesbus.observability import configure_logging

__all__ = ["command_logging", "configure_command_logging"]


@contextmanager
def command_logging() -> Iterator[None]:
    """Remove, on exit, every root handler added inside the block; restore the level."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)


def configure_command_logging(level: str, fmt: str) -> None:
    """``--log-level`` and ``--log-format`` checked, then the command's handler installed."""
    if fmt not in ("text", "json"):
        raise typer.BadParameter("choose text or json", param_hint="--log-format")
    if level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise typer.BadParameter("choose DEBUG, INFO, WARNING or ERROR", param_hint="--log-level")
    configure_logging(level.upper(), fmt)  # type: ignore[arg-type]
