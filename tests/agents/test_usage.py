"""Usage meters: what a step attempt's meter sees, and what a model call's own meter sees."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest

from salesbus.agents.usage import Usage, metered, record_usage

CALL = Usage(calls=1, input_tokens=120, output_tokens=30, cost_usd=0.00042)
OTHER = Usage(calls=1, input_tokens=80, output_tokens=10, cache_read_tokens=4_000, cost_usd=0.0003)


def test_usage_outside_any_meter_goes_nowhere() -> None:
    record_usage(CALL)
    with metered() as meter:
        pass
    assert meter.total == Usage()


def test_a_meter_that_saw_one_call_holds_exactly_that_call() -> None:
    with metered() as meter:
        record_usage(CALL)
    assert meter.total == CALL


def test_a_nested_meter_sees_its_calls_and_the_meter_around_it_sees_them_too() -> None:
    with metered() as step:
        record_usage(CALL)
        with metered() as model_call:
            record_usage(OTHER)
        record_usage(CALL)
    assert model_call.total == OTHER
    assert step.total == CALL + OTHER + CALL
    assert step.total.calls == 3
    assert step.total.cache_read_tokens == 4_000


def test_a_closed_meter_forwards_nothing_more() -> None:
    with metered() as step:
        with metered() as model_call:
            record_usage(CALL)
        model_call.add(OTHER)
    assert step.total == CALL
    assert model_call.total == CALL + OTHER


@pytest.mark.anyio
async def test_concurrent_steps_meter_their_own_calls_only() -> None:
    totals: dict[str, Usage] = {}

    async def step(name: str, calls: int) -> None:
        with metered() as meter:
            for _ in range(calls):
                with metered():
                    await anyio.lowlevel.checkpoint()
                    record_usage(CALL)
        totals[name] = meter.total

    async with anyio.create_task_group() as tg:
        tg.start_soon(step, "research", 1)
        tg.start_soon(step, "analysis", 3)
    assert totals["research"] == CALL
    assert totals["analysis"].calls == 3
    assert totals["analysis"].input_tokens == 3 * CALL.input_tokens
