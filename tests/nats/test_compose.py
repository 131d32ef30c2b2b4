"""compose.yaml's scale-out profile, checked without Docker (which this suite cannot run).

What can be checked from here is checked for real: the nats service runs
JetStream with its store on a volume; the worker and orchestrator services
reach it at a host and port it serves; and the salesbus command each one runs
is parsed by the real CLI in the service's environment, so a renamed option,
environment variable or example file breaks this test rather than the stack.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import typer
import yaml
from typer.core import TyperGroup

from salesbus.orchestrator.cli import app

ROOT = Path(__file__).resolve().parents[2]


def services() -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    return dict(compose["services"])


def shell_steps(service: dict[str, Any]) -> list[list[str]]:
    """The ``&&``-separated commands of the service's ``sh -c`` script."""
    shell, flag, script = shlex.split(service["command"])
    assert (shell, flag) == ("sh", "-c")
    return [shlex.split(step) for step in script.split("&&")]


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path → mount options (``ro`` or ``rw``)."""
    parsed = (volume.split(":") for volume in service.get("volumes", []))
    return {parts[1]: parts[2] if len(parts) > 2 else "rw" for parts in parsed}


def test_the_nats_service_runs_jetstream_with_its_store_on_a_volume() -> None:
    nats = services()["nats"]
    command = nats["command"]

    assert "-js" in command
    assert command[command.index("-sd") + 1] in mounts(nats)
    assert "healthcheck" in nats


@pytest.mark.parametrize(("name", "subcommand"), [("worker", "worker"), ("orchestrator", "run")])
def test_a_salesbus_service_reaches_nats_and_runs_a_command_the_cli_accepts(
    name: str, subcommand: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    every = services()
    service = every[name]
    environment = {k: str(v) for k, v in service["environment"].items()}
    broker = urlparse(environment["SALESBUS_TRANSPORT"])
    nats = every[str(broker.hostname)]
    assert any(str(port).endswith(f":{broker.port}") for port in nats["ports"])
    assert service["depends_on"]["nats"]["condition"] == "service_healthy"

    *install, (program, *args) = shell_steps(service)
    assert (program, args[0]) == ("salesbus", subcommand)
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    params = group.commands[subcommand].make_context(subcommand, args[1:]).params

    assert params["transport"] == environment["SALESBUS_TRANSPORT"]  # from the environment
    checkout = service["working_dir"]  # where the repository is mounted: paths are from its root
    assert checkout in mounts(service)
    assert (ROOT / params["campaign"]).is_file()
    if subcommand == "run":
        assert (ROOT / params["leads"]).is_file()
        assert str(Path(params["db"]).parent) in mounts(service)  # the store outlives the container
    # pip builds in the source tree: never in the read-only checkout itself.
    pip = next(step for step in install if step[:2] == ["pip", "install"])
    assert mounts(service)[checkout] == "ro"
    assert not any(arg.startswith(checkout) for arg in pip)
