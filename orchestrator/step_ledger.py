"""A worker's record of finished steps, so a redelivered event never pays its model twice.

JetStream delivers at least once. A worker that finished a step (and paid its
model) and died before acking the step's input has that input redelivered to
another worker; without a record, that worker would run the step, and pay,
again. The orchestrator's store would keep one success, but the money is spent.

The ledger is a JetStream key-value bucket beside the bus stream, so it
outlives any worker. Key: the subscription and the input's ``event_id``; value:
the step's outcome event (``StepSucceeded`` or ``StepSkipped``), encoded. It
works as a bus interceptor, in this order for each step:

1. the handler returns and the runtime publishes the outcome: *before* the
   publish goes out, the outcome is put in the bucket;
2. the outcome is published (``Nats-Msg-Id`` = its own ``event_id``);
3. the bus worker acks the input.

A delivery whose key is in the bucket skips the handler: the stored outcome is
published again, with its original ``event_id``, so the broker's dedup window
drops it if step 2 happened (and, after the window, the orchestrator ignores a
second success of a step it has stored), and the input is acked.

A bucket that cannot be read or written (deleted, broker restarting) never
stops a step: a lookup that fails runs the handler, a write that fails is
logged and the outcome is published anyway. What remains is a kill between the
model's reply and step 1 (an encode and one loopback round trip), a step that
outlives ``ack_wait`` (redelivered while it still runs), a failed attempt
(``StepFailed`` is not recorded: the orchestrator retries with a new event id)
and the time the bucket is unavailable (ARCHITECTURE.md, delivery guarantees).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from contextvars import ContextVar

import anyio
from nats.errors import Error as NatsError
from nats.js.api import DiscardPolicy, KeyValueConfig
from nats.js.errors import BucketNotFoundError, KeyNotFoundError
from nats.js.kv import KeyValue

from salesbus.agents.status import StepSkipped, StepSucceeded
from salesbus.bus import (
    ConsumeNext,
    DecodeError,
    Event,
    EventBus,
    Interceptor,
    PublishNext,
    Subscription,
    decode_event,
    encode_event,
)
from salesbus.bus.nats_transport import NatsTransport, consumer_name

from .faults import Faults
from .transports import agent_subscription

__all__ = ["LEDGER_MAX_BYTES", "StepLedger", "ledger_bucket", "ledger_ttl", "open_ledger"]

logger = logging.getLogger("salesbus.worker.ledger")

LEDGER_MAX_BYTES = 1 << 30
"""The bucket's size cap; when full, its oldest records give way (a record is
needed only until its input's redeliveries are over, so the newest matter)."""

LEDGER_TIMEOUT = 2.0
"""Seconds a lookup or a write may take before the step goes on without it."""

_replaying: ContextVar[bool] = ContextVar("salesbus_ledger_replaying", default=False)


def ledger_ttl(transport: NatsTransport) -> float:
    """How long a record is kept: past the last moment its input can be redelivered.

    A held input comes back after ``ack_wait``, up to ``max_deliver`` times (each
    after a ``nak_delay`` at most) while some worker pulls. When none does, it
    waits in its consumer, which the server removes after ``inactive_threshold``
    without pulls, taking the input with it. Both are far longer than the
    publish dedup window, which a replayed outcome relies on.
    """
    redeliveries = transport.max_deliver * (transport.ack_wait + transport.nak_delay)
    return max(transport.inactive_threshold + redeliveries, transport.duplicate_window)


def ledger_bucket(transport: NatsTransport) -> str:
    """The bucket's name: one ledger per bus stream."""
    return f"{transport.stream}_steps"


async def open_ledger(transport: NatsTransport) -> KeyValue | None:
    """The stream's step ledger bucket, created on first use; ``None`` if it cannot be had
    (the worker then runs every delivery, as without a ledger, and says so)."""
    name = ledger_bucket(transport)
    try:
        js = await transport.connect()
        try:
            return await js.key_value(name)
        except BucketNotFoundError:
            pass
        config = KeyValueConfig(
            bucket=name,
            history=1,
            ttl=ledger_ttl(transport),
            max_bytes=LEDGER_MAX_BYTES,
            storage=transport.storage,
            description="salesbus: outcomes of finished steps by input event id",
        )
        try:
            bucket = await js.create_key_value(config)
        except NatsError:  # another worker made it meanwhile (and set its discard policy)
            return await js.key_value(name)
        info = await js.stream_info(f"KV_{name}")
        info.config.discard = DiscardPolicy.OLD
        await js.update_stream(info.config)
        return bucket
    except (NatsError, TimeoutError) as exc:
        logger.warning(
            "no step ledger (%r): a redelivered event reruns its step, model call included", exc
        )
        return None


class StepLedger(Interceptor):
    """Records each step outcome before it is published; replays it for a redelivery."""

    def __init__(
        self,
        bus: EventBus,
        bucket: KeyValue | None,
        steps: Iterable[str],
        faults: Faults | None = None,
    ) -> None:
        self.bus = bus
        self.bucket = bucket
        self.faults = faults or Faults()
        self._keys = {
            agent_subscription(step): consumer_name(agent_subscription(step)) for step in steps
        }
        self.replayed = 0
        """Deliveries answered from the ledger (their handler did not run)."""
        self._failing = False

    def _key(self, subscription: str, event_id: str) -> str | None:
        prefix = self._keys.get(subscription)
        return None if prefix is None else f"{prefix}.{event_id}"

    async def consume_scope(
        self, call_next: ConsumeNext, event: Event, subscription: Subscription[Event]
    ) -> None:
        key = self._key(subscription.name, event.event_id)
        stored = None if key is None else await self._recall(key)
        if stored is None:
            await call_next(event)
            return
        logger.warning(
            "%s of %s was finished before: published its recorded outcome again",
            subscription.name,
            event.event_id,
        )
        token = _replaying.set(True)
        try:
            await self.bus.publish(stored)
        finally:
            _replaying.reset(token)
        self.replayed += 1

    async def publish_scope(self, call_next: PublishNext, event: Event) -> None:
        if not isinstance(event, StepSucceeded | StepSkipped) or _replaying.get():
            await call_next(event)
            return
        key = self._key(agent_subscription(event.step), event.input_event_id)
        if key is not None:
            await self._record(key, event)
            self.faults.after_outcome(event.step, "recorded")
        await call_next(event)
        if key is not None:
            self.faults.after_outcome(event.step, "published")

    async def _recall(self, key: str) -> Event | None:
        if self.bucket is None:
            return None
        try:
            with anyio.fail_after(LEDGER_TIMEOUT):
                entry = await self.bucket.get(key)
            return decode_event(entry.value) if entry.value else None
        except KeyNotFoundError:
            return None
        except (NatsError, TimeoutError, DecodeError) as exc:
            logger.warning("could not read the step ledger (%r): running the step", exc)
            return None

    async def _record(self, key: str, outcome: Event) -> None:
        if self.bucket is None:
            return
        try:
            with anyio.fail_after(LEDGER_TIMEOUT):
                await self.bucket.put(key, encode_event(outcome))
        except (NatsError, TimeoutError) as exc:
            # Once per outage, not once per step: a lost bucket would flood the log.
            log = logger.debug if self._failing else logger.warning
            log("could not record %s in the step ledger (%r): a redelivery reruns it", key, exc)
            self._failing = True
        else:
            if self._failing:
                logger.warning("the step ledger records again")
            self._failing = False
