"""JSON encoding of events for transports and stores.

The envelope is ``{"type": <type_name>, "data": <event fields>}``; the type name
selects the class on the way back in, so a subscriber receives the same type the
publisher sent.
"""

from __future__ import annotations

import json

from pydantic import ValidationError

from .errors import DecodeError, UnknownEventTypeError
from .event import Event, EventRegistry, default_registry

__all__ = ["decode_event", "encode_event"]


def encode_event(event: Event) -> bytes:
    """Serialise once: pydantic's Rust serialiser writes the body, the envelope is spliced."""
    body = event.__pydantic_serializer__.to_json(event)
    name = json.dumps(type(event).type_name).encode()
    return b'{"type":' + name + b',"data":' + body + b"}"


def decode_event(raw: bytes | str, registry: EventRegistry = default_registry) -> Event:
    """:raises DecodeError: not JSON, no envelope, an unknown type or invalid fields."""
    try:
        envelope = json.loads(raw)
        name, data = envelope["type"], envelope["data"]
    except (ValueError, TypeError, KeyError) as exc:
        raise DecodeError(f"not an encoded event: {exc}") from exc
    try:
        cls = registry.resolve(name)
        return cls.model_validate(data)
    except UnknownEventTypeError as exc:
        raise DecodeError(str(exc)) from exc
    except ValidationError as exc:
        raise DecodeError(f"invalid {name}: {exc}") from exc
