"""Every async test runs on asyncio and on trio, through anyio's pytest plugin.

``receiver`` and ``telemetry`` give a test a loopback OTLP receiver and a
private telemetry handle exporting to it (global OpenTelemetry providers can be
set once per process, so no in-process test sets them).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from salesbus.observability import Telemetry, configure_telemetry
from tests.fakes.otlp import OtlpReceiver
from tests.nats_server import NatsServer


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as running:
        yield running


@pytest.fixture
def telemetry(receiver: OtlpReceiver) -> Iterator[Telemetry]:
    with configure_telemetry(otlp_endpoint=receiver.url, private=True) as handle:
        yield handle


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real JetStream server for the session; tests keep apart by stream and prefix."""
    with NatsServer(tmp_path_factory.mktemp("jetstream")) as server:
        yield server.url
