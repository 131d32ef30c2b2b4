"""No path ends in limbo: whatever fails — a store write, a reaction, a full inbox — every
workflow ends final, ``run()`` returns, and nothing committed is lost."""

from __future__ import annotations

import random
import sqlite3
from collections import Counter
from pathlib import Path

import anyio
import pytest

from salesbus.agents.status import StepStarted
from salesbus.bus import EventBus
from salesbus.orchestrator.batch import prepare_batch
from salesbus.orchestrator.engine import Orchestrator
from salesbus.orchestrator.faults import Faults
from salesbus.orchestrator.retry import RetryPolicy
from salesbus.orchestrator.states import TERMINAL_STATES
from salesbus.orchestrator.store import Store, open_store

from .helpers import a_campaign
from .toy import Script, names, toy_pipeline

pytestmark = pytest.mark.anyio

FAST = RetryPolicy(max_attempts=4, base_delay=0.001, max_delay=0.01)

WRITE_SITES = {
    "admission": "UPDATE workflows SET state = ?, step = ?, reason = ?, retry_base = ?",
    "attempt started": "input_event_id) VALUES",
    "attempt finished": "started_at, ended_at,",
    "event log": "INSERT OR IGNORE INTO events",
}


class FailingSite:
    """Makes statements containing ``marker`` fail their first ``times`` executions."""

    def __init__(self, marker: str, times: int) -> None:
        self.marker, self.times, self.failed = marker, times, 0

    def __call__(self, sql: str) -> None:
        if self.marker in sql and self.failed < self.times:
            self.failed += 1
            raise sqlite3.OperationalError(f"injected: disk I/O error ({self.failed})")


async def run_batch_of(
    store: Store, script: Script, companies: list[str], **options: object
) -> tuple[str, Orchestrator]:
    prepared = await prepare_batch(
        store, names(*companies), a_campaign(), provider="toy", model="toy"
    )
    async with EventBus() as bus:
        orchestrator = Orchestrator(bus, store, toy_pipeline(script), retry=FAST, **options)  # type: ignore[arg-type]
        with anyio.fail_after(60):
            await orchestrator.run(prepared.batch.id)
    return prepared.batch.id, orchestrator


@pytest.mark.parametrize("site", sorted(WRITE_SITES))
async def test_a_store_write_that_fails_at_any_site_is_retried_and_nothing_is_lost(
    tmp_path: Path, site: str
) -> None:
    failing = FailingSite(WRITE_SITES[site], times=3)
    script = Script()
    companies = [f"C{i:02}" for i in range(12)]
    async with open_store(tmp_path / "s.db", faults=Faults(statement=failing)) as store:
        batch_id, _ = await run_batch_of(store, script, companies)
        assert await store.state_counts(batch_id) == {"completed": 12}
        assert store.lost_writes == 0
    assert failing.failed == 3
    assert all(n == 1 for n in script.calls.values()), script.calls
    with sqlite3.connect(tmp_path / "s.db") as conn:
        started = conn.execute(
            "SELECT COUNT(*) FROM step_attempts a JOIN events e ON e.event_id = a.input_event_id"
        )
        assert started.fetchone()[0] == 24  # every attempt_started kept
        logged = conn.execute("SELECT COUNT(DISTINCT workflow_id) FROM events")
        assert logged.fetchone()[0] == 12


async def test_a_commit_that_keeps_failing_fails_its_workflow_with_the_reason(
    tmp_path: Path,
) -> None:
    failing = FailingSite("started_at, ended_at,", times=10**6)
    async with open_store(tmp_path / "s.db", faults=Faults(statement=failing)) as store:
        batch_id, _ = await run_batch_of(store, Script(), ["Ann", "Bob"])
        workflows = await store.workflows(batch_id)
    assert {w.state for w in workflows} == {"failed"}
    assert all("could not store the outcome" in (w.reason or "") for w in workflows)


async def test_a_write_lost_after_every_try_fails_its_workflow_not_only_a_log_line(
    tmp_path: Path,
) -> None:
    failing = FailingSite("input_event_id) VALUES", times=10**6)
    script = Script(slow={"count": 0.3})
    async with open_store(tmp_path / "s.db", faults=Faults(statement=failing)) as store:
        batch_id, _ = await run_batch_of(store, script, ["Ann", "Bob"])
        workflows = await store.workflows(batch_id)
        assert store.lost_writes >= 2
    assert {w.state for w in workflows} == {"failed"}
    assert all("a store write failed" in (w.reason or "") for w in workflows)


