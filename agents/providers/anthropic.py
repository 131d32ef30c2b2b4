"""Claude behind the :class:`~salesbus.agents.providers.base.Provider` protocol.

Each step is one Messages API call through the official SDK whose answer is a
JSON object: ``output_config.format`` (structured outputs) constrains it to the
JSON schema of a small reply model, and pydantic validates it together with what
a schema cannot say (cited fact ids exist, a sequence step points at a real
message). An answer that fails gets one repair attempt that lists the problems;
a second failure is :class:`InvalidOutputError`.

Choices worth knowing:

- JSON outputs, not a forced tool. Claude Sonnet 5.5, Opus 5.5 and Fable 5.1
  answer a forced ``tool_choice`` with HTTP 400, while ``output_config.format``
  is generally available on every model in the price table.
- No retries here. The client has ``max_retries=0``; the orchestrator owns
  retries and backoff. Every call goes through an :class:`AdaptiveLimiter`,
  which reads the rate-limit headers of every answer (and the ``retry-after``
  of every 429) to pace all calls of the account. Errors are classified into
  :mod:`salesbus.agents.errors` types, never with the key or a contact email in
  their message.
- ``open_telemetry=False``: our observability layer wraps each call in its own
  span, so the SDK's span would be a duplicate.
- Batch mode (``batch``): every call goes through a :class:`MessageBatcher`
  instead, at the batch price, outside the limiter (see ``anthropic_batch``).
- Prompt caching: one system prefix, identical for every company and step and at
  least the model's minimum cacheable length, ends with ``cache_control``.
- Scores from rules: the model extracts the attributes the ICP is scored on,
  with fact ids; :func:`~salesbus.agents.scoring.score_icp` turns them into the
  score, tier and qualification, the same code as the offline engine.
- Prompts, replies and errors live in ``anthropic_prompts``, ``anthropic_replies``
  and ``anthropic_errors``; this module is the call and the mapping into domain objects.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

import anthropic
from anthropic.types import Message as ApiMessage
from anthropic.types import MessageParam, OutputConfigParam, TextBlockParam
from anthropic.types.message_create_params import MessageCreateParamsNonStreaming

from salesbus.observability.secrets import register_secret

from ..campaign import Campaign
from ..errors import AuthenticationError, InvalidOutputError
from ..facts import FactBook, facts_from_company
from ..models import Analysis, Company, CompanyProfile, CompanySize, FactSource
from ..scoring import score_icp
from ..usage import Usage, record_usage
from ..website import WebPage
from .anthropic_batch import BatchLedger, BatchSettings, MessageBatcher
from .anthropic_errors import provider_error, retry_after_seconds, scrub
from .anthropic_prompts import analysis_prompt, draft_prompt, research_prompt, system_blocks
from .anthropic_replies import (
    AnalysisReply,
    DraftReply,
    NewFact,
    Reply,
    ReplyT,
    ResearchReply,
    analysis_problems,
    draft_problems,
    json_schema,
    read_reply,
    repair_turns,
    reply_text,
    research_problems,
)
from .base import Draft
from .limits import AdaptiveLimiter
from .prices import PriceTable, default_prices

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "DEFAULT_MODEL",
    "DEFAULT_TIMEOUT_S",
    "MODEL_ENV",
    "AnalysisReply",
    "AnthropicProvider",
    "DraftReply",
    "NewFact",
    "ResearchReply",
    "provider_error",
    "retry_after_seconds",
]

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "claude-haiku-5-5"
MODEL_ENV = "SALESBUS_MODEL"
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MAX_TOKENS = 8192
"""Room for the JSON answer and, on models that think by default, the thinking before it."""


# -- the provider --------------------------------------------------------------------


class AnthropicProvider:
    """Research, analysis and personalization by Claude, one Messages call per step.

    :param model: model id; default ``$SALESBUS_MODEL``, else ``claude-haiku-5-5``.
    :param api_key: default ``$ANTHROPIC_API_KEY``; required unless ``client`` is given.
    :param base_url: API root; default ``$ANTHROPIC_BASE_URL``, else Anthropic's.
    :param timeout: seconds one call may take before :class:`ProviderTimeoutError`;
        default 60, or an injected client's own.
    :param max_tokens: output budget of one call.
    :param client: an ``AsyncAnthropic`` to use instead of building one; it is used
        through a copy with ``max_retries=0`` (and ``timeout``, when given), and
        :meth:`aclose` leaves it open because its owner closes it.
    :param prices: the price table costs come from; default :func:`default_prices`.
    :param limiter: paces every call and learns from its rate-limit headers; share
        one across providers that use the same account. Default: a limiter of its own.
    :param batch: send every call through Message Batches, recording them in this
        ledger (the store) so a rerun finds them; ``None``: one Messages call each.
    :param batch_settings: batch size, flush window and poll interval (with ``batch``).
    :raises AuthenticationError: no client and no API key.
    """

    name = "anthropic"

    def __init__(
        self,
        *,
        model: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        client: anthropic.AsyncAnthropic | None = None,
        prices: PriceTable | None = None,
        limiter: AdaptiveLimiter | None = None,
        batch: BatchLedger | None = None,
        batch_settings: BatchSettings | None = None,
    ) -> None:
        self.model: str = model or os.environ.get(MODEL_ENV) or DEFAULT_MODEL
        self.max_tokens = max_tokens
        self._prices = prices if prices is not None else default_prices()
        self.limiter = limiter if limiter is not None else AdaptiveLimiter()
        self._owns_client = client is None
        if client is None:
            self.timeout: float | None = DEFAULT_TIMEOUT_S if timeout is None else timeout
            client = _new_client(api_key, base_url, self.timeout)
        elif timeout is None:
            self.timeout = None
            client = client.with_options(max_retries=0)
        else:
            self.timeout = timeout
            client = client.with_options(max_retries=0, timeout=timeout)
        self._client = client
        self._secret = client.api_key or client.auth_token
        register_secret(self._secret)
        self.batcher = (
            MessageBatcher(client, batch, batch_settings, secret=self._secret)
            if batch is not None
            else None
        )

    @property
    def generated_by(self) -> str:
        """What outputs record as their author: provider and model."""
        return f"{self.name}:{self.model}"

    async def research(
        self, company: Company, page: WebPage | None, campaign: Campaign
    ) -> CompanyProfile:
        book = facts_from_company(company)
        reply = await self._ask(
            campaign,
            research_prompt(book.facts, page),
            ResearchReply,
            lambda reply: research_problems(reply, page),
        )
        return self._profile(company, page, book, reply)

    async def analyze(self, profile: CompanyProfile, campaign: Campaign) -> Analysis:
        known = profile.fact_ids()
        reply = await self._ask(
            campaign,
            analysis_prompt(profile),
            AnalysisReply,
            lambda reply: analysis_problems(reply, known),
        )
        return self._analysis(reply, campaign)

    async def personalize(
        self,
        profile: CompanyProfile,
        analysis: Analysis,
        campaign: Campaign,
        revision_notes: list[str] | None = None,
    ) -> Draft:
        known = profile.fact_ids()
        unverified = {fact.id for fact in profile.facts if fact.source.kind == "model"}
        reply = await self._ask(
            campaign,
            draft_prompt(profile, analysis, revision_notes or []),
            DraftReply,
            lambda reply: draft_problems(reply, known, unverified, campaign.seller.channels),
        )
        return Draft(
            strategy=reply.strategy,
            primary_contact=profile.primary_contact,
            messages=reply.messages,
            sequence=reply.sequence,
            generated_by=self.generated_by,
        )

    async def aclose(self) -> None:
        """Close the HTTP connections of the client this provider built."""
        if self._owns_client:
            await self._client.close()

    # -- one step: a call, and at most one repair ------------------------------------

    async def _ask(
        self,
        campaign: Campaign,
        prompt: str,
        reply_type: type[ReplyT],
        problems_of: Callable[[ReplyT], list[str]],
    ) -> ReplyT:
        system = system_blocks(campaign, self.model)
        messages: list[MessageParam] = [{"role": "user", "content": prompt}]
        response = await self._create(system, messages, reply_type)
        reply, problems = read_reply(response, reply_type, problems_of)
        if reply is not None:
            return reply
        logger.info(
            "%s answer for %s failed %d check(s); asking once for a repair",
            self.model,
            reply_type.__name__,
            len(problems),
        )
        messages += repair_turns(reply_text(response), problems)
        response = await self._create(system, messages, reply_type)
        reply, problems = read_reply(response, reply_type, problems_of)
        if reply is not None:
            return reply
        summary = "; ".join(problems[:3])
        raise InvalidOutputError(
            scrub(f"anthropic: {reply_type.__name__} still invalid after a repair: {summary}")
        )

    async def _create(
        self, system: list[TextBlockParam], messages: list[MessageParam], reply_type: type[Reply]
    ) -> ApiMessage:
        output_config: OutputConfigParam = {
            "format": {"type": "json_schema", "schema": json_schema(reply_type)}
        }
        if self.batcher is not None:
            params: MessageCreateParamsNonStreaming = {
                "model": self.model,
                "max_tokens": self.max_tokens,
                "system": system,
                "messages": messages,
                "output_config": output_config,
            }
            response = await self.batcher.create(params)
            self._record_usage(response, batch=True)
            return response
        async with await self.limiter.call():
            started = time.monotonic()
            try:
                raw = await self._client.messages.with_raw_response.create(
                    model=self.model,
                    max_tokens=self.max_tokens,
                    system=system,
                    messages=messages,
                    output_config=output_config,
                )
                response = await raw.parse()
            except anthropic.AnthropicError as exc:
                if isinstance(exc, anthropic.APIStatusError):
                    self._learn_from_refusal(exc)
                # Not chained: the SDK error holds the request, Authorization header included,
                # and the raw server body; everything useful is in the new message.
                raise provider_error(exc, secret=self._secret, timeout=self.timeout) from None
            usage = self._record_usage(response)
            self.limiter.observe(
                raw.headers,
                latency=time.monotonic() - started,
                input_tokens=usage.input_tokens + usage.cache_write_tokens,
                output_tokens=usage.output_tokens,
            )
        return response

    def _learn_from_refusal(self, exc: anthropic.APIStatusError) -> None:
        if exc.status_code == 429:
            self.limiter.throttled(exc.response.headers, retry_after_seconds(exc.response.headers))
        else:
            self.limiter.observe(exc.response.headers)

    def _record_usage(self, response: ApiMessage, *, batch: bool = False) -> Usage:
        tokens = response.usage
        usage = Usage(
            calls=1,
            input_tokens=tokens.input_tokens,
            output_tokens=tokens.output_tokens,
            cache_read_tokens=tokens.cache_read_input_tokens or 0,
            cache_write_tokens=tokens.cache_creation_input_tokens or 0,
        )
        price = self._prices.batch_cost_usd if batch else self._prices.cost_usd
        usage = usage.model_copy(update={"cost_usd": price(self.model, usage)})
        record_usage(usage)
        return usage

    # -- replies into domain objects -------------------------------------------------

    def _profile(
        self, company: Company, page: WebPage | None, book: FactBook, reply: ResearchReply
    ) -> CompanyProfile:
        for fact in reply.facts:
            book.add(fact.topic, fact.text, self._source(fact, page))
        return CompanyProfile(
            company=company,
            industry=company.industry or reply.industry,
            size=CompanySize.from_employees(company.employees)
            if company.employees is not None
            else None,
            employees=company.employees,
            location=company.country or reply.location,
            website=company.website or (page.final_url if page else None) or company.domain,
            description=company.description or reply.description,
            recent_news=reply.recent_news,
            key_contacts=[company.contact] if company.contact else [],
            primary_contact=company.contact,
            technologies=reply.technologies,
            facts=book.facts,
            generated_by=self.generated_by,
        )

    def _source(self, fact: NewFact, page: WebPage | None) -> FactSource:
        if fact.source == "website" and page is not None:
            return FactSource(kind="website", url=page.final_url)
        return FactSource(kind="model", detail=self.model)

    def _analysis(self, reply: AnalysisReply, campaign: Campaign) -> Analysis:
        """The rules score the model's attributes; the model's judgement goes around it."""
        scored = score_icp(reply.attributes, campaign.icp)
        judgement = reply.model_dump(exclude={"attributes"})
        return Analysis(
            **judgement,
            icp_score=scored.score,
            score_reasons=scored.reasons,
            tier=scored.tier,
            qualified=scored.qualified,
            disqualify_reasons=scored.disqualify_reasons,
            generated_by=self.generated_by,
        )


def _new_client(
    api_key: str | None, base_url: str | None, timeout: float
) -> anthropic.AsyncAnthropic:
    api_key = api_key or os.environ.get("ANTHROPIC_API_KEY")
    if not api_key:
        raise AuthenticationError("anthropic: no API key; set ANTHROPIC_API_KEY")
    return anthropic.AsyncAnthropic(
        api_key=api_key,
        base_url=base_url or os.environ.get("ANTHROPIC_BASE_URL") or None,
        timeout=timeout,
        max_retries=0,
        open_telemetry=False,
    )
