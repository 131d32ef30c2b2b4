"""A command's logging ends with the command: nothing it installed outlives it.

In-process runs (``CliRunner``, an embedding application calling ``app``) hand
the command a stderr that is closed when the command returns; a handler left on
the root logger would print ``--- Logging error ---`` for every later record.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from .cli_support import run_fast, write_inputs

ONE_LEAD = "name,domain,industry,employees,country\nAcme,acme.example,SaaS,300,United States\n"


def test_a_run_leaves_the_root_logger_as_it_found_it(tmp_path: Path) -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    campaign, leads = write_inputs(tmp_path, leads=ONE_LEAD)

    result = run_fast(leads, campaign, tmp_path / "s.db", "--log-level", "DEBUG")

    assert result.exit_code == 0, result.output
    assert root.handlers == handlers
    assert root.level == level


def test_logging_from_another_thread_after_a_run_prints_no_logging_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    campaign, leads = write_inputs(tmp_path, leads=ONE_LEAD)
    result = run_fast(leads, campaign, tmp_path / "s.db", "--log-format", "json")
    assert result.exit_code == 0, result.output
    capsys.readouterr()

    later = threading.Thread(
        target=logging.getLogger("salesbus.later").error, args=("after the run",)
    )
    later.start()
    later.join()

    assert "Logging error" not in capsys.readouterr().err
