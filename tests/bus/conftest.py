"""The bus specifications run on the memory transport and on NATS JetStream.

Every test in this folder runs once per transport (one fixture, ``bus_transport``,
which makes ``EventBus()`` build its default transport with it), except tests
marked ``memory_only`` with the reason the NATS transport documents as a
difference. NATS runs on asyncio only (nats-py), so the NATS × trio
combinations are not collected.
"""

from __future__ import annotations

import itertools

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "memory_only(reason): a memory-transport behaviour NATS documents as different"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "bus_transport" in metafunc.fixturenames:
        kinds = ["memory"]
        if metafunc.definition.get_closest_marker("memory_only") is None:
            kinds.append("nats")
        metafunc.parametrize("bus_transport", kinds, indirect=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if params.get("bus_transport") == "nats" and params.get("anyio_backend") == "trio":
            dropped.append(item)
        else:
            keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


_streams = itertools.count()


@pytest.fixture(autouse=True)
def bus_transport(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    kind = str(request.param)
    if kind == "nats":
        from salesbus.bus.nats_transport import NatsTransport

        url = request.getfixturevalue("nats_url")

        def fresh_stream() -> NatsTransport:
            # A stream per bus: tests never see each other's events.
            n = next(_streams)
            return NatsTransport(url, stream=f"T{n}", prefix=f"t{n}", max_deliver=1)

        monkeypatch.setattr("salesbus.bus.bus.MemoryTransport", fresh_stream)
    return kind
