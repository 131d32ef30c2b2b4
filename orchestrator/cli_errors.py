"""How the command line ends when something goes wrong: one line and an exit code.

- A problem the user can fix (a missing file, a bad option, a damaged or
  missing database): one red line, exit 2.
- A decision that cannot be taken (approving what is not waiting): exit 1.
- A failure of ours or of the machine (a full disk, a bug): one line naming
  the exception, exit 1; ``salesbus --debug …`` shows the traceback instead.
- Ctrl-C at any moment, however many times: exit 130, and for ``run`` and
  ``retry`` the command that resumes.

Errors raised inside a task group arrive wrapped in an ``ExceptionGroup``; the
wrapped error is what is reported.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from typing import NoReturn, TypeVar

import typer
from rich.console import Console

from salesbus.agents.errors import CampaignError, LeadFileError
from salesbus.agents.providers.factory import ProviderConfigError
from salesbus.observability.logs import redact

from .approval import ApprovalError
from .engine import ConcurrencyError
from .lease import LeaseHeld
from .safe_text import safe
from .settings_check import SettingsError
from .store import StoreError
from .store_check import StoreCheckError
from .transports import TransportConfigError

__all__ = ["OPTION_NAMES", "CliError", "debug_mode", "guarded", "ignore_interrupts"]

T = TypeVar("T")


class CliError(Exception):
    """A problem the user can fix; printed without a traceback, exit code 2."""


USER_ERRORS: tuple[type[Exception], ...] = (
    CliError,
    StoreError,
    StoreCheckError,
    CampaignError,
    LeadFileError,
    ProviderConfigError,
    SettingsError,
    TransportConfigError,
    LeaseHeld,
    ConcurrencyError,
)
OPTION_NAMES = {
    "requests_per_minute": "--rpm",
    "retry_base_delay": "--retry-base",
    "simulation.latency": "--simulate-latency",
    "simulation.failure_rate": "--simulate-failures",
    "simulation.permanent_failure_rate": "--simulate-permanent-failures",
}
"""Run settings whose command-line option is not the setting's name with dashes."""

_debug = {"on": False}


def debug_mode(on: bool) -> None:
    """``--debug``: unexpected errors show their traceback."""
    _debug["on"] = on


def guarded(action: Callable[[], T], err: Console) -> T:
    """``action()``, with every way it can fail turned into a line and an exit code."""
    try:
        return action()
    except KeyboardInterrupt:
        _interrupted(err)
    except (typer.Exit, typer.BadParameter):
        raise
    except Exception as exc:  # every failure ends as one line, unless --debug
        leaf = _leaf(exc)
        if isinstance(leaf, USER_ERRORS):
            err.print(f"[red]error:[/] {_shown(_user_message(leaf))}")
            raise typer.Exit(2) from None
        if isinstance(leaf, ApprovalError):
            err.print(f"[red]error:[/] {_shown(str(leaf))}")
            raise typer.Exit(1) from None
        if _debug["on"]:
            raise
        detail = f": {leaf}" if str(leaf) else ""
        err.print(
            f"[red]error:[/] {_shown(type(leaf).__name__ + detail)}"
            " (run with --debug for the traceback)"
        )
        raise typer.Exit(1) from None


def ignore_interrupts() -> None:
    """Once a run has stopped, more Ctrl-Cs must not cut short its exit (code 130 and
    the resume command); the process ends right after."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _interrupted(err: Console) -> NoReturn:
    ignore_interrupts()
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command in ("run", "retry"):
        resume = " ".join(["salesbus", *sys.argv[1:]])
        err.print(f"[yellow]Stopped.[/] Resume with: {safe(resume)}")
    else:
        err.print("[yellow]Interrupted.[/]")
    raise typer.Exit(130)


def _shown(message: str) -> str:
    """A message for the terminal: no secrets, no escape sequences, no Rich markup,
    one line (messages quote file names, cells and servers)."""
    return safe(redact(message))


def _leaf(exc: BaseException) -> BaseException:
    """The error a group wraps (the first one, when several failed together)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _user_message(exc: BaseException) -> str:
    if isinstance(exc, SettingsError):
        option = OPTION_NAMES.get(exc.setting, "--" + exc.setting.replace("_", "-"))
        return f"{option}: {exc.problem}"
    return str(exc)
