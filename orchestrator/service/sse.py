"""Server-sent events of state changes, read from the store's event log.

The log's sequence number is each event's SSE ``id``, so a client that
reconnects with ``Last-Event-ID`` gets exactly what it missed — across a
restart of the service too, since the log is in the database.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable

import anyio

from .reads import Reads

__all__ = ["event_stream"]

POLL_SECONDS = 0.2
KEEPALIVE_SECONDS = 15.0


async def event_stream(
    reads: Reads,
    after: int,
    batch_id: str | None,
    closing: Callable[[], bool],
    *,
    poll: float = POLL_SECONDS,
) -> AsyncIterator[str]:
    """SSE frames of every state event after ``after``, then new ones as they are logged.

    Ends when ``closing()`` turns true (the service is shutting down).
    """
    yield "retry: 1000\n\n"
    quiet = 0.0
    while not closing():
        events = await reads.events_since(after, batch_id)
        for event in events:
            after = event.seq
            data = json.dumps(event.payload(), separators=(",", ":"))
            yield f"id: {event.seq}\nevent: {event.payload()['type']}\ndata: {data}\n\n"
        if events:
            quiet = 0.0
            continue
        quiet += poll
        if quiet >= KEEPALIVE_SECONDS:
            quiet = 0.0
            yield ": keep-alive\n\n"
        await anyio.sleep(poll)
