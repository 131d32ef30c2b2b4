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
from salesbus.agents.providers.limits import AdaptiveLimiter, LimitedProvider
from salesbus.agents.providers.simulated import SimulatedProvider
from salesbus.agents.research import PageFetcher
from salesbus.agents.runtime import StepObserver
from salesbus.agents.website import FetchSettings, WebsiteFetcher
from salesbus.bus import EventBus, Interceptor

from .batch import PreparedBatch, lease_scope, prepare_batch
from .batch_ledger import StoreLedger
from .budget import Budget, estimate_batch
from .engine import Admission, BatchProgress, Orchestrator, WorkflowTracer
from .lease import hold_lease
from .retry import RetryPolicy
from .sales import sales_pipeline
from .settings_check import check_run_settings
from .store import Store
from .transports import declare_agents, make_transport, run_owner

__all__ = ["RunSettings", "Simulation", "build_provider", "run_batch"]

logger = logging.getLogger("salesbus.run")

_ACK_WAIT = 30.0
"""Seconds the orchestrator may hold a status event on a broker (its handlers are quick)."""


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
    llm_concurrency: int | None = None
    """A cap on model calls in flight; ``None``: as many as the learnt limits need."""
    requests_per_minute: float | None = None
    """A cap on the model call pace; ``None``: the limit the API reports."""
    max_attempts: int = 4
    retry_base_delay: float = 1.0
    retry_max_delay: float = 60.0
    step_timeout: float | None = 120.0
    fetch_websites: bool | None = None
    """``None``: fetch when a network model runs (Claude), not for the offline rules."""
    allow_private_websites: bool = False
    max_crashes: int = 4
    """A step interrupted this many times by the process dying ends ``failed``."""
    max_cost_usd: float | None = None
    """Stop admitting companies before spent + in-flight estimate passes this (USD)."""
    simulation: Simulation = field(default_factory=Simulation)
    transport: str | None = None
    """``None``/``memory``: agents run in this process; ``nats://…``: in ``salesbus worker``s."""
    batch_api: bool = False
    """Claude's calls as Message Batches (half price, answered within 24 h), recorded in
    the store; steps then have no timeout (a batch's own expiry bounds them)."""

    def __post_init__(self) -> None:
        check_run_settings(self)

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
    settings: RunSettings,
    wrap: Callable[[Provider], Provider] | None = None,
    store: Store | None = None,
) -> Provider:
    """The configured provider, optionally wrapped (tracing), under the shared LLM limiter.

    With ``settings.batch_api`` Claude records its batch requests in ``store``.

    Claude paces each call itself with an :class:`AdaptiveLimiter` fed by the
    API's rate-limit headers, the run's caps as its ceilings. Other providers
    report no limits and go under :class:`LimitedProvider` with the caps (the
    wrapper inside it, so that a traced call measures the call, not the wait).

    :raises ValueError: ``batch_api`` without a ``store`` to record batches in.
    """
    limiter = AdaptiveLimiter(
        max_concurrent=settings.llm_concurrency, requests_per_minute=settings.requests_per_minute
    )
    if settings.batch_api and store is None:
        raise ValueError("batch_api: Message Batches are recorded in the run's store; pass it")
    ledger = StoreLedger(store) if settings.batch_api and store is not None else None
    provider: Provider = make_provider(
        settings.llm, model=settings.model, limiter=limiter, batch=ledger
    )
    self_limited = provider.name == "anthropic"
    if settings.simulation.active:
        provider = SimulatedProvider(
            provider,
            latency=settings.simulation.latency,
            failure_rate=settings.simulation.failure_rate,
            permanent_failure_rate=settings.simulation.permanent_failure_rate,
        )
    if wrap is not None:
        provider = wrap(provider)
    if self_limited:
        return provider
    return LimitedProvider(
        provider,
        max_concurrent=settings.llm_concurrency or settings.concurrency,
        requests_per_minute=settings.requests_per_minute,
    )


async def budget_for(
    store: Store,
    companies: Sequence[Company],
    campaign: Campaign,
    provider: Provider,
    settings: RunSettings,
) -> Callable[[BatchProgress, int], str | None] | None:
    """The ``--max-cost`` admission check, priced per company by :func:`estimate_batch`.

    The offline rules cost nothing, so no cap can bind them.
    """
    if settings.max_cost_usd is None or provider.name == "offline":
        return None
    estimate = await estimate_batch(
        companies, campaign, provider.model, store=store, batch=settings.batch_api
    )
    return Budget(settings.max_cost_usd, estimate.per_company_usd).refuse


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
    admission: Admission | None = None,
    close_provider: bool = True,
) -> tuple[PreparedBatch, BatchProgress]:
    """Prepare (or find) the batch and run its unfinished workflows under its lease.

    ``companies`` is consumed as a stream. ``on_start`` is called once
    everything is wired and before the first admission: the CLI uses it to
    start its progress display and signal watcher. A ``provider`` passed in
    belongs to the caller and is never closed here; one built here is (unless
    ``close_provider`` is false). The HTTP service passes the ``admission`` its
    batches share.

    :raises LeaseHeld: another live process runs these workflows (unless ``wait``).
    """
    instrumentation = instrumentation or Instrumentation()
    owned = provider is None
    if provider is None:
        provider = build_provider(settings, instrumentation.wrap_provider, store)
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
            admission=admission,
        )
    finally:
        if owned and close_provider:
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
    admission: Admission | None,
) -> tuple[PreparedBatch, BatchProgress]:
    if settings.max_cost_usd is not None and not isinstance(companies, Sequence):
        companies = list(companies)  # the cost estimate reads them after they are recorded
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
    budget = None
    if settings.max_cost_usd is not None:
        assert isinstance(companies, Sequence)
        budget = await budget_for(store, companies, campaign, provider, settings)
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
        step_timeout = None if settings.batch_api else settings.step_timeout
        spec = sales_pipeline(provider, campaign, fetcher=fetcher, step_timeout=step_timeout)
        transport = make_transport(
            settings.transport,
            ack_wait=_ACK_WAIT,
            owner=run_owner(prepared.batch.id, prepared.batch.created_at),
        )
        async with EventBus(transport=transport, interceptors=instrumentation.interceptors) as bus:
            if transport is not None:
                await declare_agents(transport, [(s.name, s.consumes) for s in spec.steps])
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
                admission=admission,
                budget=budget,
                run_agents=transport is None,
            )
            lost.append(orchestrator)
            if on_start is not None:
                started = on_start(prepared, orchestrator)
                if started is not None:
                    await started
            progress = await orchestrator.run(prepared.batch.id, only=only)
    return prepared, progress
