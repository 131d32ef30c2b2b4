"""Events: immutable, causally linked, and round-tripping through JSON as their own type."""

from __future__ import annotations

import pydantic
import pytest

from salesbus.bus import (
    DecodeError,
    DuplicateEventTypeError,
    Event,
    decode_event,
    default_registry,
    encode_event,
)

from .events import Animal, Cat, Dog, Puppy, Tick

EXAMPLES: dict[str, Event] = {
    "Event": Event(correlation_id="c1"),
    "tests.Animal": Animal(name="generic"),
    "tests.Dog": Dog(name="rex", trace_context={"traceparent": "00-abc-def-01"}),
    "tests.Puppy": Puppy(causation_id="e0"),
    "tests.Cat": Cat(lives=7),
    "tests.Tick": Tick(n=3),
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_event_type_round_trips_through_json_as_itself(name: str) -> None:
    event = EXAMPLES[name]
    decoded = decode_event(encode_event(event))
    assert type(decoded) is type(event)
    assert decoded == event


def test_every_event_of_the_shared_test_hierarchy_has_a_round_trip_example() -> None:
    shared = {
        name
        for name in default_registry.names()
        if default_registry.resolve(name).__module__ == Animal.__module__
    }
    assert shared <= set(EXAMPLES)


def test_events_are_immutable() -> None:
    with pytest.raises(pydantic.ValidationError):
        Tick(n=1).n = 2  # type: ignore[misc]


def test_each_event_gets_a_unique_id_and_a_utc_timestamp() -> None:
    ids = {Tick(n=1).event_id for _ in range(1000)}
    assert len(ids) == 1000
    assert Tick(n=1).occurred_at.utcoffset() is not None


def test_a_caused_event_keeps_correlation_and_trace_and_names_its_cause() -> None:
    first = Tick(n=1, correlation_id="run-7", trace_context={"traceparent": "t"})
    second = Dog(**first.caused(name="rex"))
    assert (second.correlation_id, second.causation_id, second.trace_context) == (
        "run-7",
        first.event_id,
        {"traceparent": "t"},
    )


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(pydantic.ValidationError):
        Tick(n=1, surprise=True)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"{}",
        b'{"type": "nobody.Registered", "data": {}}',
        b'{"type": "tests.Tick", "data": {"n": "x"}}',
    ],
)
def test_bad_bytes_raise_decode_error(raw: bytes) -> None:
    with pytest.raises(DecodeError):
        decode_event(raw)


def test_two_classes_cannot_claim_one_type_name() -> None:
    with pytest.raises(DuplicateEventTypeError, match=r"tests\.Tick"):

        class Impostor(Event):
            type_name = "tests.Tick"


def test_an_any_event_field_keeps_the_subclass_through_json() -> None:
    from pydantic import BaseModel

    from salesbus.bus import AnyEvent

    class Holder(BaseModel):
        inner: AnyEvent

    holder = Holder(inner=Cat(lives=3))
    restored = Holder.model_validate_json(holder.model_dump_json())
    assert type(restored.inner) is Cat
    assert restored.inner == holder.inner
