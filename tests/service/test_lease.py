"""One owner across `serve` and `run`: the store's lease keeps both off the same workflows."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

from tests.orchestrator.test_kill_resume import (
    assert_finished_exactly_once,
    start_run,
    wait_for_attempts,
)
from tests.service.server import Server, companies, running_server, wait_for


def wait_for_log(server: Server, text: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while text not in server.output():
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} not in the log:\n{server.output()}")
        time.sleep(0.05)
    return server.output()


def test_a_run_of_workflows_the_service_is_running_exits_2_naming_the_service(
    tmp_path: Path,
) -> None:
    db = tmp_path / "s.db"
    with (
        running_server(
            tmp_path, "--concurrency", "1", "--simulate-latency", "0.3", db=db, approval="never"
        ) as server,
        server.client() as client,
    ):
        batch_id = client.post("/batches", json={"companies": companies(8, "Held")}).json()[
            "batch"
        ]["id"]
        wait_for_attempts(db, 1)
        run = start_run(tmp_path)  # other leads, the same campaign and model: the same lease
        _, stderr = run.communicate(timeout=60)
        message = stderr.decode()
        assert run.returncode == 2, message
        assert f"being run by {socket.gethostname()}:{server.process.pid}:" in message
        assert "Traceback" not in message
        assert client.get(f"/batches/{batch_id}").json()["error"] is None  # serve ran on


def test_the_service_skips_a_batch_a_live_run_holds_and_resumes_it_once_the_run_is_gone(
    tmp_path: Path,
) -> None:
    db = tmp_path / "s.db"
    run = start_run(tmp_path, extra_args=("--simulate-latency", "0.5"))
    try:
        wait_for_attempts(db, 3)
        with running_server(tmp_path, db=db, approval="never") as server, server.client() as client:
            owner = f"{socket.gethostname()}:{run.pid}:"
            log = wait_for_log(server, "skipped: its workflows are being run by")
            assert owner in log
            (batch,) = client.get("/batches").json()
            view = wait_for(client, batch["id"], lambda v: v["error"] is not None)
            assert owner in view["error"]
            assert not view["running"]
            assert run.poll() is None  # the run still owns its batch
    finally:
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=10)

    # A batch `salesbus run` made is resumed by the service too, once its owner is gone.
    with running_server(tmp_path, db=db) as again, again.client() as client:
        (batch,) = client.get("/batches").json()
        wait_for(client, batch["id"], timeout=120)
        assert "skipped" not in again.output()
    assert_finished_exactly_once(db)
