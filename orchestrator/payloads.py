"""How step outputs are stored: once, versioned, and compressed when large.

Version 1 (schema 1) is the event envelope as JSON text. Version 2 stores each
step's output once: the payload fields an output carries over unchanged from
its input (the analysis event carries the profile; the draft carries both)
are left out and named under ``"carried"``, and :func:`expand` puts them back
from the previous step's output when it is read. The JSON is stored as a
zlib-compressed BLOB when longer than :data:`COMPRESS_ABOVE` bytes, else as
text, in the ``step_outputs`` table; a reader tells them apart by type, and
the ``payload_version`` column says which writer stored the row.
"""

from __future__ import annotations

import json
import zlib

from pydantic import BaseModel

from salesbus.bus import Event, encode_event

__all__ = [
    "COMPRESS_ABOVE",
    "PAYLOAD_VERSION",
    "StoredPayload",
    "carried_fields",
    "expand",
    "load_payload",
]

PAYLOAD_VERSION = 2
COMPRESS_ABOVE = 1_024


class StoredPayload:
    """An event bound as a statement parameter, encoded only when the writer binds it.

    sqlite3 asks a parameter to ``__conform__`` itself at execution time, in
    the writer's thread: a burst of step completions then queues events that
    exist anyway, not a second (compressed) copy of each.
    """

    __slots__ = ("carried", "event")

    def __init__(self, event: Event, carried: tuple[str, ...] = ()) -> None:
        self.event = event
        self.carried = carried

    def __conform__(self, protocol: object) -> str | bytes:
        event = self.event
        if self.carried:
            data = event.__pydantic_serializer__.to_json(event, exclude=set(self.carried))
            data = (
                b'{"type":'
                + json.dumps(type(event).type_name).encode()
                + b',"data":'
                + data
                + b',"carried":'
                + json.dumps(list(self.carried)).encode()
                + b"}"
            )
        else:
            data = encode_event(event)
        if len(data) > COMPRESS_ABOVE:
            return zlib.compress(data, 6)
        return data.decode()


def load_payload(value: str | bytes) -> str:
    """The JSON text of a stored payload, whichever version stored it."""
    if isinstance(value, bytes):
        return zlib.decompress(value).decode()
    return value


def carried_fields(output: Event, source: Event | None) -> tuple[str, ...]:
    """The payload fields ``output`` took unchanged (the same object) from ``source``."""
    if source is None:
        return ()
    return tuple(
        name
        for name, value in output
        if isinstance(value, BaseModel) and getattr(source, name, None) is value
    )


def expand(stored: str, previous: str | None) -> str:
    """A stored output made whole again from the previous step's (whole) output."""
    if '"carried":' not in stored:
        return stored
    envelope = json.loads(stored)
    carried = envelope.pop("carried", [])
    if carried:
        if previous is None:
            raise ValueError(f"a stored {envelope['type']} needs the previous step's output")
        source = json.loads(previous)["data"]
        for name in carried:
            envelope["data"][name] = source[name]
    return json.dumps(envelope, separators=(",", ":"))
