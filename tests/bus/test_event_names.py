"""Event type names, ids and trusted construction."""

from __future__ import annotations

import os
import time
import uuid

import pytest

from salesbus.bus import (
    DuplicateEventTypeError,
    Event,
    decode_event,
    default_registry,
    encode_event,
    new_event_id,
)

from . import shop_a, shop_b
from .events import Cat, Tick


def test_two_modules_defining_the_same_class_name_coexist() -> None:
    assert shop_a.OrderPlaced.type_name == "tests.bus.shop_a.OrderPlaced"
    assert shop_b.OrderPlaced.type_name == "tests.bus.shop_b.OrderPlaced"
    a, b = shop_a.OrderPlaced(order_id="1"), shop_b.OrderPlaced(order_id="2")
    assert type(decode_event(encode_event(a))) is shop_a.OrderPlaced
    assert type(decode_event(encode_event(b))) is shop_b.OrderPlaced


def test_a_real_clash_names_both_classes() -> None:
    with pytest.raises(DuplicateEventTypeError) as caught:

        class Impostor(Event):
            type_name = "tests.Tick"

    message = str(caught.value)
    assert "tests.bus.events.Tick" in message
    assert "test_a_real_clash_names_both_classes.<locals>.Impostor" in message
    assert default_registry.resolve("tests.Tick") is Tick


def test_redefining_the_same_class_replaces_it_as_a_module_reload_does() -> None:
    def define() -> type[Event]:
        class Reloaded(Event):
            type_name = "tests.Reloaded"

        return Reloaded

    first, second = define(), define()
    assert default_registry.resolve("tests.Reloaded") is second is not first


def test_ids_are_uuid7_and_sort_by_the_millisecond_they_were_minted_in() -> None:
    before = time.time_ns() // 1_000_000
    ids = [new_event_id() for _ in range(20_000)]
    after = time.time_ns() // 1_000_000
    assert len(set(ids)) == len(ids)
    stamps = [int(event_id[:12], 16) for event_id in ids]
    assert stamps == sorted(stamps)
    assert before <= stamps[0] <= stamps[-1] <= after
    for event_id in ids[:100]:
        parsed = uuid.UUID(hex=event_id)
        assert (parsed.version, parsed.variant) == (7, uuid.RFC_4122)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_mints_different_ids_from_its_parent() -> None:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        os.write(write_end, "".join(new_event_id() for _ in range(50)).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    child = {data[i : i + 32] for i in range(0, len(data), 32)}
    parent = {new_event_id() for _ in range(50)}
    assert len(child) == 50
    assert not child & parent


def test_a_trusted_event_equals_the_validated_one() -> None:
    trusted = Cat.trusted(name="tom", lives=3, correlation_id="c")
    validated = Cat(
        name="tom",
        lives=3,
        correlation_id="c",
        event_id=trusted.event_id,
        occurred_at=trusted.occurred_at,
    )
    assert trusted == validated
    assert encode_event(trusted) == encode_event(validated)
    assert Cat.trusted().lives == 9  # defaults filled as the constructor does
    assert Cat.trusted().event_id != Cat.trusted().event_id


def test_a_trusted_event_still_refuses_unknown_or_missing_fields() -> None:
    with pytest.raises(TypeError, match="unknown \\['colour'\\]"):
        Cat.trusted(colour="black")
    with pytest.raises(TypeError, match="missing \\['n'\\]"):
        Tick.trusted()
