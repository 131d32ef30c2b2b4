"""Fair admission: one in-flight limit, waiting batches served in turn."""

from __future__ import annotations

import anyio
import pytest

from salesbus.orchestrator.service.admission import FairAdmission

pytestmark = pytest.mark.anyio


async def test_waiting_batches_take_free_slots_in_turn_not_in_arrival_order() -> None:
    admission = FairAdmission(limit=1)
    assert await admission.acquire("big")
    order: list[str] = []

    async def admit(batch: str) -> None:
        assert await admission.acquire(batch)
        order.append(batch)

    async with anyio.create_task_group() as tg:
        for _ in range(3):
            tg.start_soon(admit, "big")
        await anyio.wait_all_tasks_blocked()
        tg.start_soon(admit, "small")
        await anyio.wait_all_tasks_blocked()
        for _ in range(4):
            admission.release(order[-1] if order else "big")
            await anyio.wait_all_tasks_blocked()
    # Three of "big" asked before "small", yet "small" gets the second slot (FIFO: the fourth).
    assert order == ["big", "small", "big", "big"]
    assert admission.in_flight == 1


async def test_no_more_than_the_limit_is_ever_in_flight() -> None:
    admission = FairAdmission(limit=3)
    peak = 0

    async def workflow(batch: str) -> None:
        nonlocal peak
        assert await admission.acquire(batch)
        peak = max(peak, admission.in_flight)
        await anyio.sleep(0.001)
        admission.release(batch)

    async with anyio.create_task_group() as tg:
        for n in range(30):
            tg.start_soon(workflow, f"b{n % 4}")
    assert peak == 3
    assert admission.in_flight == 0
    assert admission.held == {}


async def test_a_withdrawn_batch_is_turned_away_and_its_slot_goes_to_another() -> None:
    admission = FairAdmission(limit=1)
    assert await admission.acquire("a")
    answers: dict[str, bool] = {}

    async def ask(batch: str) -> None:
        answers[batch] = await admission.acquire(batch)

    async with anyio.create_task_group() as tg:
        tg.start_soon(ask, "cancelled")
        tg.start_soon(ask, "other")
        await anyio.wait_all_tasks_blocked()
        admission.withdraw("cancelled")
        admission.release("a")
    assert answers == {"cancelled": False, "other": True}
    assert not await admission.acquire("cancelled")
    admission.readmit("cancelled")
    admission.release("other")
    assert await admission.acquire("cancelled")


async def test_a_waiter_cancelled_while_waiting_leaves_no_slot_behind() -> None:
    admission = FairAdmission(limit=1)
    assert await admission.acquire("a")
    with anyio.move_on_after(0.01):
        await admission.acquire("b")
    assert admission.queued == 0
    admission.release("a")
    assert admission.in_flight == 0
    assert await admission.acquire("c")
