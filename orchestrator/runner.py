"""Running a batch end to end: provider, store, bus, orchestrator — shared by the CLI and embedders.

:class:`RunSettings` holds everything a run is configured by; :func:`run_batch`
wires the parts together, resumes what an earlier run left, and stops
gracefully when asked (Ctrl-C in the CLI).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import anyio

from salesbus.agents.campaign import Campaign
from salesbus.agents.models import Company
from salesbus.agents.providers.base import Provider
from salesbus.agents.providers.factory import ProviderChoice, make_provider
from salesbus.agents.providers.limits import LimitedProvider
from salesbus.agents.providers.simulated import SimulatedProvider
from salesbus.agents.research import PageFetcher
from salesbus.agents.runtime import StepObserver
from salesbus.agents.website import FetchSettings, WebsiteFetcher
from salesbus.bus import EventBus, Interceptor

from .batch import PreparedBatch, lease_scope, prepare_batch
from .engine import BatchProgress, Orchestrator, WorkflowTracer
from .lease import hold_lease
from .retry import RetryPolicy
from .sales import sales_pipeline
from .store import Store

__all__ = ["RunSettings", "Simulation", "build_provider", "run_batch"]

logger = logging.getLogger("salesbus.run")


@dataclass(frozen=True, slots=True)
class Simulation:
    """Test and benchmark aid: latency and failures added around the real provider."""

    latency: float = 0.0
    failure_rate: float = 0.0
    permanent_failure_rate: float = 0.0

    @property
    def active(self) -> bool:
        return bool(self.latency or self.failure_rate or self.permanent_failure_rate)


@dataclass(frozen=True, slots=True)
class RunSettings:
    llm: ProviderChoice = "auto"
    model: str | None = None
    concurrency: int = 50
    llm_concurrency: int = 16
    requests_per_minute: float | None = None
    max_attempts: int = 4
    retry_base_delay: float = 1.0
    retry_max_delay: float = 60.0
    step_timeout: float | None = 120.0
    fetch_websites: bool | None = None
    """``None``: fetch when a network model runs (Claude), not for the offline rules."""
    allow_private_websites: bool = False
    max_crashes: int = 4
    """A step interrupted this many times by the process dying ends ``failed``."""
    simulation: Simulation = field(default_factory=Simulation)

    def to_record(self) -> dict[str, Any]:
        """What the batch stores, so ``retry`` runs with the settings the batch ran with.

        The simulation (a test and benchmark aid) is not a setting: it is left out.
        """
        record = asdict(self)
        record.pop("simulation")
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any], **overrides: Any) -> RunSettings:
        """Settings stored with a batch (unknown keys from other versions ignored)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in record.items() if k in known and k != "simulation"}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.max_attempts,
            base_delay=self.retry_base_delay,
            max_delay=self.retry_max_delay,
        )


def build_provider(
    settings: RunSettings, wrap: Callable[[Provider], Provider] | None = None
) -> Provider:
    """The configured provider, optionally wrapped (tracing), under the shared LLM limiter.

    The wrapper goes inside the limiter so that a traced model call measures
    the call, not the wait for a free slot.
    """
    provider: Provider = make_provider(settings.llm, model=settings.model)
    if settings.simulation.active:
        provider = SimulatedProvider(
            provider,
            latency=settings.simulation.latency,
            failure_rate=settings.simulation.failure_rate,
            permanent_failure_rate=settings.simulation.permanent_failure_rate,
        )
    if wrap is not None:
        provider = wrap(provider)
    return LimitedProvider(
        provider,
        max_concurrent=settings.llm_concurrency,
        requests_per_minute=settings.requests_per_minute,
    )


@dataclass
class Instrumentation:
    """What observability plugs in: bus interceptors, step observers, a provider wrapper."""

    interceptors: Sequence[Interceptor] = ()
    observers: Sequence[StepObserver] = ()
    tracer: WorkflowTracer | None = None
    wrap_provider: Callable[[Provider], Provider] | None = None
    wrap_fetcher: Callable[[PageFetcher], PageFetcher] | None = None
    on_bus: Callable[[EventBus], None] | None = None
    """Called with the run's bus before anything is published (metrics subscribe here)."""


