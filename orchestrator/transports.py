"""Which bus transport a process runs on, from ``--transport`` or ``SALESBUS_TRANSPORT``.

``memory`` (or nothing): one process, agents in it. ``nats://host:port``: the
bus is a NATS JetStream stream; ``run``/``serve`` keep the store and the
orchestrator, ``salesbus worker`` processes run the agents.

On a broker each run of a batch is an owner (:func:`run_owner`): its
orchestrator publishes the step inputs under it, a worker publishes a step's
status events under the owner of the input it handled, and the orchestrator's
subscriptions are that owner's own consumers. So orchestrators of different
batches (``run`` processes, the service's concurrent batches, two stores that
run the same leads) never take each other's status events, while the workers'
agent consumers are shared by all.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from salesbus.bus import Event, Transport

if TYPE_CHECKING:
    from salesbus.bus.nats_transport import NatsTransport

__all__ = [
    "TransportConfigError",
    "agent_subscription",
    "check_transport",
    "is_broker",
    "make_transport",
    "run_owner",
]


class TransportConfigError(ValueError):
    """A transport URL salesbus cannot use (the CLI prints it and exits 2)."""


def is_broker(url: str | None) -> bool:
    return bool(url) and url != "memory"


def make_transport(
    url: str | None, *, ack_wait: float = 60.0, owner: str | None = None
) -> Transport | None:
    """The transport for ``url``; ``None`` for the memory transport (the bus's default).

    :param ack_wait: seconds a process may hold an event (longer than a step's timeout).
    :param owner: the run this process orchestrates (:func:`run_owner`): its
        subscriptions take that run's events only (``None``: everyone's, as a worker).
    :raises TransportConfigError: an unknown scheme, or nats-py is not installed.
    """
    if not is_broker(url):
        return None
    assert url is not None
    return nats_transport(url, ack_wait=ack_wait, owner=owner)


def run_owner(batch_id: str, created_at: str) -> str:
    """The broker owner of a batch's runs: stable across restarts of the batch in its
    store, and distinct between two stores that made the same batch (same leads,
    campaign and model give the same batch id; each store stamps its own creation)."""
    stamp = hashlib.sha256(created_at.encode()).hexdigest()[:8]
    return f"{batch_id}-{stamp}"


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


def require_nats() -> None:
    """:raises TransportConfigError: nats-py, the optional ``nats`` extra, is not installed."""
    try:
        import salesbus.bus.nats_transport  # noqa: F401
    except ImportError as missing:
        raise TransportConfigError(str(missing)) from missing


def nats_transport(url: str, *, ack_wait: float = 60.0, owner: str | None = None) -> NatsTransport:
    check_transport(url)
    require_nats()
    from salesbus.bus.nats_transport import NatsTransport

    return NatsTransport(url, ack_wait=ack_wait, owner=owner)


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
