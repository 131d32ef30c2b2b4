"""Each test gets a loopback OTLP receiver and a private telemetry handle exporting to it.

Global OpenTelemetry providers can be set once per process, so no test here
sets them: the handle is ``private`` and is passed to every component. What
needs the globals runs in a subprocess (``test_setup.py``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from salesbus.observability import Telemetry, configure_telemetry
from tests.fakes.otlp import OtlpReceiver


@pytest.fixture(autouse=True)
def _no_otel_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own OTEL_* settings must not steer the tests."""
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as running:
        yield running


@pytest.fixture
def telemetry(receiver: OtlpReceiver) -> Iterator[Telemetry]:
    with configure_telemetry(otlp_endpoint=receiver.url, private=True) as handle:
        yield handle
