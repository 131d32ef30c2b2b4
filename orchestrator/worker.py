"""A worker process: the pipeline's agents on a broker transport, and nothing else.

The orchestrator (``run``/``serve``) keeps the store and publishes each step's
input; workers subscribe the agents under their shared names, so however many
run, each event is handled by one of them. A worker that dies holding events
loses nothing: the broker redelivers what it had not acked to another, and
its step ledger (:mod:`.step_ledger`) keeps a step that had finished from
running, and paying its model, a second time.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

import anyio

from salesbus.agents.campaign import Campaign
from salesbus.agents.research import PageFetcher
from salesbus.agents.runtime import AgentRuntime
from salesbus.agents.website import FetchSettings, WebsiteFetcher
from salesbus.bus import EventBus

from .faults import faults_from_env
from .runner import Instrumentation, RunSettings, build_provider
from .sales import sales_pipeline
from .step_ledger import StepLedger, open_ledger
from .transports import TransportConfigError, nats_transport
from .workers import heartbeat

__all__ = ["WorkerSettings", "run_worker"]

logger = logging.getLogger("salesbus.worker")

STOP_GRACE = 30.0
"""Seconds a stopping worker gives the steps it holds before it lets them go (redelivered)."""


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    transport: str
    agents: Sequence[str] | None = None
    """Step names to run (``None``: every step of the pipeline)."""
    concurrency: int = 16
    """Events each agent handles at once."""
    run: RunSettings = field(default_factory=RunSettings)
    instrumentation: Instrumentation | None = None
    """Tracing: hop spans (``system="nats"``), step spans, model-call and fetch spans."""


async def run_worker(
    settings: WorkerSettings, campaign: Campaign, stop: anyio.Event | None = None
) -> None:
    """Run the chosen agents until ``stop`` is set (by default: SIGINT or SIGTERM), then
    finish the steps in hand and leave the rest on the broker for other workers.

    :raises TransportConfigError: the transport URL or the agent names are unusable.
    """
    run = settings.run
    step_timeout = run.step_timeout or 120.0
    # A step never holds an event longer than its timeout (plus publishing its status).
    ack_wait = step_timeout + max(5.0, step_timeout / 4)
    transport = nats_transport(settings.transport, ack_wait=ack_wait)
    instrumentation = settings.instrumentation or Instrumentation()
    provider = build_provider(run, instrumentation.wrap_provider)
    try:
        async with AsyncExitStack() as stack:
            fetcher: PageFetcher | None = None
            if run.fetch_websites if run.fetch_websites is not None else provider.name != "offline":
                fetcher = await stack.enter_async_context(
                    WebsiteFetcher(FetchSettings(allow_private=run.allow_private_websites))
                )
                if instrumentation.wrap_fetcher is not None:
                    fetcher = instrumentation.wrap_fetcher(fetcher)
            spec = sales_pipeline(provider, campaign, fetcher=fetcher, step_timeout=step_timeout)
            known = [step.name for step in spec.steps]
            wanted = list(settings.agents) if settings.agents else known
            unknown = sorted(set(wanted) - set(known))
            if unknown:
                raise TransportConfigError(
                    f"unknown agent(s) {', '.join(unknown)}: choose from {', '.join(known)}"
                )
            async with EventBus(
                transport=transport,
                shutdown_timeout=STOP_GRACE,
                interceptors=instrumentation.interceptors,
            ) as bus:
                # Innermost: an outcome is recorded after the tracing interceptors saw it.
                ledger = StepLedger(bus, await open_ledger(transport), wanted, faults_from_env())
                bus.add_interceptor(ledger)
                runtime = AgentRuntime(
                    bus,
                    forward_outputs=False,
                    step_timeout=step_timeout,
                    observers=list(instrumentation.observers),
                )
                subscriptions = [
                    runtime.add(step.agent, concurrency=settings.concurrency, timeout=step.timeout)
                    for step in spec.steps
                    if step.name in wanted
                ]
                logger.warning("worker running %s on %s", ", ".join(wanted), settings.transport)
                async with anyio.create_task_group() as beats:
                    beats.start_soon(heartbeat, transport, bus, wanted, lambda: ledger.replayed)
                    if stop is None:
                        stop = anyio.Event()
                        beats.start_soon(_stop_on_signal, stop)
                    await stop.wait()
                    logger.warning("worker stopping: finishing the steps in hand")
                    # Stop pulling; finish what was pulled (within the grace), so the
                    # drain below waits for this worker's own work, not the shared backlog.
                    for subscription in subscriptions:
                        bus.unsubscribe(subscription)
                    with anyio.move_on_after(STOP_GRACE):
                        for subscription in subscriptions:
                            await subscription.wait_closed()
                    beats.cancel_scope.cancel()
    finally:
        with anyio.CancelScope(shield=True):
            await provider.aclose()


async def _stop_on_signal(stop: anyio.Event) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for _ in signals:
            stop.set()
            return
