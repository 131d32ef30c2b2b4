"""Every error a user can cause is one line and exit 2; ours are exit 1 without a traceback."""

from __future__ import annotations

import csv
import io
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from salesbus.orchestrator import cli_export
from salesbus.orchestrator.cli import app

from .cli_support import run_fast, salesbus, write_inputs
from .test_kill_resume import start_run, wait_for_attempts

ONE_LEAD = "name,domain,industry,employees,country\nAcme,acme.example,SaaS,300,United States\n"


def assert_one_line(output: str) -> None:
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("error: ")


@pytest.mark.parametrize(
    ("option", "value", "named"),
    [
        ("--rpm", "-10", "--rpm: must be at least 1"),
        ("--rpm", "nan", "--rpm: must be a finite number"),
        ("--step-timeout", "-1", "--step-timeout: must be above 0"),
        ("--step-timeout", "inf", "--step-timeout: must be a finite number"),
        ("--retry-base", "-0.5", "--retry-base: must be at least 0"),
        ("--max-attempts", "1000", "--max-attempts: must be at least 1 and at most 100"),
        ("--concurrency", "10000000", "--concurrency: must be at least 1 and at most 10000"),
    ],
)
def test_a_run_option_out_of_range_is_one_line_and_exit_2(
    tmp_path: Path, option: str, value: str, named: str
) -> None:
    campaign, leads = write_inputs(tmp_path, leads=ONE_LEAD)
    result = run_fast(leads, campaign, tmp_path / "s.db", option, value)
    assert result.exit_code == 2
    assert_one_line(result.output)
    assert named in result.output
    assert not (tmp_path / "s.db").exists()


def test_a_latin1_campaign_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    campaign, leads = write_inputs(tmp_path, leads=ONE_LEAD)
    campaign.write_bytes(campaign.read_text().replace("Sam Lee", "Sam Lée").encode("latin-1"))
    result = run_fast(leads, campaign, tmp_path / "s.db")
    assert result.exit_code == 2
    assert_one_line(result.output)
    assert "is not UTF-8 text" in result.output


def test_an_edit_with_a_missing_body_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = salesbus(
        "edit", "wf-1", "--body-file", tmp_path / "nope.txt", "--db", tmp_path / "s.db"
    )
    assert result.exit_code == 2
    assert_one_line(result.output)
    assert "cannot read" in result.output


def test_an_export_into_a_missing_folder_is_one_line_and_exit_2(tmp_path: Path) -> None:
    campaign, leads = write_inputs(tmp_path, leads=ONE_LEAD)
    db = tmp_path / "s.db"
    assert run_fast(leads, campaign, db).exit_code == 0
    result = salesbus("export", "--db", db, "-o", tmp_path / "missing" / "out.csv")
    assert result.exit_code == 2
    assert_one_line(result.output)
    assert "no folder" in result.output


def test_a_failure_of_ours_is_exit_1_with_one_line_and_a_traceback_only_with_debug(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign, leads = write_inputs(tmp_path, leads=ONE_LEAD)
    db = tmp_path / "s.db"
    assert run_fast(leads, campaign, db).exit_code == 0

    async def broken(*args: object, **kwargs: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cli_export, "export_batch", broken)
    result = salesbus("export", "--db", db)
    assert result.exit_code == 1
    assert_one_line(result.output)
    assert "No space left on device (run with --debug for the traceback)" in result.output

    debugged = CliRunner().invoke(app, ["--debug", "export", "--db", str(db)])
    assert debugged.exit_code == 1
    assert isinstance(debugged.exception, OSError)


@pytest.mark.parametrize("presses", [2, 3, 5])
def test_ctrl_c_pressed_any_number_of_times_exits_130_with_the_resume_command(
    tmp_path: Path, presses: int
) -> None:
    process = start_run(tmp_path, extra_args=("--simulate-latency", "0.5"))
    try:
        wait_for_attempts(tmp_path / "s.db", at_least=2)
        for _ in range(presses):
            process.send_signal(signal.SIGINT)
            time.sleep(0.05)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    text = stderr.decode()
    assert process.returncode == 130, text
    assert "Traceback" not in text
    assert "Resume with: salesbus run" in text


def test_ctrl_c_while_the_batch_is_being_prepared_exits_130_with_the_resume_command(
    tmp_path: Path,
) -> None:
    campaign, leads = write_inputs(tmp_path, leads=ONE_LEAD)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "ANTHROPIC_"))}
    db = tmp_path / "s.db"
    command = [
        *(sys.executable, "-m", "salesbus.orchestrator.cli", "run", str(leads)),
        *("--campaign", str(campaign), "--db", str(db), "--llm", "offline"),
        *("--simulate-latency", "1"),
    ]
    run = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not db.exists() and time.monotonic() < deadline:
            time.sleep(0.005)
        run.send_signal(signal.SIGINT)
        _, stderr = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
    text = stderr.decode()
    assert "Traceback" not in text
    assert run.returncode == 130, text
    assert "Resume with: salesbus run" in text


OPTION_VALUES = st.one_of(
    st.sampled_from(["nan", "inf", "-inf", "-1", "0", "1e400", "", "abc", "1_000", " 3 "]),
    st.integers(min_value=-(10**9), max_value=10**9).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=8),
)
OPTIONS = ["--concurrency", "--llm-concurrency", "--max-attempts", "--step-timeout", "--rpm"]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=st.dictionaries(st.sampled_from(OPTIONS), OPTION_VALUES, min_size=1, max_size=3))
def test_any_run_options_end_in_exit_0_or_2_without_a_traceback(
    tmp_path_factory: pytest.TempPathFactory, values: dict[str, str]
) -> None:
    tmp = tmp_path_factory.mktemp("cli")
    campaign, leads = write_inputs(tmp, leads=ONE_LEAD)
    if "--rpm" in values:
        try:
            if 0 < float(values["--rpm"]) < 1000:
                values["--rpm"] = "1000"  # a valid but slow limit would only make this wait
        except ValueError:
            pass
    extra = [part for option, value in values.items() for part in (option, value)]
    result = CliRunner().invoke(
        app,
        [
            *("run", str(leads), "--campaign", str(campaign), "--db", str(tmp / "s.db")),
            *("--llm", "offline", "--retry-base", "0", *extra),
        ],
    )
    assert result.exit_code in (0, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output


LEAD_CELLS = st.one_of(
    st.text(max_size=20),
    st.text(alphabet=st.characters(max_codepoint=0x9F), max_size=12),
    st.sampled_from(["=1+1", "-Dana", "\x1b]8;;http://evil.example\x07x", "\x00", "10k"]),
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.tuples(LEAD_CELLS, LEAD_CELLS, LEAD_CELLS), min_size=1, max_size=4),
    raw=st.binary(max_size=40),
)
def test_any_lead_rows_run_and_export_without_a_traceback_or_control_characters(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str, str, str]], raw: bytes
) -> None:
    tmp = tmp_path_factory.mktemp("leads")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["name", "employees", "description"])
    writer.writerows(rows)
    campaign, leads = write_inputs(tmp, leads=buffer.getvalue())
    with leads.open("ab") as handle:
        handle.write(raw)  # and whatever bytes follow
    db = tmp / "s.db"
    result = run_fast(leads, campaign, db)
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        return
    exported = salesbus("export", "--db", db, "--format", "csv")
    assert exported.exit_code == 0, exported.output
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", exported.stdout)
