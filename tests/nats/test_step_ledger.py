"""The step ledger: an input redelivered after its step finished never runs the agent again.

In process, on the session's real nats-server: each ``EventBus`` here is one
worker's connection. A redelivery is made the way the broker would hand it to
another worker: the same event (same ``event_id``) arrives again on the agent's
durable consumer, once the stream's dedup window let it through.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import anyio
import pytest
from nats.js.api import DiscardPolicy

from salesbus.agents.runtime import Agent, AgentRuntime
from salesbus.agents.status import StepSucceeded
from salesbus.bus import Event, EventBus, encode_event
from salesbus.bus.nats_transport import NatsTransport
from salesbus.orchestrator.step_ledger import (
    LEDGER_MAX_BYTES,
    StepLedger,
    ledger_bucket,
    ledger_ttl,
    open_ledger,
)

pytestmark = pytest.mark.anyio

MakeTransport = Callable[..., NatsTransport]


class Asked(Event):
    type_name = "tests.ledger.Asked"
    n: int


class Answered(Event):
    type_name = "tests.ledger.Answered"
    n: int


class Answerer(Agent[Asked, Answered]):
    """Stands for a step whose model costs money: counts its calls."""

    name = "answer"
    consumes = Asked
    produces = Answered

    def __init__(self) -> None:
        self.calls: Counter[int] = Counter()

    async def handle(self, event: Asked) -> Answered:
        self.calls[event.n] += 1
        return Answered(**event.caused(), n=event.n * 10)


async def run_worker_once(transport: NatsTransport, event: Asked) -> tuple[Answerer, StepLedger]:
    """A worker's bus with the ledger and the agent; ``event`` published, handled, acked."""
    agent = Answerer()
    async with EventBus(transport=transport) as bus:
        ledger = StepLedger(bus, await open_ledger(transport), ["answer"])
        bus.add_interceptor(ledger)
        AgentRuntime(bus, forward_outputs=False).add(agent, concurrency=1)
        await bus.publish(event)
        with anyio.fail_after(10):
            await bus.join()
    return agent, ledger


async def test_an_outcome_is_in_the_ledger_before_anyone_can_receive_it(
    make_transport: MakeTransport,
) -> None:
    transport = make_transport()
    seen_in_ledger: list[bool] = []
    async with EventBus(transport=transport) as bus:
        bucket = await open_ledger(transport)
        assert bucket is not None

        async def on_success(event: StepSucceeded) -> None:
            entry = await bucket.get(f"agent_answer.{event.input_event_id}")
            seen_in_ledger.append(entry.value == encode_event(event))

        bus.subscribe(StepSucceeded, on_success, name="orchestrator")
        bus.add_interceptor(StepLedger(bus, bucket, ["answer"]))
        AgentRuntime(bus, forward_outputs=False).add(Answerer(), concurrency=1)
        for n in range(3):
            await bus.publish(Asked(n=n))
        with anyio.fail_after(10):
            await bus.join()
    assert seen_in_ledger == [True, True, True]


async def test_a_redelivered_input_whose_step_finished_republishes_its_outcome_without_the_agent(
    make_transport: MakeTransport,
) -> None:
    outcomes: list[StepSucceeded] = []
    observer = make_transport(duplicate_window=0.3)
    async with EventBus(transport=observer) as orchestrator:
        orchestrator.subscribe(StepSucceeded, outcomes.append, name="orchestrator")
        asked = Asked(n=4)
        first, _ = await run_worker_once(make_transport(duplicate_window=0.3), asked)
        await anyio.sleep(0.4)  # past the dedup window: the same event id is stored again
        second, ledger = await run_worker_once(make_transport(duplicate_window=0.3), asked)
        with anyio.fail_after(10):
            await orchestrator.join()

    assert (first.calls, second.calls) == (Counter({4: 1}), Counter())
    assert ledger.replayed == 1
    # The same outcome both times (one event id): the orchestrator stores it once.
    assert [o.event_id for o in outcomes] == [outcomes[0].event_id] * 2
    assert [o.output.n for o in outcomes] == [40, 40]  # type: ignore[attr-defined]


