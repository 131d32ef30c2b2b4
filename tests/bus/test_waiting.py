"""Waiting for events: wait_for, request/reply, and how each times out."""

from __future__ import annotations

import anyio
import pytest

from salesbus.bus import Event, EventBus, EventTimeoutError

from .events import Tick

pytestmark = pytest.mark.anyio


async def _settled(bus: EventBus, names: list[str]) -> None:
    """Wait (a little) for ended subscriptions' workers to exit and be forgotten."""
    with anyio.move_on_after(5):
        while [s.name for s in bus.subscriptions] != names:
            await anyio.sleep(0.001)


class Question(Event):
    text: str


class Answer(Event):
    text: str


async def test_wait_for_returns_the_first_matching_event_published_after_it_starts() -> None:
    async with EventBus() as bus:
        await bus.publish(Tick(n=10))  # before: does not count

        async def publish_later() -> None:
            await anyio.sleep(0.01)
            for n in range(5):
                await bus.publish(Tick(n=n))

        async with anyio.create_task_group() as tg:
            tg.start_soon(publish_later)
            event = await bus.wait_for(Tick, lambda e: e.n >= 3, timeout=5)
    assert event.n == 3
    assert bus.subscriptions == ()


async def test_wait_for_times_out_cleanly_and_leaves_nothing_subscribed() -> None:
    async with EventBus() as bus:
        with pytest.raises(EventTimeoutError, match="Tick"):
            await bus.wait_for(Tick, timeout=0.02)
        await bus.publish(Tick(n=1))
        await bus.join()
        await _settled(bus, [])
        assert bus.subscriptions == ()


async def test_a_predicate_that_raises_fails_the_waiter_not_the_bus() -> None:
    async with EventBus() as bus:

        def broken(event: Tick) -> bool:
            raise ValueError("bad predicate")

        async def publish_later() -> None:
            await anyio.sleep(0.01)
            await bus.publish(Tick(n=1))

        async with anyio.create_task_group() as tg:
            tg.start_soon(publish_later)
            with pytest.raises(ValueError, match="bad predicate"):
                await bus.wait_for(Tick, broken, timeout=5)


async def test_request_returns_the_reply_caused_by_the_request() -> None:
    async with EventBus() as bus:

        @bus.on(Question, concurrency=4)
        async def answer(question: Question) -> None:
            await anyio.sleep(0.001 if question.text == "slow" else 0)
            await bus.publish(Answer(**question.caused(text=question.text.upper())))

        replies: dict[str, str] = {}

        async def ask(text: str) -> None:
            reply = await bus.request(Question(text=text), Answer, timeout=5)
            replies[text] = reply.text

        async with anyio.create_task_group() as tg:
            for text in ("slow", "fast", "other"):
                tg.start_soon(ask, text)
    assert replies == {"slow": "SLOW", "fast": "FAST", "other": "OTHER"}


async def test_a_request_nobody_answers_times_out_cleanly() -> None:
    async with EventBus() as bus:
        bus.subscribe(Question, lambda q: None, name="deaf")
        with pytest.raises(EventTimeoutError, match="Answer reply"):
            await bus.request(Question(text="hello?"), Answer, timeout=0.02)
        await bus.join()
        await _settled(bus, ["deaf"])
        assert [s.name for s in bus.subscriptions] == ["deaf"]


async def test_a_timeout_is_also_a_builtin_timeout_error() -> None:
    async with EventBus() as bus:
        with pytest.raises(TimeoutError):
            await bus.wait_for(Tick, timeout=0.01)
