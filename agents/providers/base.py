"""The one small protocol every language-model provider implements.

A provider does the thinking of each agent — turn a company and its website
into a sourced profile, score and analyse it, draft outreach — and nothing
else: fetching, quality checks, retries, tracing and storage live outside it.
The offline rules engine and Claude are interchangeable behind it.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from ..campaign import Campaign
from ..models import (
    Analysis,
    Company,
    CompanyProfile,
    Contact,
    Message,
    PersonalizationStrategy,
    SequenceStep,
)
from ..website import WebPage

__all__ = ["Draft", "Provider", "ProviderWrapper"]


class Draft(BaseModel):
    """Outreach as a provider writes it, before the quality checks judge it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    strategy: PersonalizationStrategy
    primary_contact: Contact | None = None
    messages: list[Message] = Field(min_length=1)
    sequence: list[SequenceStep]
    generated_by: str


@runtime_checkable
class Provider(Protocol):
    """What research, analysis and personalization ask of a language model.

    Implementations record token usage with :func:`salesbus.agents.usage.record_usage`
    and raise :class:`salesbus.agents.errors.ProviderError` subclasses, classified
    as retryable or permanent; they never retry on their own.
    """

    @property
    def name(self) -> str:
        """``offline`` or ``anthropic``: which implementation this is."""
        ...

    @property
    def model(self) -> str:
        """The model (or rules version) that produced an output, stored with it."""
        ...

    async def research(
        self, company: Company, page: WebPage | None, campaign: Campaign
    ) -> CompanyProfile:
        """A profile whose every fact has an id and a source (input row, URL or model)."""
        ...

    async def analyze(self, profile: CompanyProfile, campaign: Campaign) -> Analysis:
        """ICP score with reasons, tier, and pain points and opportunities citing fact ids."""
        ...

    async def personalize(
        self,
        profile: CompanyProfile,
        analysis: Analysis,
        campaign: Campaign,
        revision_notes: list[str] | None = None,
    ) -> Draft:
        """Messages per channel grounded in cited facts.

        ``revision_notes`` are the failed quality checks of a previous draft,
        when the agent asks for one revision.
        """
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


class ProviderWrapper:
    """Base of providers that wrap another (limits, simulation, tracing).

    Name, model and closing pass through, so a wrapper never shows in stored
    outputs or traces; subclasses set ``inner`` and override the calls they
    change.
    """

    inner: Provider

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def model(self) -> str:
        return self.inner.model

    async def aclose(self) -> None:
        await self.inner.aclose()
