"""Message Batches: each step's model requests sent together, at half price, answered later.

In batch mode (``run --llm anthropic --batch-api``) a step's Messages request
is not sent on its own. :class:`MessageBatcher` queues it with the requests of
other companies and sends the queue as one Message Batch when it holds
:attr:`BatchSettings.max_requests` requests or :attr:`BatchSettings.window`
seconds after its first request, whichever comes first. Each caller then waits
until its batch has ended (``processing_status == "ended"``, polled every
:attr:`BatchSettings.poll_interval` seconds) and gets its own result by
``custom_id``: the message, or the error its result stands for.

Durability: the batch id and each request's ``custom_id`` (workflow, step,
attempt and call) are written to a :class:`BatchLedger` before anyone waits,
with a digest of the request. A caller first asks the ledger for a pending
request of its workflow and step with the same digest: after a kill, the
rerun's steps find the requests the killed run sent and wait for their batch
instead of paying for them again. The window that remains: a kill between the
API accepting a batch and the ledger's commit (one round trip) sends those
requests again on the rerun.

There is no background task: whoever waits longest for a flush does it, and
one waiter of a batch polls it while the others wait for the answer, so a
cancelled caller (a stop, a timeout) hands its job to the next one. The
adaptive limiter does not pace batch requests: the API queues them and counts
them against its batch limits (requests per batch, requests in the queue), not
against requests per minute. A batch create refused with 429 fails its steps
as ``rate_limited`` and they are retried with the orchestrator's backoff.
"""

from __future__ import annotations

import logging
import math
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import anthropic
import anyio
from anthropic.types import Message as ApiMessage
from anthropic.types.message_create_params import MessageCreateParamsNonStreaming
from anthropic.types.messages import MessageBatchResult
from anthropic.types.messages.batch_create_params import Request

from ..errors import (
    AuthenticationError,
    BadRequestError,
    BatchCanceledError,
    BatchExpiredError,
    OverloadedError,
    ProviderError,
    RateLimitedError,
    ServerError,
)
from ..step_context import current_step
from .anthropic_errors import provider_error, scrub
from .batch_ledger import BatchLedger, MemoryLedger, RequestKey, StoredRequest, request_digest

__all__ = [
    "BATCH_POLL_ENV",
    "BATCH_WINDOW_ENV",
    "BatchLedger",
    "BatchSettings",
    "MemoryLedger",
    "MessageBatcher",
    "RequestKey",
    "StoredRequest",
    "request_digest",
]

logger = logging.getLogger(__name__)

BATCH_WINDOW_ENV = "SALESBUS_BATCH_WINDOW_S"
BATCH_POLL_ENV = "SALESBUS_BATCH_POLL_S"

_WINDOW_S = 5.0
_POLL_S = 30.0
_RESULTS_TIMEOUT_S = 600.0
"""Reading a large batch's results file is one long download."""


@dataclass(frozen=True, slots=True)
class BatchSettings:
    """When a queue of requests is sent, and how often a sent batch is asked whether it ended.

    ``max_requests`` stays well under the API's 100,000 requests (and 256 MB)
    per batch; ``window`` lets a step's requests from every company in flight
    gather into one batch; ``poll_interval`` is short beside the hour a batch
    usually takes and long beside a retrieve call.
    """

    max_requests: int = 10_000
    window: float = _WINDOW_S
    poll_interval: float = _POLL_S

    def __post_init__(self) -> None:
        if not 1 <= self.max_requests <= 100_000:
            raise ValueError(f"batch max_requests must be 1 to 100000, not {self.max_requests}")
        for name in ("window", "poll_interval"):
            value = getattr(self, name)
            if not math.isfinite(value) or not 0 < value <= 3_600:
                raise ValueError(f"batch {name} must be above 0 and at most 3600 s, not {value}")

    @classmethod
    def from_env(cls) -> BatchSettings:
        """Defaults, with ``$SALESBUS_BATCH_WINDOW_S`` and ``$SALESBUS_BATCH_POLL_S`` (seconds).

        :raises ValueError: a value that is not a number in range, naming the variable.
        """
        values: dict[str, float] = {}
        for name, variable in (("window", BATCH_WINDOW_ENV), ("poll_interval", BATCH_POLL_ENV)):
            raw = os.environ.get(variable)
            if raw:
                try:
                    values[name] = float(raw)
                except ValueError:
                    problem = f"{variable} must be a number of seconds, not {raw!r}"
                    raise ValueError(problem) from None
        try:
            return cls(
                window=values.get("window", _WINDOW_S),
                poll_interval=values.get("poll_interval", _POLL_S),
            )
        except ValueError as exc:
            raise ValueError(f"{BATCH_WINDOW_ENV}/{BATCH_POLL_ENV}: {exc}") from None


