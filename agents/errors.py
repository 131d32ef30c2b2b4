"""Errors of the agents and providers, classified so the orchestrator knows what to do.

Every error that can end a step attempt is a :class:`StepError` carrying a
``kind`` (a short stable name for metrics and traces), whether retrying can
help, and how long the server asked us to wait.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "BatchCanceledError",
    "BatchExpiredError",
    "CampaignError",
    "InvalidOutputError",
    "LeadFileError",
    "OverloadedError",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderTimeoutError",
    "RateLimitedError",
    "ServerError",
    "StepError",
    "WebsiteError",
]


class StepError(Exception):
    """A step attempt failed; ``retryable`` says whether another attempt may succeed."""

    kind: str = "step_error"
    retryable: bool = False

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ProviderError(StepError):
    """A language-model call failed."""

    kind = "provider_error"


class RateLimitedError(ProviderError):
    kind = "rate_limited"
    retryable = True


class OverloadedError(ProviderError):
    kind = "overloaded"
    retryable = True


class ServerError(ProviderError):
    kind = "server_error"
    retryable = True


class ProviderTimeoutError(ProviderError):
    kind = "timeout"
    retryable = True


class ProviderConnectionError(ProviderError):
    kind = "connection"
    retryable = True


class BadRequestError(ProviderError):
    kind = "bad_request"


class AuthenticationError(ProviderError):
    kind = "authentication"


class BatchExpiredError(ProviderError):
    """A Message Batch ended before processing this request (24 h passed): ask again."""

    kind = "batch_expired"
    retryable = True


class BatchCanceledError(ProviderError):
    """The Message Batch holding this request was cancelled before it was processed."""

    kind = "batch_canceled"
    retryable = True


class InvalidOutputError(ProviderError):
    """The model's output did not validate, even after one repair attempt."""

    kind = "invalid_output"


class WebsiteError(Exception):
    """A company website could not be fetched or read; research goes on without it."""

    kind: str = "website_error"

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class CampaignError(Exception):
    """The campaign file is missing, unreadable or invalid."""


class LeadFileError(Exception):
    """The lead file as a whole cannot be read (bad rows are reported, not raised)."""


class KnowledgeError(CampaignError):
    """A knowledge file is unreadable or invalid; the message names file, entry and field."""
