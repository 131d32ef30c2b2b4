"""The NATS JetStream transport: at least once, shared work, dead letters, dedup, trace headers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable

import anyio
import nats
import pytest

from salesbus.bus import Event, EventBus
from salesbus.bus.nats_transport import NatsTransport
from tests.bus.events import Tick

pytestmark = pytest.mark.anyio

MakeTransport = Callable[..., NatsTransport]


class Flaky(Exception):
    """Retryable by default: the transport redelivers it."""


class Hopeless(Exception):
    retryable = False


class _Unused(Event):
    """Keeps this module's event classes distinct from other test modules'."""


async def test_a_failed_delivery_is_redelivered_until_the_handler_succeeds(
    make_transport: MakeTransport,
) -> None:
    attempts: Counter[int] = Counter()

    def flaky(event: Tick) -> None:
        attempts[event.n] += 1
        if attempts[event.n] < 3:
            raise Flaky("not yet")

    async with EventBus(transport=make_transport(max_deliver=5)) as bus:
        bus.subscribe(Tick, flaky, name="flaky")
        await bus.publish(Tick(n=1))
        with anyio.fail_after(10):
            await bus.join()
        stats = bus.statistics()["flaky"]
        assert (stats.failed, stats.delivered) == (2, 1)
        assert await bus.transport.dead_letters() == []  # type: ignore[attr-defined]
    assert attempts == {1: 3}


async def test_after_max_deliveries_an_event_is_dead_lettered_and_the_rest_flow_on(
    make_transport: MakeTransport,
) -> None:
    handled: list[int] = []
    tries: Counter[int] = Counter()

    def poison_at_13(event: Tick) -> None:
        tries[event.n] += 1
        if event.n == 13:
            raise Flaky("poison")
        handled.append(event.n)

    transport = make_transport(max_deliver=3)
    async with EventBus(transport=transport) as bus:
        bus.subscribe(Tick, poison_at_13, name="eater")
        for n in range(10, 17):
            await bus.publish(Tick(n=n))
        with anyio.fail_after(10):
            await bus.join()
        letters = await transport.dead_letters()
    assert sorted(handled) == [10, 11, 12, 14, 15, 16]
    assert tries[13] == 3
    assert [(d.event_type, d.subscription, d.deliveries) for d in letters] == [
        ("tests.Tick", "eater", 3)
    ]
    assert "poison" in letters[0].error


async def test_a_non_retryable_failure_is_dead_lettered_on_its_first_delivery(
    make_transport: MakeTransport,
) -> None:
    tries: list[int] = []

    def hopeless(event: Tick) -> None:
        tries.append(event.n)
        raise Hopeless("bad input")

    transport = make_transport(max_deliver=5)
    async with EventBus(transport=transport) as bus:
        bus.subscribe(Tick, hopeless, name="hopeless")
        await bus.publish(Tick(n=1))
        with anyio.fail_after(10):
            await bus.join()
        letters = await transport.dead_letters()
    assert tries == [1]
    assert [d.deliveries for d in letters] == [1]


async def test_a_replayed_dead_letter_is_delivered_again_and_leaves_the_dead_letters(
    make_transport: MakeTransport,
) -> None:
    healed = False
    handled: list[int] = []

    def until_healed(event: Tick) -> None:
        if not healed:
            raise Flaky("down")
        handled.append(event.n)

    transport = make_transport(max_deliver=1)
    async with EventBus(transport=transport) as bus:
        bus.subscribe(Tick, until_healed, name="healing")
        await bus.publish(Tick(n=7))
        with anyio.fail_after(10):
            await bus.join()
        [letter] = await transport.dead_letters()
        healed = True
        await transport.replay_dead_letter(letter.sequence)
        with anyio.fail_after(10):
            await bus.join()
            while not handled:
                await anyio.sleep(0.01)
        assert await transport.dead_letters() == []
    assert handled == [7]


async def test_replaying_a_sequence_that_is_no_dead_letter_is_refused(
    make_transport: MakeTransport,
) -> None:
    transport = make_transport()
    async with EventBus(transport=transport) as bus:
        bus.subscribe(Tick, lambda e: None, name="fine")
        await bus.publish(Tick(n=1))
        await bus.join()
        with pytest.raises(LookupError, match="not a dead letter"):
            await transport.replay_dead_letter(1)


async def test_processes_subscribing_under_one_name_share_its_events(
    make_transport: MakeTransport,
) -> None:
    seen: dict[str, list[int]] = {"a": [], "b": []}
    everyone: list[int] = []

    def worker(who: str) -> Callable[[Tick], Awaitable[None]]:
        async def slow(event: Tick) -> None:
            await anyio.sleep(0.005)
            seen[who].append(event.n)

        return slow

    async with (
        EventBus(transport=make_transport(fetch_batch=1)) as bus_a,
        EventBus(transport=make_transport(fetch_batch=1)) as bus_b,
    ):
        bus_a.subscribe(Tick, worker("a"), name="workers", max_pending=1)
        bus_b.subscribe(Tick, worker("b"), name="workers", max_pending=1)
        bus_b.subscribe(Tick, lambda e: everyone.append(e.n), name="audit")
        await bus_b.join()  # its consumers exist on the server: it is subscribed
        for n in range(40):
            await bus_a.publish(Tick(n=n))
        with anyio.fail_after(20):
            await bus_a.join()
            await bus_b.join()
    assert sorted(seen["a"] + seen["b"]) == list(range(40))  # each once, across both
    assert seen["a"]  # both did some of the work
    assert seen["b"]
    assert sorted(everyone) == list(range(40))  # another name gets every event


async def test_a_second_publish_of_one_event_id_is_dropped_by_the_server(
    make_transport: MakeTransport,
) -> None:
    handled: list[str] = []
    async with EventBus(transport=make_transport()) as bus:
        bus.subscribe(Tick, lambda e: handled.append(e.event_id), name="once")
        tick = Tick(n=1)
        await bus.publish(tick)
        await bus.publish(tick)
        await bus.join()
    assert handled == [tick.event_id]


async def test_events_published_while_a_durable_subscriber_is_away_wait_for_it(
    make_transport: MakeTransport,
) -> None:
    handled: list[int] = []
    async with EventBus(transport=make_transport()) as worker:
        worker.subscribe(Tick, handled.append, name="worker")  # type: ignore[arg-type]
    async with EventBus(transport=make_transport()) as publisher:
        for n in range(3):
            await publisher.publish(Tick(n=n))
    assert handled == []
    async with EventBus(transport=make_transport()) as worker:
        worker.subscribe(Tick, lambda e: handled.append(e.n), name="worker")
        with anyio.fail_after(10):
            await worker.join()
    assert handled == [0, 1, 2]


async def test_an_event_held_by_a_process_that_stopped_goes_to_another(
    make_transport: MakeTransport,
) -> None:
    started = anyio.Event()
    finished: list[str] = []

    async def hangs(event: Tick) -> None:
        started.set()
        await anyio.sleep_forever()

    with pytest.raises(RuntimeError, match="crash"):
        async with EventBus(transport=make_transport(ack_wait=0.5)) as doomed:
            doomed.subscribe(Tick, hangs, name="work")
            await doomed.publish(Tick(n=1))
            with anyio.fail_after(10):
                await started.wait()
            raise RuntimeError("crash")  # the bus abandons the delivery: never acked
    async with EventBus(transport=make_transport(ack_wait=0.5)) as survivor:
        survivor.subscribe(Tick, lambda e: finished.append("survivor"), name="work")
        with anyio.fail_after(10):
            while not finished:
                await anyio.sleep(0.02)
    assert finished == ["survivor"]


async def test_the_trace_context_travels_in_a_traceparent_header(
    make_transport: MakeTransport, nats_url: str
) -> None:
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    transport = make_transport()
    async with EventBus(transport=transport) as bus:
        bus.subscribe(Tick, lambda e: None, name="any")
        await bus.publish(Tick(n=1, trace_context={"traceparent": traceparent}))
        await bus.join()
        nc = await nats.connect(nats_url)
        try:
            raw = await nc.jetstream().get_msg(transport.stream, seq=1)
        finally:
            await nc.close()
    assert raw.headers is not None
    assert raw.headers["traceparent"] == traceparent
    assert raw.subject == f"{transport.prefix}.ev._.tests.Tick"  # no owner


async def test_the_stream_depth_is_reported_per_subject(make_transport: MakeTransport) -> None:
    transport = make_transport()
    async with EventBus(transport=transport) as bus:
        for n in range(3):
            await bus.publish(Tick(n=n))
        assert await transport.depth() == {f"{transport.prefix}.ev.tests.Tick": 3}


async def test_the_stream_depth_adds_up_every_owners_events_per_event_type(
    make_transport: MakeTransport,
) -> None:
    async with EventBus(transport=make_transport(owner="a")) as bus:
        for n in range(3):
            await bus.publish(Tick(n=n))
    transport = make_transport(owner="b")
    async with EventBus(transport=transport) as bus:
        for n in range(2):
            await bus.publish(Tick(n=n))
        assert await transport.depth() == {f"{transport.prefix}.ev.tests.Tick": 5}


async def test_declaring_a_subscription_keeps_the_ack_wait_its_consumer_was_given(
    make_transport: MakeTransport,
) -> None:
    """An orchestrator declaring its workers' consumers must not shorten their ack_wait:
    a step still running past it would be redelivered and paid for twice."""
    worker = make_transport(ack_wait=150.0)
    await worker.connect()
    await worker.create_consumer("agent_slow", Tick)
    orchestrator = make_transport(ack_wait=30.0)
    try:
        await orchestrator.declare(Tick, "agent:slow")
        await orchestrator.declare(Tick, "agent:new")
        kept = await orchestrator.js.consumer_info(orchestrator.stream, "agent_slow")
        made = await orchestrator.js.consumer_info(orchestrator.stream, "agent_new")
    finally:
        await orchestrator.aclose()
        await worker.aclose()
    assert (kept.config.ack_wait, made.config.ack_wait) == (150.0, 30.0)


class Tock(Event):
    """A worker's answer to a Tick (what a step's status is to its input)."""

    type_name = "tests.nats.Tock"
    n: int


async def test_each_owner_gets_the_answers_to_its_own_events_and_workers_share_all(
    make_transport: MakeTransport,
) -> None:
    """Two orchestrators' status subscriptions share a name, not their events: the
    owner-less workers answer each under the owner of the event they handled."""
    got: dict[str, list[int]] = {"even": [], "odd": [], "log:even": []}
    handled: list[int] = []

    def into(key: str) -> Callable[[Event], None]:
        return lambda e: got[key].append(e.n if isinstance(e, Tick | Tock) else -1)

    async with (
        EventBus(transport=make_transport(owner="even")) as even,
        EventBus(transport=make_transport(owner="odd")) as odd,
        EventBus(transport=make_transport()) as worker_a,
        EventBus(transport=make_transport()) as worker_b,
    ):
        for worker in (worker_a, worker_b):

            async def answer(event: Tick, worker: EventBus = worker) -> None:
                handled.append(event.n)
                await worker.publish(Tock(**event.caused(), n=event.n))

            worker.subscribe(Tick, answer, name="agent:work")
        even.subscribe(Tock, into("even"), name="orchestrator:status")
        even.subscribe(Event, into("log:even"), name="orchestrator:log")
        odd.subscribe(Tock, into("odd"), name="orchestrator:status")
        for bus in (even, odd, worker_a, worker_b):
            await bus.join()  # every consumer exists before the first publish
        for n in range(10):
            await (odd if n % 2 else even).publish(Tick(n=n))
        with anyio.fail_after(20):
            for bus in (worker_a, worker_b, even, odd):
                await bus.join()
    assert sorted(handled) == list(range(10))  # each once, across the workers
    assert sorted(got["even"]) == [0, 2, 4, 6, 8]
    assert sorted(got["odd"]) == [1, 3, 5, 7, 9]
    # an Event subscription is scoped too: the owner's requests and their answers
    assert sorted(got["log:even"]) == [0, 0, 2, 2, 4, 4, 6, 6, 8, 8]


async def test_an_owner_away_finds_its_own_events_waiting_and_no_one_elses(
    make_transport: MakeTransport,
) -> None:
    """The consumer name carries the owner, not a random id: a restarted orchestrator
    of the same run picks up what was published for it while it was down."""
    handled: list[int] = []
    async with EventBus(transport=make_transport(owner="even")) as away:
        away.subscribe(Tick, handled.append, name="orchestrator:status")  # type: ignore[arg-type]
    for n in range(6):
        async with EventBus(transport=make_transport(owner="odd" if n % 2 else "even")) as bus:
            await bus.publish(Tick(n=n))
    assert handled == []
    async with EventBus(transport=make_transport(owner="even")) as back:
        back.subscribe(Tick, lambda e: handled.append(e.n), name="orchestrator:status")
        with anyio.fail_after(10):
            await back.join()
    assert handled == [0, 2, 4]


async def test_an_answer_after_a_redelivery_still_goes_to_the_owner_that_asked(
    make_transport: MakeTransport,
) -> None:
    """A failed delivery gives its event back (and its owner with it); the next delivery
    brings the owner again, so what that one publishes returns to who asked."""
    tries: Counter[int] = Counter()
    answers: list[int] = []
    async with (
        EventBus(transport=make_transport(owner="asker")) as asker,
        EventBus(transport=make_transport(max_deliver=5)) as worker,
    ):

        async def flaky_answer(event: Tick) -> None:
            tries[event.n] += 1
            if tries[event.n] < 3:
                raise Flaky("not yet")
            await worker.publish(Tock(**event.caused(), n=event.n))

        worker.subscribe(Tick, flaky_answer, name="agent:work")
        asker.subscribe(Tock, lambda e: answers.append(e.n), name="orchestrator:status")
        await worker.join()
        await asker.join()
        await asker.publish(Tick(n=7))
        with anyio.fail_after(10):
            while not answers:
                await anyio.sleep(0.02)
    assert (tries, answers) == (Counter({7: 3}), [7])
    assert worker.transport._held == {}  # type: ignore[attr-defined]  # nothing kept
