"""Running a batch end to end: provider, store, bus, orchestrator — shared by the CLI and embedders.

:class:`RunSettings` holds everything a run is configured by; :func:`run_batch`
wires the parts together, resumes what an earlier run left, and stops
gracefully when asked (Ctrl-C in the CLI).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

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

from .batch import PreparedBatch, prepare_batch
from .engine import BatchProgress, Orchestrator, WorkflowTracer
from .retry import RetryPolicy
from .sales import sales_pipeline
from .settings_check import check_run_settings
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
    simulation: Simulation = field(default_factory=Simulation)

    def __post_init__(self) -> None:
        check_run_settings(self)

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
    companies: Sequence[Company],
    campaign: Campaign,
    settings: RunSettings,
    *,
    leads_path: str | Path | None = None,
    leads_digest: str | None = None,
    provider: Provider | None = None,
    instrumentation: Instrumentation | None = None,
    only: Iterable[str] | None = None,
    batch_id: str | None = None,
    on_start: Callable[[PreparedBatch, Orchestrator], Awaitable[None] | None] | None = None,
) -> tuple[PreparedBatch, BatchProgress]:
    """Prepare (or find) the batch and run its unfinished workflows.

    ``on_start`` is called once everything is wired and before the first
    admission: the CLI uses it to start its progress display and signal watcher.
    """
    instrumentation = instrumentation or Instrumentation()
    if provider is None:
        provider = build_provider(settings, instrumentation.wrap_provider)
    elif instrumentation.wrap_provider is not None:
        provider = instrumentation.wrap_provider(provider)
    if batch_id is None:
        prepared = await prepare_batch(
            store,
            companies,
            campaign,
            provider=provider.name,
            model=provider.model,
            leads_path=str(leads_path) if leads_path else None,
            leads_digest=leads_digest,
        )
    else:
        prepared = PreparedBatch(batch=await store.batch(batch_id), created=False, added=0)
    fetch = settings.fetch_websites
    if fetch is None:
        fetch = provider.name != "offline"
    try:
        async with AsyncExitStack() as stack:
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
                    tracer=instrumentation.tracer,
                    observers=instrumentation.observers,
                )
                if on_start is not None:
                    started = on_start(prepared, orchestrator)
                    if started is not None:
                        await started
                progress = await orchestrator.run(prepared.batch.id, only=only)
    finally:
        with anyio.CancelScope(shield=True):
            await provider.aclose()
    return prepared, progress
