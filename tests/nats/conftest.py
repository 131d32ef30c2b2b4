"""NATS transport specifications: a real nats-server; nats-py runs on asyncio only."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from salesbus.bus.nats_transport import NatsTransport
from tests.nats_server import NatsServer

_streams = itertools.count()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def stream_name() -> str:
    """A stream (and subject prefix) of the test's own on the session's server."""
    return f"N{next(_streams)}"


@pytest.fixture
def make_transport(nats_url: str, stream_name: str) -> Callable[..., NatsTransport]:
    """Transports on the test's stream: several of them are several processes' connections."""

    def make(**options: Any) -> NatsTransport:
        options.setdefault("nak_delay", 0.05)
        return NatsTransport(nats_url, stream=stream_name, prefix=stream_name.lower(), **options)

    return make


@pytest.fixture
def server(tmp_path: Path) -> Iterator[NatsServer]:
    """A server of the test's own (end-to-end tests restart it, or use the default stream)."""
    with NatsServer(tmp_path / "jetstream") as running:
        yield running
