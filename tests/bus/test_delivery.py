"""Delivery: every matching subscriber gets every event exactly once, in order at concurrency 1."""

from __future__ import annotations

from collections import Counter

import anyio
import anyio.lowlevel
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salesbus.bus import Event, EventBus

from .events import Animal, Cat, Dog, Puppy, Tick

pytestmark = pytest.mark.anyio

EVENT_TYPES: list[type[Animal]] = [Animal, Dog, Puppy, Cat]

subscriptions = st.lists(
    st.tuples(
        st.sampled_from(EVENT_TYPES),
        st.integers(min_value=1, max_value=5),  # concurrency
        st.integers(min_value=1, max_value=6),  # max_pending
        st.booleans(),  # async handler?
    ),
    min_size=1,
    max_size=6,
)
event_mix = st.lists(st.sampled_from(EVENT_TYPES), max_size=60)


@settings(max_examples=40, deadline=None)
@given(subs=subscriptions, mix=event_mix)
async def test_every_matching_subscriber_receives_each_event_exactly_once(
    subs: list[tuple[type[Animal], int, int, bool]], mix: list[type[Animal]]
) -> None:
    received: list[Counter[str]] = [Counter() for _ in subs]
    events = [cls() for cls in mix]

    async with EventBus() as bus:
        for index, (event_type, concurrency, max_pending, is_async) in enumerate(subs):
            seen = received[index]
            if is_async:

                async def handle(event: Event, seen: Counter[str] = seen) -> None:
                    await anyio.lowlevel.checkpoint()
                    seen[event.event_id] += 1

                bus.subscribe(event_type, handle, concurrency=concurrency, max_pending=max_pending)
            else:
                bus.subscribe(
                    event_type,
                    lambda event, seen=seen: seen.update([event.event_id]),
                    concurrency=concurrency,
                    max_pending=max_pending,
                )
        for event in events:
            await bus.publish(event)

    for (event_type, *_), seen in zip(subs, received, strict=True):
        expected = Counter(e.event_id for e in events if isinstance(e, event_type))
        assert seen == expected


async def test_a_subscription_to_a_base_class_receives_its_subclasses() -> None:
    animals: list[str] = []
    dogs: list[str] = []
    async with EventBus() as bus:
        bus.subscribe(Animal, lambda e: animals.append(type(e).__name__))
        bus.subscribe(Dog, lambda e: dogs.append(type(e).__name__))
        for event in (Animal(), Dog(), Puppy(), Cat()):
            await bus.publish(event)

    assert animals == ["Animal", "Dog", "Puppy", "Cat"]
    assert dogs == ["Dog", "Puppy"]


async def test_concurrency_one_handles_in_publish_order_even_when_handlers_suspend() -> None:
    handled: list[int] = []

    async def handle(event: Tick) -> None:
        await anyio.sleep(0.001 if event.n % 3 == 0 else 0)
        handled.append(event.n)

    async with EventBus() as bus:
        bus.subscribe(Tick, handle, concurrency=1, max_pending=8)
        for n in range(100):
            await bus.publish(Tick(n=n))

    assert handled == list(range(100))


async def test_concurrency_n_runs_n_handlers_at_the_same_time() -> None:
    running = 0
    peak = 0
    all_started = anyio.Event()

    async def handle(event: Tick) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        if running == 40:
            all_started.set()
        await all_started.wait()
        running -= 1

    async with EventBus() as bus:
        bus.subscribe(Tick, handle, concurrency=40)
        with anyio.fail_after(5):
            for n in range(40):
                await bus.publish(Tick(n=n))
            await bus.join()

    assert peak == 40


async def test_events_with_no_subscriber_are_accepted_and_go_nowhere() -> None:
    async with EventBus() as bus:
        await bus.publish(Tick(n=1))
        await bus.join()
    assert bus.last_drain is not None
    assert bus.last_drain.complete


async def test_a_subscription_made_while_running_receives_later_events() -> None:
    got: list[int] = []
    async with EventBus() as bus:
        await bus.publish(Tick(n=1))
        bus.subscribe(Tick, lambda e: got.append(e.n))
        await bus.publish(Tick(n=2))
    assert got == [2]


async def test_unsubscribed_handlers_receive_nothing_more() -> None:
    got: list[int] = []
    async with EventBus() as bus:
        subscription = bus.subscribe(Tick, lambda e: got.append(e.n))
        await bus.publish(Tick(n=1))
        await bus.join()
        bus.unsubscribe(subscription)
        await bus.publish(Tick(n=2))
    assert got == [1]


async def test_the_decorator_form_subscribes_the_function() -> None:
    bus = EventBus()
    got: list[int] = []

    @bus.on(Tick, name="collector")
    async def collect(event: Tick) -> None:
        got.append(event.n)

    async with bus:
        await bus.publish(Tick(n=7))

    assert got == [7]
    assert [s.name for s in bus.subscriptions] == ["collector"]


async def test_two_buses_in_one_process_share_nothing() -> None:
    first: list[int] = []
    second: list[int] = []
    async with EventBus() as one, EventBus() as two:
        one.subscribe(Tick, lambda e: first.append(e.n))
        two.subscribe(Tick, lambda e: second.append(e.n))
        await one.publish(Tick(n=1))
        await two.publish(Tick(n=2))
    assert (first, second) == ([1], [2])
