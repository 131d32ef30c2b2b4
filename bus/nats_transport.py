"""A NATS JetStream transport: the bus across processes and machines.

Install with ``pip install salesbus[nats]``. One stream holds the bus
(``<prefix>.ev.<owner>.<event type>`` per event type, ``<prefix>.dead.<owner>.<event
type>`` for dead letters); every subscription is a durable pull consumer named after
the subscription, so processes that subscribe under the same name compete for
its events (workers share the work) while differently named subscriptions each
get every event (fan-out).

The owner token says whose work an event is (``_``: no one's). A transport
made with an ``owner`` (an orchestrator's) publishes under it and scopes its
subscriptions to that owner's events, under consumer names that carry the
owner: two orchestrators on one broker never take each other's status events,
and one restarted with the same owner finds the events published while it was
down waiting in its consumers. A transport without one (a worker's) subscribes
across owners, so workers share every owner's work, and an event it publishes
while handling one (its ``causation_id`` is that event's id: a step's status)
goes out under the owner of that cause: the answer goes back to who asked.

Delivery is at least once: a message is acked after its handler returned,
nak'd with a delay after it raised (redelivered, perhaps to another process),
and redelivered after ``ack_wait`` when its process died holding it. On the
last allowed delivery a failure moves it to the dead-letter subject instead.
Publishing sets ``Nats-Msg-Id`` to the event id, so the server drops a
duplicate publish within ``duplicate_window``; handlers must still be
idempotent by ``event_id``. The event's W3C trace context travels both in the
encoded event and as a ``traceparent`` header, for other NATS tools.

What differs from :class:`~salesbus.bus.MemoryTransport` (docs/bus.md):
``publish`` returns once the server has stored the event; ``publish_nowait`` is
refused (a broker acknowledgement cannot be had without waiting); a
subscription receives subclasses that exist when it is made; there is no order
across competing processes; and asyncio only (nats-py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import anyio
from anyio.abc import TaskGroup

try:
    import nats
    from nats.aio.client import Client
    from nats.aio.msg import Msg
    from nats.errors import Error as NatsError
    from nats.js import JetStreamContext
    from nats.js.api import (
        AckPolicy,
        ConsumerConfig,
        DeliverPolicy,
        RetentionPolicy,
        StorageType,
        StreamConfig,
    )
    from nats.js.errors import NotFoundError
except ImportError as missing:  # pragma: no cover - exercised only without the extra
    raise ImportError("the NATS transport needs nats-py: pip install 'salesbus[nats]'") from missing

from .codec import decode_event, encode_event
from .errors import DecodeError
from .event import Event
from .ids import new_event_id
from .nats_consumer import PullConsumer
from .nats_subjects import consumer_name, owner_token, subject_token
from .subscription import Subscription
from .transport import Transport

__all__ = [
    "DeadLetterMessage",
    "NatsTransport",
    "consumer_name",
    "owner_token",
    "subject_token",
]

logger = logging.getLogger("salesbus.bus.nats")


@dataclass(frozen=True, slots=True)
class DeadLetterMessage:
    """An event the broker gave up on: listed and replayed by :class:`NatsTransport`."""

    sequence: int
    """Its sequence in the stream (what :meth:`NatsTransport.replay_dead_letter` takes)."""
    event_type: str
    event_id: str
    subscription: str
    error: str
    deliveries: int
    payload: bytes


class NatsTransport(Transport):
    """Events through a NATS JetStream stream; see the module docstring for the guarantees.

    :param url: ``nats://host:port`` (a comma-separated list for a cluster).
    :param stream: the stream's name; created (or its subjects kept) on start.
    :param prefix: the first subject token of everything this bus sends.
    :param max_deliver: deliveries of one message before it is dead-lettered.
    :param nak_delay: seconds before a failed message is delivered again.
    :param ack_wait: seconds a process may hold a message before the server
        gives it to another (longer than the slowest handler).
    :param duplicate_window: seconds within which a second publish of one event id is dropped.
    :param inactive_threshold: seconds after which a consumer nobody pulls from
        is removed by the server (a worker away for longer loses its backlog).
    :param fetch_batch: messages pulled at once per subscription (bounded by its inbox room).
    :param max_age: seconds the stream keeps a message (handled or not).
    :param publish_retry_for: seconds ``publish`` keeps retrying while the broker is
        unreachable (restarting); the event id makes a retry that did land harmless.
    :param owner: whose events this process publishes and its subscriptions take (an
        orchestrator's run); ``None``: everyone's (workers). Part of the consumer names,
        so it must be the same when the owner's process restarts.
    """

    def __init__(
        self,
        url: str = "nats://127.0.0.1:4222",
        *,
        stream: str = "SALESBUS",
        prefix: str = "salesbus",
        max_deliver: int = 5,
        nak_delay: float = 1.0,
        ack_wait: float = 60.0,
        duplicate_window: float = 120.0,
        inactive_threshold: float = 24 * 3600.0,
        fetch_batch: int = 64,
        storage: StorageType = StorageType.FILE,
        max_age: float = 7 * 24 * 3600.0,
        publish_retry_for: float = 60.0,
        owner: str | None = None,
    ) -> None:
        if max_deliver < 1:
            raise ValueError("max_deliver must be at least 1")
        self.url = url
        self.stream = stream
        self.prefix = prefix
        self.max_deliver = max_deliver
        self.nak_delay = nak_delay
        self.ack_wait = ack_wait
        self.duplicate_window = duplicate_window
        self.inactive_threshold = inactive_threshold
        self.fetch_batch = fetch_batch
        self.storage = storage
        self.max_age = max_age
        self.publish_retry_for = publish_retry_for
        self.owner = owner
        self._held: dict[str, tuple[str, int]] = {}
        """Events being handled here, by id: their owner token and deliveries in hand."""
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._task_group: TaskGroup | None = None
        self._consumers: dict[Subscription[Any], PullConsumer] = {}

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def js(self) -> JetStreamContext:
        if self._js is None:
            raise RuntimeError("the NATS transport is not connected (enter the bus first)")
        return self._js

    async def connect(self) -> JetStreamContext:
        """Connect and make sure the stream exists; :meth:`start` calls it, tools may alone."""
        if self._js is None:
            self._nc = await nats.connect(
                servers=self.url.split(","),
                name=f"salesbus:{self.prefix}",
                connect_timeout=5,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.5,
            )
            self._js = self._nc.jetstream()
            config = StreamConfig(
                name=self.stream,
                subjects=[f"{self.prefix}.>"],
                retention=RetentionPolicy.LIMITS,
                storage=self.storage,
                duplicate_window=self.duplicate_window,
                max_age=self.max_age,
            )
            try:
                await self._js.add_stream(config)
            except Exception:
                await self._js.update_stream(config)
        return self._js

    async def start(self, task_group: TaskGroup) -> None:
        await self.connect()
        self._task_group = task_group
        for subscription, consumer in self._consumers.items():
            consumer.start(task_group, subscription)

    async def aclose(self) -> None:
        self._consumers.clear()
        if self._nc is not None:
            nc, self._nc, self._js = self._nc, None, None
            with anyio.CancelScope(shield=True):
                await nc.drain() if nc.is_connected else await nc.close()

    # -- routing -----------------------------------------------------------------------

    def subject(self, event_type: type[Event], owner: str | None = None) -> str:
        return f"{self.prefix}.ev.{owner_token(owner)}.{subject_token(event_type.type_name)}"

    def filter_subjects(self, event_type: type[Event], owner: str | None = None) -> list[str]:
        """The subjects a subscription to ``event_type`` pulls from: it and its known
        subclasses, of ``owner``'s events (of anyone's for ``None``)."""
        scope = f"{self.prefix}.ev.{owner_token(owner) if owner else '*'}"
        if event_type is Event:
            return [f"{scope}.>"]
        seen: set[type[Event]] = set()
        stack = [event_type]
        while stack:
            cls = stack.pop()
            if cls not in seen:
                seen.add(cls)
                stack.extend(cls.__subclasses__())
        return sorted({f"{scope}.{subject_token(cls.type_name)}" for cls in seen})

    def attach(self, subscription: Subscription[Any]) -> None:
        consumer = PullConsumer(self, subscription, self._unique_name(subscription))
        self._consumers[subscription] = consumer
        if self._task_group is not None:
            consumer.start(self._task_group, subscription)

    def _unique_name(self, subscription: Subscription[Any]) -> str:
        """The subscription's consumer name; ``_2``, ``_3``… for more of one name here.

        Within one process two subscriptions of one name both get every event,
        as on the memory transport; across processes the n-th subscription of a
        name shares its consumer with the other processes' n-th (they subscribe
        in the same order). An owner's subscriptions carry its name: another
        owner's of the same subscription name are other consumers.
        """
        if not subscription.durable:
            return f"transient_{new_event_id()}"
        base = consumer_name(subscription.name)
        if self.owner is not None:
            base = f"{base}--{owner_token(self.owner)}"
        taken = {consumer.name for consumer in self._consumers.values()}
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        return name

    def detach(self, subscription: Subscription[Any]) -> None:
        consumer = self._consumers.pop(subscription, None)
        if consumer is not None:
            consumer.stop()

    async def create_consumer(
        self, name: str, event_type: type[Event], *, durable: bool = True, owner: str | None = None
    ) -> None:
        """Create (or update) the consumer a subscription named ``name`` pulls from.

        A durable one that exists (another process made it, or an earlier run)
        keeps its position and gets this filter and these limits. ``owner``:
        only that owner's events (see the module docstring).
        """
        config = ConsumerConfig(
            durable_name=name if durable else None,
            name=name,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.NEW,
            max_deliver=self.max_deliver,
            ack_wait=self.ack_wait,
            filter_subjects=self.filter_subjects(event_type, owner),
            inactive_threshold=self.inactive_threshold if durable else 5.0,
            max_ack_pending=-1,
        )
        await self.js.add_consumer(self.stream, config)

    async def declare(self, event_type: type[Event], subscription_name: str) -> None:
        """Make the durable consumer of a subscription that another process will make.

        Events published from now on wait in it for that process, even if it
        starts later (an orchestrator declares its workers' subscriptions, which
        take every owner's events, whatever this transport's owner). One
        that exists is left as it is: the process that consumes it set its
        ``ack_wait`` for its handlers (a shorter one would redeliver a step that
        is still running, and have it paid for twice).
        """
        js = await self.connect()
        name = consumer_name(subscription_name)
        try:
            await js.consumer_info(self.stream, name)
        except NotFoundError:
            await self.create_consumer(name, event_type)

    # -- sending -----------------------------------------------------------------------

    async def send(self, event: Event) -> None:
        # A subscription made in this process before this publish must see it:
        # wait for the consumers still being created (attach is synchronous).
        for consumer in list(self._consumers.values()):
            await consumer.ready.wait()
        headers = {"Nats-Msg-Id": event.event_id}
        traceparent = event.trace_context.get("traceparent") if event.trace_context else None
        if traceparent:
            headers["traceparent"] = traceparent
        subject, payload = self.subject(type(event), self.owner_for(event)), encode_event(event)
        deadline = anyio.current_time() + self.publish_retry_for
        delay = 0.1
        while True:
            try:
                ack = await self.js.publish(subject, payload, headers=headers)
            except NatsError as exc:
                if anyio.current_time() + delay > deadline:
                    raise
                logger.warning("publish to %s failed (%r); retrying in %.1fs", subject, exc, delay)
                await anyio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            # What wait_idle must see acked: the server's pending counts may lag a publish.
            for consumer in self._consumers.values():
                if consumer.receives(subject):
                    consumer.expect_seq = max(consumer.expect_seq, ack.seq)
            return

    def owner_for(self, event: Event) -> str | None:
        """The owner an event is published under: this transport's, else its cause's."""
        if self.owner is not None:
            return self.owner
        held = self._held.get(event.causation_id) if event.causation_id else None
        return held[0] if held is not None else None

    def hold(self, event_id: str, subject: str) -> None:
        """An event pulled under ``subject`` is being handled: remember its owner token."""
        token = subject.removeprefix(f"{self.prefix}.ev.").split(".", 1)[0]
        _, holds = self._held.get(event_id, (token, 0))
        self._held[event_id] = (token, holds + 1)

    def let_go(self, event_id: str) -> None:
        """A delivery of the event was acked or given back."""
        token, holds = self._held.pop(event_id, ("_", 0))
        if holds > 1:
            self._held[event_id] = (token, holds - 1)

    def try_send(self, event: Event) -> bool:
        """Always ``False``: only an awaited publish gets the server's acknowledgement."""
        return False

    def full_target(self, event: Event) -> str:
        return "the NATS transport (publish_nowait cannot wait for the broker: use publish)"

    # -- settling ----------------------------------------------------------------------

    async def wait_idle(self) -> None:
        """Wait until no attached subscription's consumer has messages pending or unacked."""
        while True:
            busy = False
            for consumer in list(self._consumers.values()):
                await consumer.ready.wait()
                if consumer.failed:
                    continue
                try:
                    info = await self.js.consumer_info(self.stream, consumer.name)
                except NatsError:  # reconnecting: ask again
                    busy = True
                    break
                floor = info.ack_floor.stream_seq if info.ack_floor else 0
                if info.num_pending or info.num_ack_pending or (floor or 0) < consumer.expect_seq:
                    busy = True
                    break
            if not busy:
                return
            await anyio.sleep(0.01)

    # -- failures and dead letters -----------------------------------------------------

    async def failed(self, msg: Msg, subscription: str, error: BaseException | None) -> None:
        """Nak a failed message for a later redelivery, or dead-letter it on its last one.

        An exception whose ``retryable`` attribute is false is dead-lettered at
        once: delivering it again cannot help.
        """
        deliveries = msg.metadata.num_delivered or 1
        retryable = bool(getattr(error, "retryable", True)) and not isinstance(error, DecodeError)
        if retryable and deliveries < self.max_deliver:
            await msg.nak(delay=self.nak_delay)
            return
        token = msg.subject.removeprefix(f"{self.prefix}.ev.")
        headers = {
            "Nats-Msg-Id": f"dead:{msg.headers.get('Nats-Msg-Id', '') if msg.headers else ''}:"
            f"{msg.metadata.sequence.stream if msg.metadata.sequence else 0}",
            "Salesbus-Subject": msg.subject,
            "Salesbus-Subscription": subscription,
            "Salesbus-Error": _one_line(repr(error)),
            "Salesbus-Deliveries": str(deliveries),
        }
        await self.js.publish(f"{self.prefix}.dead.{token}", msg.data, headers=headers)
        await msg.term()
        logger.warning(
            "%s dead-lettered by %s after %d deliveries: %r",
            msg.subject,
            subscription,
            deliveries,
            error,
        )

    async def backlog(self) -> dict[str, tuple[int, int]]:
        """Per consumer: (events waiting to be pulled, events pulled and not yet acked)."""
        js = await self.connect()
        return {
            info.name: (info.num_pending or 0, info.num_ack_pending or 0)
            for info in await js.consumers_info(self.stream)
        }

    async def dead_letters(self) -> list[DeadLetterMessage]:
        """Every dead letter in the stream, oldest first."""
        js = await self.connect()
        letters: list[DeadLetterMessage] = []
        sequence = 0
        while True:
            try:
                raw = await js.get_msg(
                    self.stream, seq=sequence + 1, subject=f"{self.prefix}.dead.>", next=True
                )
            except NotFoundError:
                return letters
            sequence = raw.seq or sequence + 1
            headers = raw.headers or {}
            try:
                event = decode_event(raw.data or b"")
                event_type, event_id = type(event).type_name, event.event_id
            except DecodeError:
                event_type, event_id = raw.subject or "?", "?"
            letters.append(
                DeadLetterMessage(
                    sequence=sequence,
                    event_type=event_type,
                    event_id=event_id,
                    subscription=headers.get("Salesbus-Subscription", "?"),
                    error=headers.get("Salesbus-Error", ""),
                    deliveries=int(headers.get("Salesbus-Deliveries", "0")),
                    payload=raw.data or b"",
                )
            )

    async def replay_dead_letter(self, sequence: int) -> None:
        """Publish a dead letter's event again on its own subject and remove the dead letter.

        Its subscribers get it anew (with ``max_deliver`` fresh deliveries).
        """
        js = await self.connect()
        raw = await js.get_msg(self.stream, seq=sequence)
        headers = raw.headers or {}
        subject = headers.get("Salesbus-Subject")
        if not raw.subject or not raw.subject.startswith(f"{self.prefix}.dead.") or not subject:
            raise LookupError(f"stream message {sequence} is not a dead letter")
        await js.publish(subject, raw.data or b"", headers={"Nats-Msg-Id": f"replay:{sequence}"})
        await js.delete_msg(self.stream, sequence)

    async def depth(self) -> dict[str, int]:
        """Messages held in the stream per event type, all owners together: ``<prefix>.ev.<type>``
        for events, ``<prefix>.dead.<type>`` for dead letters."""
        js = await self.connect()
        info = await js.stream_info(self.stream, subjects_filter=f"{self.prefix}.>")
        depth: dict[str, int] = {}
        for subject, count in (info.state.subjects or {}).items():
            head, kind, _owner, rest = [*subject.split(".", 3), "", "", ""][:4]
            key = f"{head}.{kind}.{rest}" if rest else subject
            depth[key] = depth.get(key, 0) + count
        return dict(sorted(depth.items()))


def _one_line(text: str, limit: int = 500) -> str:
    return " ".join(text.split())[:limit]
