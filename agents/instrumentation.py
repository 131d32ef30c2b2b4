"""Tracing and metrics for agents, plugged in from outside them.

:class:`TracingObserver` is a :class:`~salesbus.agents.runtime.StepObserver`: an
``invoke_agent <step>`` span around every step attempt, plus the step metrics.
:class:`TracedProvider` wraps any :class:`~salesbus.agents.providers.Provider`
in ``chat <model>`` spans. Wire both once::

    telemetry = configure_telemetry(otlp_endpoint)
    provider = TracedProvider(make_provider(...), telemetry)
    runtime = AgentRuntime(bus, observers=[TracingObserver(telemetry)])

Model calls are traced here and only here: the Anthropic provider turns the
SDK's own tracing off, so no call is counted twice.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from opentelemetry.context import Context

from salesbus.bus import Event
from salesbus.observability import (
    AgentRecorder,
    ChatRecorder,
    Telemetry,
    default_telemetry,
    event_parent_context,
    http_span,
)

from .campaign import Campaign
from .models import Analysis, Company, CompanyProfile
from .providers.base import Draft, Provider, ProviderWrapper
from .research import PageFetcher
from .status import StepFailed, StepSkipped, StepSucceeded
from .usage import Usage, metered
from .website import WebPage, normalize_url

__all__ = ["PageFetcher", "TracedFetcher", "TracedProvider", "TracingObserver"]


def _report_usage(recorder: AgentRecorder | ChatRecorder, usage: Usage) -> None:
    """Put a salesbus :class:`Usage` on a span recorder (which knows nothing of agents)."""
    if usage.calls:
        recorder.record_usage(
            uncached_input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_read_tokens=usage.cache_read_tokens,
            cache_write_tokens=usage.cache_write_tokens,
            cost_usd=usage.cost_usd,
            calls=usage.calls,
        )


class TracingObserver:
    """Spans and metrics for every step attempt the agent runtime runs.

    The ``invoke_agent`` span is current for the whole attempt, so the
    attempt's model calls and fetches are its children; its parent is what
    the input event carries (the workflow's root) unless a hop span about
    that event is current. For a trace that was not sampled no span is made,
    but the unsampled context is current, so the model calls make none either. Its outcome sets the
    attempt's usage, ``salesbus.step.outcome`` and, on failure, ERROR status,
    the recorded exception, ``error.type`` (the error kind) and
    ``salesbus.error.retryable``. Metrics: duration, attempts, retries
    (attempts after the first) and the attempt's tokens and cost, by step.
    """

    def __init__(self, telemetry: Telemetry | None = None) -> None:
        self.telemetry = telemetry or default_telemetry()

    def observe(self, step: str, event: Event, attempt: int) -> _ObservedAttempt:
        batch_id = getattr(event, "batch_id", None)
        return _ObservedAttempt(
            step,
            attempt=attempt,
            workflow_id=event.correlation_id,
            batch_id=batch_id if isinstance(batch_id, str) else None,
            parent=event_parent_context(event),
            telemetry=self.telemetry,
        )


class _ObservedAttempt(AgentRecorder):
    """One attempt's span, and the reporter the runtime calls with its outcome.

    The span scope is its own reporter, so that an attempt in flight holds
    one object rather than a chain of generator scopes and closures.
    """

    __slots__ = ("_metrics", "attempt", "step")

    def __init__(
        self,
        step: str,
        *,
        attempt: int,
        workflow_id: str | None,
        batch_id: str | None,
        parent: Context | None,
        telemetry: Telemetry,
    ) -> None:
        super().__init__(
            step,
            attempt=attempt,
            workflow_id=workflow_id,
            batch_id=batch_id,
            parent=parent,
            telemetry=telemetry,
        )
        self.step = step
        self.attempt = attempt
        self._metrics = telemetry.metrics

    def __call__(
        self, outcome: StepSucceeded | StepSkipped | StepFailed, error: BaseException | None
    ) -> None:
        _report_usage(self, outcome.usage)
        if isinstance(outcome, StepFailed):
            info = outcome.error
            self.failed(error, error_type=info.kind, retryable=info.retryable, message=info.message)
            kind = "failed"
        elif isinstance(outcome, StepSkipped):
            self.skipped(outcome.outcome)
            kind = "skipped"
        else:
            self.succeeded()
            kind = "succeeded"
        metrics = self._metrics
        metrics.step_attempt(self.step, self.attempt, kind, outcome.duration_ms / 1000)
        usage = outcome.usage
        metrics.step_usage(self.step, usage.total_input_tokens, usage.output_tokens, usage.cost_usd)


class TracedProvider(ProviderWrapper):
    """A provider whose every call is a ``chat <model>`` CLIENT span with its usage.

    Each call is metered on its own (so the span shows that call's tokens and
    cost, cache reads and writes counted as input) and its usage is then passed
    on to the enclosing step's meter, so the step's total is unchanged. One
    provider call is one span even when the provider made a repair round trip;
    ``salesbus.llm.calls`` says how many model calls it took.
    """

    def __init__(self, inner: Provider, telemetry: Telemetry | None = None) -> None:
        self.inner = inner
        self.telemetry = telemetry or default_telemetry()

    async def research(
        self, company: Company, page: WebPage | None, campaign: Campaign
    ) -> CompanyProfile:
        with _MeteredChat(self, "research"):
            return await self.inner.research(company, page, campaign)

    async def analyze(self, profile: CompanyProfile, campaign: Campaign) -> Analysis:
        with _MeteredChat(self, "analyze"):
            return await self.inner.analyze(profile, campaign)

    async def personalize(
        self,
        profile: CompanyProfile,
        analysis: Analysis,
        campaign: Campaign,
        revision_notes: list[str] | None = None,
    ) -> Draft:
        with _MeteredChat(self, "personalize"):
            return await self.inner.personalize(profile, analysis, campaign, revision_notes)

    def __repr__(self) -> str:
        return f"TracedProvider({self.inner!r})"


class _MeteredChat(ChatRecorder):
    """A model call's ``chat`` span with the call's own meter.

    The meter sees this call alone (its span's usage, failed calls included);
    meters nest, so the step's meter around it sees the call too. One object
    per call in flight, for the reason :mod:`salesbus.observability.spans` gives.
    """

    __slots__ = ("_meter",)

    def __init__(self, provider: TracedProvider, operation: str) -> None:
        super().__init__(
            provider.name, provider.model, operation=operation, telemetry=provider.telemetry
        )
        self._meter = metered()

    def __enter__(self) -> Self:
        super().__enter__()
        self._meter.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        meter = self._meter
        meter.__exit__()
        _report_usage(self, meter.total)
        super().__exit__(exc_type, exc, tb)


class TracedFetcher:
    """Wraps a website fetcher so that every fetch is an HTTP CLIENT span.

    One span per fetch (redirect hops included), under the research step's
    span; a refusal, timeout or HTTP error marks it failed.
    """

    def __init__(self, inner: PageFetcher, telemetry: Telemetry | None = None) -> None:
        self.inner = inner
        self.telemetry = telemetry

    async def fetch(self, url_or_domain: str) -> WebPage:
        with http_span("GET", normalize_url(url_or_domain), telemetry=self.telemetry) as span:
            page = await self.inner.fetch(url_or_domain)
            span.response(page.status)
            return page
