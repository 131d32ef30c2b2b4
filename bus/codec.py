"""JSON encoding of events for transports and stores.

The envelope is ``{"type": <type_name>, "data": <event fields>}``; the type name
selects the class on the way back in, so a subscriber receives the same type the
publisher sent.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator, SerializationInfo, ValidationError

from .errors import DecodeError, UnknownEventTypeError
from .event import Event, EventRegistry, default_registry

__all__ = ["AnyEvent", "decode_event", "encode_event"]


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


def _validate_any_event(value: Any) -> Event:
    if isinstance(value, Event):
        return value
    if isinstance(value, dict) and isinstance(value.get("type"), str) and "data" in value:
        return default_registry.resolve(value["type"]).model_validate(value["data"])
    raise ValueError("expected an event or an envelope {'type': ..., 'data': ...}")


def _serialize_any_event(event: Event, info: SerializationInfo) -> dict[str, Any]:
    return {"type": type(event).type_name, "data": event.model_dump(mode=info.mode)}


AnyEvent = Annotated[
    Event,
    PlainValidator(_validate_any_event, json_schema_input_type=dict[str, Any]),
    PlainSerializer(_serialize_any_event),
]
"""A field holding an event of any registered type, kept as that type through JSON.

A plain ``Event`` field would serialise only the base fields of a subclass;
this one writes the same ``{"type", "data"}`` envelope as :func:`encode_event`.
"""