async def test_one_bad_statement_does_not_undo_the_others_in_its_group(tmp_path: Path) -> None:
    lost: list[str | None] = []
    async with open_store(tmp_path / "s.db") as store:
        store.on_lost_write = lambda owner, error: lost.append(owner)
        await store.commit([("CREATE TABLE notes (text TEXT NOT NULL)", ())])
        store.enqueue([("INSERT INTO notes VALUES (?)", ("first",))], owner="a")
        store.enqueue([("INSERT INTO notes VALUES (?)", (None,))], owner="b")  # NOT NULL
        store.enqueue([("INSERT INTO notes VALUES (?)", ("third",))], owner="c")
        await store.flush()
        for _ in range(10):  # the bad write is retried in later groups
            await store.flush()
    with sqlite3.connect(tmp_path / "s.db") as conn:
        assert [r[0] for r in conn.execute("SELECT text FROM notes")] == ["first", "third"]
    assert lost == ["b"]


async def test_an_exception_escaping_a_reaction_fails_that_workflow_and_run_returns(
    tmp_path: Path,
) -> None:
    faults = Faults(handler_error_rate=0.2, rng=random.Random(7))
    companies = [f"C{i:02}" for i in range(30)]
    async with open_store(tmp_path / "s.db", faults=faults) as store:
        batch_id, orchestrator = await run_batch_of(store, Script(), companies)
        workflows = await store.workflows(batch_id)
    assert all(w.state in TERMINAL_STATES for w in workflows)
    failed = [w for w in workflows if w.state == "failed"]
    assert failed, "a 20% fault rate over 30 workflows should fail some"
    assert all("internal error in orchestrator:" in (w.reason or "") for w in failed)
    assert orchestrator.progress.in_flight == 0


async def test_a_concurrency_above_every_default_inbox_with_a_slow_step_completes(
    tmp_path: Path,
) -> None:
    script = Script(slow={"double": 0.2})
    companies = [f"C{i:04}" for i in range(2_600)]
    async with open_store(tmp_path / "s.db") as store:
        batch_id, _ = await run_batch_of(store, script, companies, concurrency=5_000)
        assert await store.state_counts(batch_id) == {"completed": 2_600}


async def test_after_stop_no_new_step_starts_and_the_next_run_finishes_the_rest(
    tmp_path: Path,
) -> None:
    script = Script(slow={"count": 0.1})
    companies = [f"C{i:02}" for i in range(10)]
    started_after_stop: list[str] = []
    async with open_store(tmp_path / "s.db") as store:
        prepared = await prepare_batch(
            store, names(*companies), a_campaign(), provider="t", model="t"
        )
        async with EventBus() as bus:
            orchestrator = Orchestrator(bus, store, toy_pipeline(script), retry=FAST, concurrency=4)

            def stop_on_first_start(event: StepStarted) -> None:
                if orchestrator.stopping:
                    started_after_stop.append(f"{event.step}/{event.correlation_id}")
                else:
                    orchestrator.stop()

            bus.subscribe(StepStarted, stop_on_first_start)
            with anyio.fail_after(30):
                await orchestrator.run(prepared.batch.id)
        # The four admitted steps were queued or running when it stopped: the running
        # ones finished and were committed; nothing after them started.
        assert not [s for s in started_after_stop if s.startswith("double/")]
        assert script.calls["double/C00"] == 0
        first_calls = Counter(script.calls)
        assert 1 <= sum(first_calls.values()) <= 4

        async with EventBus() as bus:
            await Orchestrator(bus, store, toy_pipeline(script), retry=FAST).run(prepared.batch.id)
        assert await store.state_counts(prepared.batch.id) == {"completed": 10}
    assert all(n == 1 for n in script.calls.values()), script.calls


async def test_a_workflow_with_every_step_done_but_no_final_state_is_settled_not_rerun(
    tmp_path: Path,
) -> None:
    script = Script()
    async with open_store(tmp_path / "s.db") as store:
        batch_id, _ = await run_batch_of(store, script, ["Ann", "Bob"])
        (ann, _) = await store.workflows(batch_id)
        await store.commit([store.set_state(ann.id, "doubling", step="double")])
        async with EventBus() as bus:
            await Orchestrator(bus, store, toy_pipeline(script), retry=FAST).run(batch_id)
        assert await store.state_counts(batch_id) == {"completed": 2}
    assert all(n == 1 for n in script.calls.values()), script.calls
