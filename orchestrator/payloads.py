"""How step outputs are stored: versioned, and compressed when large.

Version 1 (schema 1) is the event envelope as JSON text. Version 2 is the same
JSON, stored as a zlib-compressed BLOB when it is longer than
:data:`COMPRESS_ABOVE` bytes (an outreach draft is ~20 KB of repetitive JSON
and compresses about fivefold), else as text. A reader tells them apart by
type, and the ``payload_version`` column says which writer stored the row.
"""

from __future__ import annotations

import zlib

from salesbus.bus import Event, encode_event

__all__ = ["COMPRESS_ABOVE", "PAYLOAD_VERSION", "StoredPayload", "load_payload"]

PAYLOAD_VERSION = 2
COMPRESS_ABOVE = 1_024


class StoredPayload:
    """An event bound as a statement parameter, encoded only when the writer binds it.

    sqlite3 asks a parameter to ``__conform__`` itself at execution time, in
    the writer's thread: a burst of step completions then queues events that
    exist anyway, not a second (compressed) copy of each.
    """

    __slots__ = ("event",)

    def __init__(self, event: Event) -> None:
        self.event = event

    def __conform__(self, protocol: object) -> str | bytes:
        data = encode_event(self.event)
        if len(data) > COMPRESS_ABOVE:
            return zlib.compress(data, 6)
        return data.decode()


def load_payload(value: str | bytes) -> str:
    """The JSON text of a stored payload, whichever version stored it."""
    if isinstance(value, bytes):
        return zlib.decompress(value).decode()
    return value
