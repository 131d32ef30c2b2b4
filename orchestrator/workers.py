"""Worker liveness on the broker: each worker keeps a key fresh; ``status`` lists the fresh ones.

The keys live in a JetStream key-value bucket whose entries expire after
:data:`LIVENESS_TTL` seconds, so a worker that died (even by SIGKILL) drops
out of the list without anyone cleaning up after it.
"""

from __future__ import annotations

import json
import os
import re
import socket
from collections.abc import Callable
from datetime import UTC, datetime

import anyio
from nats.js.errors import BucketNotFoundError, NoKeysError
from nats.js.kv import KeyValue
from pydantic import BaseModel

from salesbus.bus import EventBus
from salesbus.bus.nats_transport import NatsTransport

__all__ = ["HEARTBEAT_EVERY", "LIVENESS_TTL", "WorkerBeat", "heartbeat", "live_workers"]

HEARTBEAT_EVERY = 5.0
LIVENESS_TTL = 15.0
"""A worker silent for this long is taken as gone (three missed beats)."""


class WorkerBeat(BaseModel):
    """What a worker says about itself on each beat."""

    worker: str
    host: str
    pid: int
    agents: list[str]
    started_at: datetime
    beat_at: datetime
    handled: int
    failed: int
    in_flight: int
    replayed: int = 0
    """Redelivered inputs answered from the step ledger (a model call saved each)."""


def worker_id() -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", f"{socket.gethostname()}-{os.getpid()}")


async def _bucket(transport: NatsTransport) -> KeyValue:
    js = await transport.connect()
    name = f"{transport.stream}_workers"
    try:
        return await js.key_value(name)
    except BucketNotFoundError:
        return await js.create_key_value(bucket=name, ttl=LIVENESS_TTL)


async def heartbeat(
    transport: NatsTransport,
    bus: EventBus,
    agents: list[str],
    replayed: Callable[[], int] = lambda: 0,
) -> None:
    """Beat every :data:`HEARTBEAT_EVERY` seconds until cancelled, then say goodbye."""
    bucket = await _bucket(transport)
    key = worker_id()
    started = datetime.now(UTC)
    try:
        while True:
            stats = bus.statistics()
            beat = WorkerBeat(
                worker=key,
                host=socket.gethostname(),
                pid=os.getpid(),
                agents=agents,
                started_at=started,
                beat_at=datetime.now(UTC),
                handled=sum(s.delivered for s in stats.subscriptions),
                failed=sum(s.failed for s in stats.subscriptions),
                in_flight=stats.outstanding,
                replayed=replayed(),
            )
            await bucket.put(key, beat.model_dump_json().encode())
            await anyio.sleep(HEARTBEAT_EVERY)
    finally:
        with anyio.CancelScope(shield=True), anyio.move_on_after(2):
            await bucket.delete(key)


async def live_workers(transport: NatsTransport) -> list[WorkerBeat]:
    """The workers whose last beat is younger than :data:`LIVENESS_TTL`."""
    bucket = await _bucket(transport)
    try:
        keys = await bucket.keys()
    except NoKeysError:
        return []
    beats: list[WorkerBeat] = []
    for key in keys:
        entry = await bucket.get(key)
        if entry.value:
            beats.append(WorkerBeat.model_validate(json.loads(entry.value)))
    return sorted(beats, key=lambda b: b.worker)
