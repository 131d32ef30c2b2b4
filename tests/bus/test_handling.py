"""How handlers run: error policies and dead letters, threads, context, statistics."""

from __future__ import annotations

import threading
from contextvars import ContextVar

import anyio
import pytest

from salesbus.bus import (
    DeadLetter,
    ErrorPolicy,
    Event,
    EventBus,
    HandlerFailure,
    decode_event,
    encode_event,
)

from .events import Tick

pytestmark = pytest.mark.anyio

request_id: ContextVar[str] = ContextVar("request_id", default="none")


class Flaky:
    """Fails its first ``failures`` calls, then succeeds."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    async def __call__(self, event: Tick) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError(f"attempt {self.calls} failed")


async def test_a_retried_handler_that_recovers_counts_as_delivered() -> None:
    flaky = Flaky(failures=2)
    failures: list[HandlerFailure] = []
    async with EventBus() as bus:
        bus.on_failure(failures.append)
        bus.subscribe(Tick, flaky, name="flaky", on_error=ErrorPolicy(retries=3, backoff=0.001))
        await bus.publish(Tick(n=1))
        await bus.join()
        stats = bus.statistics()["flaky"]
    assert flaky.calls == 3
    assert (stats.delivered, stats.failed, stats.retried) == (1, 0, 2)
    assert failures == []


async def test_a_dead_lettered_event_carries_the_original_and_its_error() -> None:
    flaky = Flaky(failures=10)
    letters: list[DeadLetter] = []
    failures: list[HandlerFailure] = []
    async with EventBus() as bus:
        bus.on_failure(failures.append)
        bus.subscribe(DeadLetter, letters.append)
        bus.subscribe(
            Tick,
            flaky,
            name="flaky",
            on_error=ErrorPolicy(retries=2, backoff=0.001, dead_letter=True),
        )
        original = Tick(n=7, correlation_id="run-1")
        await bus.publish(original)
        await bus.join()
        stats = bus.statistics()["flaky"]
    assert flaky.calls == 3
    assert (stats.failed, stats.retried, stats.dead_lettered) == (1, 2, 1)
    assert len(failures) == 1
    [letter] = letters
    assert letter.event == original
    assert (letter.subscription, letter.attempts) == ("flaky", 3)
    assert letter.error_type == "builtins.RuntimeError"
    assert letter.error == "attempt 3 failed"
    assert (letter.causation_id, letter.correlation_id) == (original.event_id, "run-1")
    assert decode_event(encode_event(letter)) == letter


async def test_a_failing_dead_letter_handler_is_not_dead_lettered_again() -> None:
    calls: list[str] = []

    def broken_store(letter: DeadLetter) -> None:
        calls.append(letter.subscription)
        raise RuntimeError("store down")

    def always_fails(event: Tick) -> None:
        raise RuntimeError("no")

    async with EventBus() as bus:
        policy = ErrorPolicy(dead_letter=True)
        bus.subscribe(DeadLetter, broken_store, name="store", on_error=policy)
        bus.subscribe(Tick, always_fails, name="tick", on_error=policy)
        await bus.publish(Tick(n=1))
        await bus.join()
    assert calls == ["tick"]


def test_backoff_grows_by_the_factor_up_to_the_cap() -> None:
    policy = ErrorPolicy(retries=5, backoff=0.1, factor=3, max_backoff=1.0)
    assert [policy.delay(n) for n in range(1, 5)] == pytest.approx([0.1, 0.3, 0.9, 1.0])
    with pytest.raises(ValueError, match="invalid error policy"):
        ErrorPolicy(retries=-1)


async def test_a_blocking_handler_runs_in_a_thread_with_the_publishers_context() -> None:
    loop_thread = threading.get_ident()
    seen: list[tuple[int, str, bool]] = []

    def blocking(event: Tick) -> None:
        seen.append((event.n, request_id.get(), threading.get_ident() != loop_thread))

    async with EventBus() as bus:
        bus.subscribe(Tick, blocking, run_in_thread=True, concurrency=2)
        request_id.set("req-42")
        for n in range(4):
            await bus.publish(Tick(n=n))
        await bus.join()
    assert sorted(seen) == [(n, "req-42", True) for n in range(4)]


def test_run_in_thread_refuses_an_async_handler() -> None:
    async def handler(event: Tick) -> None: ...

    with pytest.raises(ValueError, match="run_in_thread"):
        EventBus().subscribe(Tick, handler, run_in_thread=True)


async def test_without_context_isolation_a_handler_runs_in_the_workers_context() -> None:
    isolated: list[str] = []
    shared: list[str] = []

    async def record_isolated(event: Tick) -> None:
        isolated.append(request_id.get())

    async def record_shared(event: Tick) -> None:
        shared.append(request_id.get())

    async with EventBus() as bus:
        bus.subscribe(Tick, record_isolated)
        bus.subscribe(Tick, record_shared, isolate_context=False)
        request_id.set("from-publisher")
        await bus.publish(Tick(n=1))
        await bus.join()
    assert isolated == ["from-publisher"]
    assert shared == ["none"]


async def test_statistics_show_depth_in_flight_and_counts_per_subscription() -> None:
    gate = anyio.Event()

    async def slow(event: Tick) -> None:
        await gate.wait()

    def fails(event: Tick) -> None:
        raise ValueError("x")

    async with EventBus() as bus:
        bus.subscribe(Tick, slow, name="slow", max_pending=10)
        bus.subscribe(Tick, fails, name="fails")
        for n in range(3):
            await bus.publish(Tick(n=n))
        await anyio.sleep(0.01)
        during = bus.statistics()
        gate.set()
        await bus.join()
        after = bus.statistics()
    assert (during["slow"].depth, during["slow"].in_flight, during["slow"].max_pending) == (
        2,
        1,
        10,
    )
    assert during["fails"].failed == 3
    assert during.outstanding == 3
    assert (after["slow"].delivered, after["slow"].depth, after.outstanding) == (3, 0, 0)
    with pytest.raises(KeyError):
        after["nobody"]


class _Unused(Event):
    """Keeps the module's event classes distinct from other test modules'."""
