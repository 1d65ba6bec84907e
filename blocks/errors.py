"""One exception hierarchy for every external system.

Like httpx separates transport errors from status errors, we separate what a retry can fix
(`TransientApiError`: timeouts, resets, 429, 5xx, a garbled answer) from what it cannot
(`PermanentApiError`: bad credentials, missing permission, validation, unknown record).
Every error names the `system` it came from ("magnusbilling", "ixc", "discord", ...), so a
run report can say where a failure happened without parsing messages.

Messages never contain secrets: clients build them from status codes and short, sanitised
excerpts of the answer (`excerpt`), never from request headers or bodies.
"""

from __future__ import annotations

import re
from typing import ClassVar

_TAGS = re.compile(r"<(script|style)[^>]*>.*?</\1>|<[^>]+>", re.DOTALL | re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_SENSITIVE_VALUE = re.compile(
    r'("?(?:password|secret|token|key|card_number|number|cvv|cvc)"?\s*[:=]\s*)("[^"]*"?|[^\s,&}]+)',
    re.IGNORECASE,
)


def excerpt(text: str, limit: int = 160) -> str:
    """A short, single-line, tag-free view of an answer body, safe to put in a message.

    Values of password/secret/token/card fields are masked, in case a half-broken answer
    carries a customer record.
    """
    flat = _SPACES.sub(" ", _TAGS.sub(" ", text)).strip()
    flat = _SENSITIVE_VALUE.sub(r"\1***", flat)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class ApiError(Exception):
    """Something went wrong talking to an external system."""

    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, system: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.system = system
        self.status_code = status_code

    def __str__(self) -> str:
        return f"{self.system}: {self.message}"


class TransientApiError(ApiError):
    """A retry may succeed: the system was slow, overloaded or answered garbage."""

    retryable = True


class PermanentApiError(ApiError):
    """A retry will fail the same way until someone fixes data or configuration."""


class ApiTimeout(TransientApiError):
    """No answer in time, or the connection broke."""


class RateLimited(TransientApiError):
    """HTTP 429; `retry_after` is how long the system asked us to wait (seconds)."""

    def __init__(self, message: str, *, system: str, retry_after: float | None) -> None:
        super().__init__(message, system=system, status_code=429)
        self.retry_after = retry_after


class ServerError(TransientApiError):
    """HTTP 5xx."""


class MalformedResponse(TransientApiError):
    """The answer could not be understood (HTML page, truncated JSON, missing fields).

    Transient because such answers usually come from an overloaded proxy or a half-written
    response; every caller re-reads before it writes, so retrying is safe.
    """


class AuthenticationError(PermanentApiError):
    """Credentials refused (bad key, signature, token, IP not allowed)."""


class PermissionDenied(PermanentApiError):
    """Credentials accepted but not allowed to do this."""


class ValidationFailed(PermanentApiError):
    """The system rejected the values we sent."""


class NotFound(PermanentApiError):
    """The record does not exist."""


def is_transient(exc: BaseException) -> bool:
    """True when retrying the failed call may help."""
    return isinstance(exc, ApiError) and exc.retryable
