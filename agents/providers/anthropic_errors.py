"""Claude's errors as :mod:`salesbus.agents.errors` types, with messages safe to log.

The SDK's exceptions hold the request (Authorization header included) and the raw
server body; what is useful of them is copied into a new, scrubbed message and the
original is not chained.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import anthropic

from ..errors import (
    AuthenticationError,
    BadRequestError,
    OverloadedError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitedError,
    ServerError,
)

__all__ = ["provider_error", "retry_after_seconds", "scrub"]

_MAX_SERVER_MESSAGE = 300
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def scrub(text: str, secret: str | None = None) -> str:
    """``text`` fit for an exception or a log: no key, no email address, bounded length."""
    if secret:
        text = text.replace(secret, "[redacted]")
    text = _EMAIL.sub("[email]", text)
    return text if len(text) <= _MAX_SERVER_MESSAGE else text[:_MAX_SERVER_MESSAGE] + "…"


def retry_after_seconds(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """How long the server asked us to wait: ``retry-after-ms``, else ``retry-after``
    as seconds or as an HTTP date; ``None`` when it did not say.
    """
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            return max(float(milliseconds) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


def provider_error(
    exc: anthropic.AnthropicError, *, secret: str | None = None, timeout: float | None = None
) -> ProviderError:
    """The :mod:`salesbus.agents.errors` type of an SDK error, with a message safe to log."""
    if isinstance(exc, anthropic.APITimeoutError):
        within = f" within {timeout:g} s" if timeout is not None else ""
        return ProviderTimeoutError(f"anthropic: no response{within}")
    if isinstance(exc, anthropic.APIConnectionError):
        cause = f": {type(exc.__cause__).__name__}: {exc.__cause__}" if exc.__cause__ else ""
        return ProviderConnectionError(
            scrub(f"anthropic: cannot connect to {exc.request.url.host}{cause}", secret)
        )
    if isinstance(exc, anthropic.APIStatusError):
        return _status_error(exc, secret)
    return ProviderError(scrub(f"anthropic: {type(exc).__name__}: {exc}", secret))


def _status_error(exc: anthropic.APIStatusError, secret: str | None) -> ProviderError:
    status = exc.status_code
    detail = f": {exc.api_message}" if exc.api_message else ""
    request_id = f" (request-id {exc.request_id})" if exc.request_id else ""
    message = scrub(f"anthropic: HTTP {status} {exc.type or 'error'}{detail}", secret)
    message += scrub(request_id, secret)
    retry_after = retry_after_seconds(exc.response.headers)
    error_type: type[ProviderError]
    if status == 429:
        error_type = RateLimitedError
    elif status == 529:
        error_type = OverloadedError
    elif status >= 500:
        error_type = ServerError
    elif status in (401, 403):
        error_type = AuthenticationError
    elif status == 408:
        error_type = ProviderTimeoutError
    else:
        error_type = BadRequestError
    return error_type(message, retry_after=retry_after if error_type.retryable else None)