async def run_batch(
    store: Store,
    companies: Iterable[Company],
    campaign: Campaign,
    settings: RunSettings,
    *,
    leads_path: str | Path | None = None,
    leads_digest: str | None = None,
    provider: Provider | None = None,
    instrumentation: Instrumentation | None = None,
    only: Iterable[str] | None = None,
    batch_id: str | None = None,
    refresh: bool = False,
    wait: bool = False,
    on_start: Callable[[PreparedBatch, Orchestrator], Awaitable[None] | None] | None = None,
) -> tuple[PreparedBatch, BatchProgress]:
    """Prepare (or find) the batch and run its unfinished workflows under its lease.

    ``companies`` is consumed as a stream. ``on_start`` is called once
    everything is wired and before the first admission: the CLI uses it to
    start its progress display and signal watcher. A ``provider`` passed in
    belongs to the caller and is never closed here; one built here is.

    :raises LeaseHeld: another live process runs these workflows (unless ``wait``).
    """
    instrumentation = instrumentation or Instrumentation()
    owned = provider is None
    if provider is None:
        provider = build_provider(settings, instrumentation.wrap_provider)
    elif instrumentation.wrap_provider is not None:
        provider = instrumentation.wrap_provider(provider)
    try:
        return await _run(
            store,
            companies,
            campaign,
            settings,
            provider,
            instrumentation,
            leads_path=leads_path,
            leads_digest=leads_digest,
            only=only,
            batch_id=batch_id,
            refresh=refresh,
            wait=wait,
            on_start=on_start,
        )
    finally:
        if owned:
            with anyio.CancelScope(shield=True):
                await provider.aclose()


async def _run(
    store: Store,
    companies: Iterable[Company],
    campaign: Campaign,
    settings: RunSettings,
    provider: Provider,
    instrumentation: Instrumentation,
    *,
    leads_path: str | Path | None,
    leads_digest: str | None,
    only: Iterable[str] | None,
    batch_id: str | None,
    refresh: bool,
    wait: bool,
    on_start: Callable[[PreparedBatch, Orchestrator], Awaitable[None] | None] | None,
) -> tuple[PreparedBatch, BatchProgress]:
    if batch_id is None:
        prepared = await prepare_batch(
            store,
            companies,
            campaign,
            provider=provider.name,
            model=provider.model,
            leads_path=str(leads_path) if leads_path else None,
            leads_digest=leads_digest,
            settings=settings.to_record(),
        )
    else:
        prepared = PreparedBatch(batch=await store.batch(batch_id), created=False, added=0)
    fetch = settings.fetch_websites
    if fetch is None:
        fetch = provider.name != "offline"
    lost: list[Orchestrator] = []

    def lease_lost() -> None:
        logger.error("the lease of batch %s was lost: stopping", prepared.batch.id)
        for orchestrator in lost:
            orchestrator.stop()

    async with AsyncExitStack() as stack:
        await stack.enter_async_context(
            hold_lease(store, lease_scope(prepared.batch), wait=wait, on_lost=lease_lost)
        )
        if refresh:
            await store.commit(store.refresh(prepared.batch.id))
        fetcher: PageFetcher | None = None
        if fetch:
            fetcher = await stack.enter_async_context(
                WebsiteFetcher(FetchSettings(allow_private=settings.allow_private_websites))
            )
            if instrumentation.wrap_fetcher is not None:
                fetcher = instrumentation.wrap_fetcher(fetcher)
        spec = sales_pipeline(
            provider, campaign, fetcher=fetcher, step_timeout=settings.step_timeout
        )
        async with EventBus(interceptors=instrumentation.interceptors) as bus:
            if instrumentation.on_bus is not None:
                instrumentation.on_bus(bus)
            orchestrator = Orchestrator(
                bus,
                store,
                spec,
                concurrency=settings.concurrency,
                retry=settings.retry_policy(),
                max_crashes=settings.max_crashes,
                tracer=instrumentation.tracer,
                observers=instrumentation.observers,
            )
            lost.append(orchestrator)
            if on_start is not None:
                started = on_start(prepared, orchestrator)
                if started is not None:
                    await started
            progress = await orchestrator.run(prepared.batch.id, only=only)
    return prepared, progress
