"""The store: migrated on open, one success per step enforced, no 'database is locked' ever."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import anyio
import pytest

from salesbus.agents.events import CompanySubmitted
from salesbus.agents.models import Company
from salesbus.orchestrator.batch import prepare_batch
from salesbus.orchestrator.schema import SCHEMA_VERSION
from salesbus.orchestrator.store import StoreError, open_store

from .helpers import a_campaign

pytestmark = pytest.mark.anyio


def companies(n: int) -> list[Company]:
    return [Company(name=f"Company {i}", domain=f"c{i}.example", line=i + 2) for i in range(n)]


async def test_a_new_file_is_created_in_wal_mode_at_the_current_schema(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "s.db"
    async with open_store(path):
        pass
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_preparing_the_same_batch_twice_finds_it_instead_of_duplicating(
    tmp_path: Path,
) -> None:
    async with open_store(tmp_path / "s.db") as store:
        first = await prepare_batch(
            store, companies(3), a_campaign(), provider="offline", model="r"
        )
        again = await prepare_batch(
            store, companies(3), a_campaign(), provider="offline", model="r"
        )
        assert (first.created, first.added) == (True, 3)
        assert (again.created, again.added) == (False, 0)
        assert again.batch.id == first.batch.id
        assert len(await store.workflows(first.batch.id)) == 3


async def test_a_step_can_succeed_only_once_per_workflow(tmp_path: Path) -> None:
    async with open_store(tmp_path / "s.db") as store:
        prepared = await prepare_batch(store, companies(1), a_campaign(), provider="o", model="r")
        (workflow,) = await store.workflows(prepared.batch.id)
        event = CompanySubmitted(company=workflow.company, correlation_id=workflow.id)

        def success(attempt: int) -> list[tuple[str, object]]:
            finished = store.attempt_finished(
                workflow.id, "research", attempt, status="succeeded", duration_ms=1.0, usage={}
            )
            return [finished, store.step_output(workflow.id, "research", attempt, event)]

        assert await store.commit(success(1)) == [1, 1]  # type: ignore[arg-type]
        assert await store.commit(success(2)) == [0, 0]  # type: ignore[arg-type]  # refused
        statuses = [(a.attempt, a.status) for a in await store.attempts(workflow.id)]
        assert statuses == [(1, "succeeded")]


async def test_concurrent_writers_on_one_file_never_see_database_is_locked(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    async with open_store(path) as store:
        prepared = await prepare_batch(store, companies(40), a_campaign(), provider="o", model="r")
        batch_id = prepared.batch.id

    async def hammer(label: str) -> None:
        async with open_store(path) as store:
            for workflow in await store.workflows(batch_id):
                for _ in range(5):
                    await store.commit([store.set_state(workflow.id, label)])

    async with anyio.create_task_group() as tg:
        for label in ("a", "b", "c", "d"):
            tg.start_soon(hammer, label)

    async with open_store(path) as store:
        states = await store.state_counts(batch_id)
    assert sum(states.values()) == 40


async def test_running_attempts_left_by_a_crash_become_abandoned_outside_the_retry_budget(
    tmp_path: Path,
) -> None:
    async with open_store(tmp_path / "s.db") as store:
        prepared = await prepare_batch(store, companies(1), a_campaign(), provider="o", model="r")
        (workflow,) = await store.workflows(prepared.batch.id)
        event = CompanySubmitted(company=workflow.company, correlation_id=workflow.id)
        await store.commit([store.attempt_started(workflow.id, "research", 1, event)])
        await store.commit([store.abandon_running_attempts(prepared.batch.id)])
        (attempt,) = await store.attempts(workflow.id)
        assert (attempt.status, attempt.error_kind) == ("abandoned", "interrupted")
        history = (await store.resume_point(workflow)).steps["research"]
        assert (history.last_attempt, history.failures, history.crashes) == (1, 0, 1)


async def test_ids_can_be_given_as_unambiguous_prefixes(tmp_path: Path) -> None:
    async with open_store(tmp_path / "s.db") as store:
        prepared = await prepare_batch(store, companies(30), a_campaign(), provider="o", model="r")
        workflows = await store.workflows(prepared.batch.id)
        target = workflows[0]
        assert (await store.workflow(target.id[:12])).id == target.id
        with pytest.raises(StoreError, match="ambiguous"):
            await store.workflow("wf-")
        with pytest.raises(StoreError, match="no workflow"):
            await store.workflow("wf-nothing-like-it")
        assert (await store.batch(prepared.batch.id[:5])).id == prepared.batch.id


async def test_a_database_from_a_newer_salesbus_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer"):
        async with open_store(path):
            pass
