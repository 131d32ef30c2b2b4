"""The orchestrator: every company reaches an end state, durably, within its limits."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from salesbus.agents.status import StepStarted, StepSucceeded
from salesbus.bus import EventBus
from salesbus.orchestrator.batch import prepare_batch
from salesbus.orchestrator.engine import Orchestrator
from salesbus.orchestrator.events import WorkflowCompleted, WorkflowFailed
from salesbus.orchestrator.retry import RetryPolicy
from salesbus.orchestrator.store import Store, open_store

from .helpers import a_campaign
from .toy import Script, names, toy_pipeline

pytestmark = pytest.mark.anyio

FAST = RetryPolicy(max_attempts=4, base_delay=0.001, max_delay=0.01)


async def run_toy(
    store: Store, script: Script, companies: list[str], **options: object
) -> tuple[str, Orchestrator]:
    prepared = await prepare_batch(
        store, names(*companies), a_campaign(), provider="toy", model="toy"
    )
    spec = toy_pipeline(
        script,
        with_check=bool(options.pop("with_check", False)),
        approve_odd=bool(options.pop("approve_odd", False)),
    )
    async with EventBus() as bus:
        retry = options.pop("retry", FAST)
        orchestrator = Orchestrator(bus, store, spec, retry=retry, **options)  # type: ignore[arg-type]
        await orchestrator.run(prepared.batch.id)
    return prepared.batch.id, orchestrator


async def test_every_company_runs_every_step_once_and_completes(tmp_path: Path) -> None:
    script = Script()
    async with open_store(tmp_path / "s.db") as store:
        batch_id, _ = await run_toy(store, script, ["Ann", "Bob", "Cleo"])
        workflows = await store.workflows(batch_id)
        assert [(w.company.name, w.state) for w in workflows] == [
            ("Ann", "completed"),
            ("Bob", "completed"),
            ("Cleo", "completed"),
        ]
        for workflow in workflows:
            attempts = await store.attempts(workflow.id)
            assert [(a.step, a.attempt, a.status) for a in attempts] == [
                ("count", 1, "succeeded"),
                ("double", 1, "succeeded"),
            ]
            assert all(a.calls == 1 and a.input_tokens == 3 for a in attempts)
    assert sum(script.calls.values()) == 6


async def test_transient_failures_are_retried_until_the_step_succeeds(tmp_path: Path) -> None:
    script = Script(transient={"Ann": 2, "Bob": 1})
    async with open_store(tmp_path / "s.db") as store:
        batch_id, orchestrator = await run_toy(store, script, ["Ann", "Bob", "Cleo"])
        states = {w.company.name: w.state for w in await store.workflows(batch_id)}
        assert states == {"Ann": "completed", "Bob": "completed", "Cleo": "completed"}
        (ann,) = [w for w in await store.workflows(batch_id) if w.company.name == "Ann"]
        doubles = [
            (a.attempt, a.status, a.error_kind)
            for a in await store.attempts(ann.id)
            if a.step == "double"
        ]
        assert doubles == [
            (1, "failed", "server_error"),
            (2, "failed", "server_error"),
            (3, "succeeded", None),
        ]
    assert orchestrator.progress.retries == 3


async def test_a_step_that_keeps_failing_fails_the_workflow_with_the_reason(tmp_path: Path) -> None:
    script = Script(transient={"Ann": 99})
    async with open_store(tmp_path / "s.db") as store:
        batch_id, _ = await run_toy(store, script, ["Ann", "Bob"])
        (ann, bob) = await store.workflows(batch_id)
        assert (ann.state, bob.state) == ("failed", "completed")
        assert ann.reason == "double failed (4 attempts): server_error: try again"
    assert script.calls["double/Ann"] == 4


async def test_a_permanent_error_fails_at_once_without_retrying(tmp_path: Path) -> None:
    script = Script(permanent={"Bob"})
    failed: list[WorkflowFailed] = []
    async with open_store(tmp_path / "s.db") as store:
        prepared = await prepare_batch(
            store, names("Ann", "Bob"), a_campaign(), provider="t", model="t"
        )
        async with EventBus() as bus:
            bus.subscribe(WorkflowFailed, failed.append)
            await Orchestrator(bus, store, toy_pipeline(script), retry=FAST).run(prepared.batch.id)
        bob = (await store.workflows(prepared.batch.id))[1]
        assert bob.state == "failed"
        assert bob.reason == "count failed (permanent error): bad_request: Bob cannot be counted"
    assert script.calls["count/Bob"] == 1
    assert [(f.step, f.correlation_id) for f in failed] == [("count", bob.id)]


async def test_retry_after_from_the_server_is_waited_for(tmp_path: Path) -> None:
    script = Script(transient={"Ann": 1}, retry_after=0.3)
    policy = RetryPolicy(max_attempts=4, base_delay=0.001, max_delay=1.0)
    async with open_store(tmp_path / "s.db") as store:
        batch_id, _ = await run_toy(store, script, ["Ann"], retry=policy)
        (ann,) = await store.workflows(batch_id)
        first, second = [a for a in await store.attempts(ann.id) if a.step == "double"]
    assert first.ended_at is not None
    waited = datetime.fromisoformat(second.started_at) - datetime.fromisoformat(first.ended_at)
    assert waited.total_seconds() >= 0.29


async def test_no_more_than_the_admission_limit_is_ever_in_flight(tmp_path: Path) -> None:
    script = Script(delay=0.01)
    async with open_store(tmp_path / "s.db") as store:
        batch_id, _ = await run_toy(store, script, [f"C{i:02}" for i in range(30)], concurrency=4)
        assert set((await store.state_counts(batch_id)).keys()) == {"completed"}
    assert script.peak == 4


async def test_a_skip_ends_the_workflow_as_disqualified_with_the_reason(tmp_path: Path) -> None:
    script = Script(skip={"Al"})
    completed: list[WorkflowCompleted] = []
    async with open_store(tmp_path / "s.db") as store:
        prepared = await prepare_batch(
            store, names("Al", "Bea"), a_campaign(), provider="t", model="t"
        )
        async with EventBus() as bus:
            bus.subscribe(WorkflowCompleted, completed.append)
            await Orchestrator(bus, store, toy_pipeline(script), retry=FAST).run(prepared.batch.id)
        al = (await store.workflows(prepared.batch.id))[0]
        assert (al.state, al.reason) == ("disqualified", "too short a name")
        assert [a.status for a in await store.attempts(al.id)] == ["skipped"]
    assert sorted(c.outcome for c in completed) == ["completed", "disqualified"]
    assert script.calls["double/Al"] == 0


async def test_a_draft_the_policy_flags_waits_for_approval(tmp_path: Path) -> None:
    async with open_store(tmp_path / "s.db") as store:
        batch_id, _ = await run_toy(store, Script(), ["Ann", "Bobo"], approve_odd=True)
        states = {w.company.name: (w.state, w.reason) for w in await store.workflows(batch_id)}
    assert states == {"Ann": ("awaiting_approval", "odd half"), "Bobo": ("completed", None)}


async def test_adding_a_step_is_one_agent_and_one_line(tmp_path: Path) -> None:
    script = Script()
    async with open_store(tmp_path / "s.db") as store:
        batch_id, _ = await run_toy(store, script, ["Ann", "Bobo"], with_check=True)
        for workflow in await store.workflows(batch_id):
            assert workflow.state == "completed"
            steps = [a.step for a in await store.attempts(workflow.id)]
            assert steps == ["count", "double", "check"]


async def test_a_stopped_run_resumes_without_repeating_a_finished_step(tmp_path: Path) -> None:
    script = Script(delay=0.005)
    companies = [f"C{i:02}" for i in range(20)]
    async with open_store(tmp_path / "s.db") as store:
        prepared = await prepare_batch(
            store, names(*companies), a_campaign(), provider="t", model="t"
        )
        async with EventBus() as bus:
            orchestrator = Orchestrator(bus, store, toy_pipeline(script), retry=FAST, concurrency=3)

            def stop_after_five(event: WorkflowCompleted) -> None:
                if orchestrator.progress.states.get("completed", 0) >= 5:
                    orchestrator.stop()

            bus.subscribe(WorkflowCompleted, stop_after_five)
            await orchestrator.run(prepared.batch.id)
        counts = await store.state_counts(prepared.batch.id)
        assert 5 <= counts["completed"] < 20
        assert counts.get("pending", 0) > 0

        async with EventBus() as bus:
            await Orchestrator(bus, store, toy_pipeline(script), retry=FAST).run(prepared.batch.id)
        assert await store.state_counts(prepared.batch.id) == {"completed": 20}
    assert all(n == 1 for n in script.calls.values()), script.calls


async def test_a_step_a_run_before_had_moved_to_is_published_under_a_new_event_id(
    tmp_path: Path,
) -> None:
    """That run may have published the step's input already: a broker drops a second
    publish of one event id within its dedup window, so under the old id the resumed
    step would never run (its first answers, if they came before this run admitted
    the workflow, were let go as stale)."""
    script = Script()
    outputs: list[str] = []
    async with open_store(tmp_path / "s.db") as store:
        prepared = await prepare_batch(store, names("Ann"), a_campaign(), provider="t", model="t")
        async with EventBus() as bus:
            orchestrator = Orchestrator(bus, store, toy_pipeline(script), retry=FAST)

            def stop_at_the_first_output(event: StepSucceeded) -> None:
                outputs.append(event.output.event_id)
                orchestrator.stop()

            bus.subscribe(StepSucceeded, stop_at_the_first_output)
            await orchestrator.run(prepared.batch.id)
        [parked] = await store.workflows(prepared.batch.id)
        assert parked.step == "double"  # moved on to the next step, which never started
        assert [a.step for a in await store.attempts(parked.id)] == ["count"]

        started: list[tuple[str, str]] = []
        async with EventBus() as bus:
            bus.subscribe(StepStarted, lambda e: started.append((e.step, e.input_event_id)))
            await Orchestrator(bus, store, toy_pipeline(script), retry=FAST).run(prepared.batch.id)
        assert await store.state_counts(prepared.batch.id) == {"completed": 1}
    assert [step for step, _ in started] == ["double"]
    assert started[0][1] != outputs[0]