async def test_a_step_completes_when_the_ledger_bucket_is_gone(
    make_transport: MakeTransport,
) -> None:
    transport = make_transport(duplicate_window=0.3)
    outcomes: list[StepSucceeded] = []
    async with EventBus(transport=transport) as bus:
        bucket = await open_ledger(transport)
        assert bucket is not None
        await transport.js.delete_key_value(ledger_bucket(transport))  # nor readable nor writable
        bus.subscribe(StepSucceeded, outcomes.append, name="orchestrator")
        bus.add_interceptor(StepLedger(bus, bucket, ["answer"]))
        agent = Answerer()
        AgentRuntime(bus, forward_outputs=False).add(agent, concurrency=1)
        asked = Asked(n=1)
        await bus.publish(asked)
        with anyio.fail_after(10):
            await bus.join()
        await anyio.sleep(0.4)
        await bus.publish(asked)  # redelivered: without a record it runs (and pays) again
        with anyio.fail_after(10):
            await bus.join()

    assert agent.calls == {1: 2}
    assert [o.output.n for o in outcomes] == [10, 10]  # type: ignore[attr-defined]


async def test_a_worker_without_a_ledger_still_runs_its_steps(
    make_transport: MakeTransport,
) -> None:
    outcomes: list[StepSucceeded] = []
    async with EventBus(transport=make_transport()) as bus:
        bus.subscribe(StepSucceeded, outcomes.append, name="orchestrator")
        bus.add_interceptor(StepLedger(bus, None, ["answer"]))
        AgentRuntime(bus, forward_outputs=False).add(Answerer(), concurrency=1)
        await bus.publish(Asked(n=2))
        with anyio.fail_after(10):
            await bus.join()
    assert [o.output.n for o in outcomes] == [20]  # type: ignore[attr-defined]


def test_a_record_outlives_every_redelivery_and_the_dedup_window() -> None:
    transport = NatsTransport(
        max_deliver=5, ack_wait=150, nak_delay=1, inactive_threshold=3600, duplicate_window=120
    )
    assert ledger_ttl(transport) == 3600 + 5 * 151
    assert ledger_ttl(NatsTransport(inactive_threshold=0, ack_wait=1, max_deliver=1)) == 120


async def test_the_ledger_keeps_one_outcome_per_input_and_drops_its_oldest_when_full(
    make_transport: MakeTransport,
) -> None:
    transport = make_transport()
    try:
        assert await open_ledger(transport) is not None
        info = await transport.js.stream_info(f"KV_{ledger_bucket(transport)}")
    finally:
        await transport.aclose()
    config = info.config
    assert (config.max_msgs_per_subject, config.max_age) == (1, ledger_ttl(transport))
    assert (config.max_bytes, config.discard) == (LEDGER_MAX_BYTES, DiscardPolicy.OLD)


async def test_workers_starting_together_all_get_the_ledger(make_transport: MakeTransport) -> None:
    transports = [make_transport() for _ in range(4)]
    opened: list[object] = []

    async def open_one(transport: NatsTransport) -> None:
        opened.append(await open_ledger(transport))

    try:
        async with anyio.create_task_group() as starting:
            for transport in transports:
                starting.start_soon(open_one, transport)
    finally:
        for transport in transports:
            await transport.aclose()
    assert len(opened) == 4
    assert None not in opened


async def test_a_replayed_outcome_goes_back_to_the_owner_of_the_redelivered_input(
    make_transport: MakeTransport,
) -> None:
    """Two orchestrators (owners) on the broker: the outcome a worker answers from its
    ledger reaches the one that published the input, and not the other."""
    window = 0.3  # every connection's: the stream keeps the last one's
    ours: list[StepSucceeded] = []
    theirs: list[StepSucceeded] = []
    asked = Asked(n=4)

    async def serve_once(expected: int) -> tuple[Answerer, StepLedger]:
        agent = Answerer()
        transport = make_transport(duplicate_window=window)
        async with EventBus(transport=transport) as worker:
            ledger = StepLedger(worker, await open_ledger(transport), ["answer"])
            worker.add_interceptor(ledger)
            AgentRuntime(worker, forward_outputs=False).add(agent, concurrency=1)
            await worker.join()  # its consumer exists before the input goes out
            await mine.publish(asked)
            with anyio.fail_after(10):
                while len(ours) < expected:
                    await anyio.sleep(0.02)
        return agent, ledger

    async with (
        EventBus(transport=make_transport(owner="run-1", duplicate_window=window)) as mine,
        EventBus(transport=make_transport(owner="run-2", duplicate_window=window)) as other,
    ):
        mine.subscribe(StepSucceeded, ours.append, name="orchestrator")
        other.subscribe(StepSucceeded, theirs.append, name="orchestrator")
        await mine.join()
        await other.join()
        first, _ = await serve_once(1)
        await anyio.sleep(window + 0.1)  # past the dedup window: the input is stored again
        second, ledger = await serve_once(2)
        await other.join()

    assert (first.calls, second.calls, ledger.replayed) == (Counter({4: 1}), Counter(), 1)
    assert [o.output.n for o in ours] == [40, 40]  # type: ignore[attr-defined]
    assert theirs == []
