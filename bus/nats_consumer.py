"""A NATS subscription's pull consumer and the receipt that acks or naks each message.

Kept apart from :mod:`.nats_transport` (which owns the connection, the stream and
publishing): this is the receiving side, one task per subscription filling its
inbox only as fast as the inbox has room, and the verdict of the bus worker
passed back to the broker.
"""

from __future__ import annotations

import logging
from contextvars import copy_context
from typing import TYPE_CHECKING, Any

import anyio
from anyio.abc import TaskGroup
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.js import JetStreamContext

from .codec import decode_event
from .errors import DecodeError
from .inbox import Receipt
from .nats_subjects import subject_matches
from .subscription import Subscription

if TYPE_CHECKING:
    from .nats_transport import NatsTransport

logger = logging.getLogger("salesbus.bus.nats")


class Ack(Receipt):
    """The bus worker's verdict on one message, passed on to the broker."""

    __slots__ = ("_event_id", "_msg", "_subscription", "_transport")

    def __init__(
        self, transport: NatsTransport, msg: Msg, subscription: str, event_id: str
    ) -> None:
        self._transport = transport
        self._msg = msg
        self._subscription = subscription
        self._event_id = event_id
        transport.hold(event_id, msg.subject)

    async def ack(self) -> None:
        self._transport.let_go(self._event_id)
        try:
            await self._msg.ack()
        except NatsError as exc:  # the broker redelivers it; handlers are idempotent
            logger.warning(
                "could not ack %s (%r): it will be delivered again", self._msg.subject, exc
            )

    async def nak(self, error: BaseException | None = None) -> None:
        self._transport.let_go(self._event_id)
        try:
            await self._transport.failed(self._msg, self._subscription, error)
        except NatsError as exc:
            logger.warning(
                "could not nak %s (%r): redelivered after ack_wait", self._msg.subject, exc
            )


class PullConsumer:
    """One subscription's durable pull consumer and the task that fills its inbox."""

    def __init__(
        self, transport: NatsTransport, subscription: Subscription[Any], name: str
    ) -> None:
        self.transport = transport
        self.name = name
        self.durable = subscription.durable
        self.ready = anyio.Event()
        self.failed = False
        self.expect_seq = 0
        """The stream sequence of the last event this process published to this consumer."""
        self.owner = transport.owner
        self.subjects = transport.filter_subjects(subscription.event_type, self.owner)
        self.scope = anyio.CancelScope()

    def receives(self, subject: str) -> bool:
        """Whether this consumer's filter takes ``subject``."""
        return any(subject_matches(pattern, subject) for pattern in self.subjects)

    def start(self, task_group: TaskGroup, subscription: Subscription[Any]) -> None:
        task_group.start_soon(self._run, subscription, name=f"nats:{self.name}")

    def stop(self) -> None:
        self.scope.cancel()
        self.ready.set()

    async def _run(self, subscription: Subscription[Any]) -> None:
        with self.scope:
            try:
                pull = await self._bind(subscription)
            except Exception:
                self.failed = True
                logger.exception("could not create the NATS consumer %s", self.name)
                return
            finally:
                self.ready.set()
            await self._pull(pull, subscription)

    async def _bind(self, subscription: Subscription[Any]) -> JetStreamContext.PullSubscription:
        transport = self.transport
        await transport.create_consumer(
            self.name, subscription.event_type, durable=self.durable, owner=self.owner
        )
        return await transport.js.pull_subscribe_bind(consumer=self.name, stream=transport.stream)

    async def _pull(
        self, pull: JetStreamContext.PullSubscription, subscription: Subscription[Any]
    ) -> None:
        inbox = subscription.inbox
        isolate = subscription.isolate_context

        def closed() -> bool:  # re-read after every await (mypy would keep it narrowed)
            return inbox.closed

        transport = self.transport
        try:
            while not inbox.closed:
                await inbox.reserve()
                room = 1 + max(0, inbox.capacity - len(inbox) - inbox.reserved)
                try:
                    msgs = await pull.fetch(min(room, transport.fetch_batch), timeout=1.0)
                except TimeoutError:  # nats-py raises its own and asyncio's: nothing came
                    continue
                except NatsError as exc:  # the broker is restarting: the client reconnects
                    logger.warning("pulling for %s failed (%r); retrying", self.name, exc)
                    await anyio.sleep(0.5)
                    continue
                finally:
                    inbox.release()
                for msg in msgs:
                    try:
                        event = decode_event(msg.data)
                    except DecodeError as exc:
                        await transport.failed(msg, subscription.name, exc)
                        continue
                    if closed():
                        await msg.nak()
                        continue
                    receipt = Ack(transport, msg, subscription.name, event.event_id)
                    inbox.push((event, copy_context() if isolate else None, receipt))
        finally:
            with anyio.CancelScope(shield=True):
                try:
                    await pull.unsubscribe()
                    if not self.durable:
                        await transport.js.delete_consumer(transport.stream, self.name)
                except Exception:  # the connection may be gone already
                    logger.debug("unsubscribing %s failed", self.name, exc_info=True)