@dataclass(eq=False, slots=True)
class _Queued:
    key: RequestKey
    params: MessageCreateParamsNonStreaming
    sent: StoredRequest | None = None
    error: ProviderError | None = None


@dataclass(eq=False, slots=True)
class _SentBatch:
    id: str
    lock: anyio.Lock = field(default_factory=anyio.Lock)
    results: dict[str, MessageBatchResult] | None = None
    error: ProviderError | None = None
    waiters: int = 0


class MessageBatcher:
    """Sends Messages requests as Message Batches and hands each caller its own result.

    :param client: the SDK client (its own retries off: the orchestrator retries steps).
    :param ledger: where sent requests are recorded before anyone waits for them.
    :param secret: the API key, scrubbed from every error message.
    """

    def __init__(
        self,
        client: anthropic.AsyncAnthropic,
        ledger: BatchLedger,
        settings: BatchSettings | None = None,
        *,
        secret: str | None = None,
    ) -> None:
        self._client = client
        self.ledger = ledger
        self.settings = settings if settings is not None else BatchSettings()
        self._secret = secret
        self._queue: list[_Queued] = []
        self._window_ends = 0.0
        self._full = anyio.Event()
        self._flush_lock = anyio.Lock()
        self._batches: dict[str, _SentBatch] = {}
        self.batches_created = 0

    async def create(self, params: MessageCreateParamsNonStreaming) -> ApiMessage:
        """The answer to ``params``, through a batch (one sent earlier for it, if any).

        :raises ProviderError: the classified error of the request's result, of the
            batch (expired, cancelled), or of the calls that send and read batches.
        """
        key = self._key(params)
        sent = await self.ledger.find_pending(key.workflow_id, key.step, key.digest)
        if sent is None:
            sent = await self._send(_Queued(key, params))
        else:
            logger.info("resuming %s: waiting for batch %s", sent.custom_id, sent.batch_id)
        return await self._answer(sent)

    def _key(self, params: MessageCreateParamsNonStreaming) -> RequestKey:
        step = current_step()
        digest = request_digest(params)
        if step is None:
            return RequestKey(f"call-{uuid.uuid4().hex[:12]}", "call", 1, 1, digest)
        return RequestKey(step.workflow_id, step.step, step.attempt, step.next_call(), digest)

    # -- sending: whoever waits longest flushes the queue ------------------------------

    async def _send(self, item: _Queued) -> StoredRequest:
        if not self._queue:
            self._window_ends = anyio.current_time() + self.settings.window
        self._queue.append(item)
        if len(self._queue) >= self.settings.max_requests:
            self._full.set()
        try:
            while item.sent is None and item.error is None:
                async with self._flush_lock:
                    if item.sent is None and item.error is None:
                        with anyio.move_on_after(self._window_ends - anyio.current_time()):
                            await self._full.wait()
                        with anyio.CancelScope(shield=True):
                            await self._flush()
        finally:
            if item.sent is None and item in self._queue:
                self._queue.remove(item)
        if item.error is not None:
            raise item.error
        assert item.sent is not None
        return item.sent

    async def _flush(self) -> None:
        """Send the oldest queued requests as one batch and record it before anyone waits."""
        taken = self._queue[: self.settings.max_requests]
        del self._queue[: len(taken)]
        if self._queue:
            self._window_ends = anyio.current_time()  # the rest goes out next, at once
        else:
            self._full = anyio.Event()
        if not taken:
            return
        requests: list[Request] = [
            {"custom_id": queued.key.custom_id, "params": queued.params} for queued in taken
        ]
        try:
            batch = await self._client.messages.batches.create(requests=requests)
        except anthropic.AnthropicError as exc:
            self._fail(taken, provider_error(exc, secret=self._secret))
            return
        try:
            await self.ledger.record_sent(batch.id, [q.key for q in taken])
        except Exception as exc:  # unrecorded, it could not be found after a kill: nobody waits
            self._fail(taken, ServerError(f"message batch {batch.id} not recorded: {exc}"))
            return
        self.batches_created += 1
        logger.info("sent message batch %s with %d request(s)", batch.id, len(taken))
        for queued in taken:
            queued.sent = StoredRequest(batch.id, queued.key.custom_id)

    @staticmethod
    def _fail(taken: list[_Queued], error: ProviderError) -> None:
        for queued in taken:
            queued.error = error

    # -- waiting: one waiter polls each batch ------------------------------------------

    async def _answer(self, sent: StoredRequest) -> ApiMessage:
        batch = self._batches.get(sent.batch_id)
        if batch is None:
            batch = self._batches[sent.batch_id] = _SentBatch(sent.batch_id)
        batch.waiters += 1
        try:
            while batch.results is None and batch.error is None:
                async with batch.lock:
                    if batch.results is None and batch.error is None:
                        await self._poll(batch)
            result = batch.results.pop(sent.custom_id, None) if batch.results is not None else None
        finally:
            batch.waiters -= 1
            if batch.waiters == 0:
                self._batches.pop(sent.batch_id, None)
        if batch.error is not None:
            await self._settled(sent, "failed", str(batch.error))
            raise batch.error
        if result is not None and result.type == "succeeded":
            await self._settled(sent, "answered")
            return result.message
        error = _result_error(sent, result)
        await self._settled(sent, "failed", str(error))
        raise error

    async def _poll(self, batch: _SentBatch) -> None:
        """Ask once whether ``batch`` ended; read its results if so, else wait a poll interval."""
        try:
            state = await self._client.messages.batches.retrieve(batch.id)
            if state.processing_status == "ended":
                decoder = await self._client.with_options(
                    timeout=_RESULTS_TIMEOUT_S
                ).messages.batches.results(batch.id)
                batch.results = {line.custom_id: line.result async for line in decoder}
                logger.info("message batch %s ended: %s", batch.id, state.request_counts)
                return
        except anthropic.AnthropicError as exc:
            error = provider_error(exc, secret=self._secret)
            if not error.retryable:
                batch.error = error  # the batch is gone or not ours: its requests fail
                return
            logger.warning("polling message batch %s failed, trying again: %s", batch.id, error)
        await anyio.sleep(self.settings.poll_interval)

    async def _settled(
        self, sent: StoredRequest, outcome: Literal["answered", "failed"], reason: str | None = None
    ) -> None:
        """Record the outcome; a lost record only means a rerun reads the same result again."""
        try:
            with anyio.CancelScope(shield=True):
                await self.ledger.record_settled(sent.batch_id, sent.custom_id, outcome, reason)
        except Exception as exc:
            logger.warning("could not record %s of %s: %s", outcome, sent.custom_id, exc)


_ERROR_TYPES: Mapping[str, type[ProviderError]] = {
    "invalid_request_error": BadRequestError,
    "authentication_error": AuthenticationError,
    "permission_error": AuthenticationError,
    "billing_error": AuthenticationError,
    "not_found_error": BadRequestError,
    "rate_limit_error": RateLimitedError,
    "overloaded_error": OverloadedError,
}
"""The error an errored result stands for; other types (``api_error``…) are server errors."""


def _result_error(sent: StoredRequest, result: MessageBatchResult | None) -> ProviderError:
    where = f"batch {sent.batch_id} request {sent.custom_id}"
    if result is None:
        return ServerError(f"anthropic: {where} ended without a result")
    if result.type == "expired":
        return BatchExpiredError(f"anthropic: {where} expired before it was processed")
    if result.type == "canceled":
        return BatchCanceledError(f"anthropic: {where} was cancelled")
    assert result.type == "errored"
    error = result.error.error
    kind = _ERROR_TYPES.get(error.type, ServerError)
    return kind(scrub(f"anthropic: {where} errored: {error.type}: {error.message}"))
