"""Which bus transport a process runs on, from ``--transport`` or ``SALESBUS_TRANSPORT``.

``memory`` (or nothing): one process, agents in it. ``nats://host:port``: the
bus is a NATS JetStream stream; ``run``/``serve`` keep the store and the
orchestrator, ``salesbus worker`` processes run the agents.

On a broker every event's subject carries its batch (:func:`event_batch`; the
agent runtime copies a step input's ``batch_id`` into the step's status
events), and each batch's orchestrator subscribes as that batch's owner: its
status consumers are the batch's own, so orchestrators of different batches
(``run`` processes, or the service's concurrent batches) never take each
other's events, while the workers' agent consumers are shared by all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from salesbus.bus import Event, Transport

if TYPE_CHECKING:
    from salesbus.bus.nats_transport import NatsTransport

__all__ = [
    "TransportConfigError",
    "agent_subscription",
    "check_transport",
    "event_batch",
    "is_broker",
    "make_transport",
]


class TransportConfigError(ValueError):
    """A transport URL salesbus cannot use (the CLI prints it and exits 2)."""


def is_broker(url: str | None) -> bool:
    return bool(url) and url != "memory"


def make_transport(
    url: str | None, *, ack_wait: float = 60.0, batch_id: str | None = None
) -> Transport | None:
    """The transport for ``url``; ``None`` for the memory transport (the bus's default).

    :param ack_wait: seconds a process may hold an event (longer than a step's timeout).
    :param batch_id: the batch this process orchestrates: its subscriptions take that
        batch's events only (``None``: every batch's, as a worker).
    :raises TransportConfigError: an unknown scheme, or nats-py is not installed.
    """
    if not is_broker(url):
        return None
    assert url is not None
    return nats_transport(url, ack_wait=ack_wait, batch_id=batch_id)


def event_batch(event: Event) -> str | None:
    """The batch an event belongs to: its subject's owner token on a broker."""
    batch_id = getattr(event, "batch_id", None)
    return batch_id if isinstance(batch_id, str) else None


def check_transport(url: str) -> str:
    """``url`` if salesbus can use it (checked before a run starts: one line, exit 2).

    :raises TransportConfigError: neither ``memory`` nor ``nats://…`` URLs.
    """
    if is_broker(url) and not all(
        part.startswith(("nats://", "tls://")) for part in url.split(",")
    ):
        raise TransportConfigError(
            f"transport {url!r}: expected memory or nats://host:port (comma-separated for a"
            " cluster)"
        )
    return url


def nats_transport(
    url: str, *, ack_wait: float = 60.0, batch_id: str | None = None
) -> NatsTransport:
    check_transport(url)
    try:
        from salesbus.bus.nats_transport import NatsTransport
    except ImportError as missing:
        raise TransportConfigError(str(missing)) from missing
    return NatsTransport(url, ack_wait=ack_wait, owner=batch_id, owner_of=event_batch)


def agent_subscription(step_name: str) -> str:
    """The subscription name an agent runs under (``AgentRuntime.add``), shared by workers."""
    return f"agent:{step_name}"


async def declare_agents(transport: Transport, steps: list[tuple[str, type[Event]]]) -> None:
    """Make the agents' durable consumers before the first publish, so events wait for workers
    that start later."""
    from salesbus.bus.nats_transport import NatsTransport

    if isinstance(transport, NatsTransport):
        for step_name, consumes in steps:
            await transport.declare(consumes, agent_subscription(step_name))
