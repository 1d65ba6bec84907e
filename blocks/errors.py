"""One exception hierarchy for every external system.

Like httpx separates transport errors from status errors, we separate what a retry can fix
(`TransientApiError`: timeouts, refused or broken connections, 429, 5xx, a garbled answer)
from what it cannot (`PermanentApiError`: bad credentials, missing permission, validation,
unknown record).
Every error names the `system` it came from ("magnusbilling", "ixc", "discord", ...), so a
run report can say where a failure happened without parsing messages.

Messages never contain secrets: clients build them from status codes and short, sanitised
excerpts of the answer (`excerpt`), never from request headers or bodies.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import quote

from blocks.language import in_language
from blocks.problems import PROBLEMS

_TAGS = re.compile(r"<(script|style)[^>]*>.*?</\1>|<[^>]+>", re.DOTALL | re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_MASK = "***"
# A slash as it may appear in an echoed URL: plain, JSON-escaped (PHP) or percent-encoded.
_SLASH = r"(?:\\?/|%2F)"
_SECRET_FORMS: tuple[tuple[re.Pattern[str], str], ...] = (
    # A Discord webhook URL's last part is its token.
    (
        re.compile(rf"(webhooks{_SLASH}[^/\s\\%]+{_SLASH})[^/?#\s\\%\"'&<>]+", re.IGNORECASE),
        rf"\g<1>{_MASK}",
    ),
    # An echoed Authorization header, whatever its scheme (Basic carries the IXC token and the
    # Mundipagg key in base64).
    (
        re.compile(
            r'(authorization"?\s*[:=]\s*"?)(?:(?:basic|bearer|token|digest)\s+)?[^\s",;&}]+',
            re.IGNORECASE,
        ),
        rf"\g<1>{_MASK}",
    ),
    (re.compile(r"\b(basic|bearer)(\s+)[A-Za-z0-9+/=._~-]{8,}", re.IGNORECASE), rf"\1\2{_MASK}"),
    # Mundipagg / Pagar.me keys: sk_ (secret), pk_ (public), ak_ / ek_ (older API keys).
    (re.compile(r"(?<![A-Za-z0-9])(?:sk|pk|ak|ek)_[A-Za-z0-9_]{6,}"), _MASK),
    # key=value / "key": "value" / Key: value for names that hold secrets or card data.
    (
        re.compile(
            r'("?(?:password|passwd|senha|secret|token|key|sign|signature|hash|auth'
            r'|card_number|number|cvv|cvc)"?\s*[:=]\s*)("[^"]*"?|[^\s,&}]+)',
            re.IGNORECASE,
        ),
        rf"\1{_MASK}",
    ),
)
_MIN_SECRET_LENGTH = 8  # shorter values (an IXC token's numeric id) are not secret on their own
_known_secrets: tuple[str, ...] = ()
_registering = threading.Lock()


def register_secrets(values: Iterable[str]) -> None:
    """Mask these exact values (and their encoded forms) in every excerpt and error message.

    Each client registers the secrets it was built with, so an answer that echoes one in a
    form no pattern recognises (a raw IXC token, a bare base64 string) is still masked.
    """
    global _known_secrets
    forms: set[str] = set()
    for value in values:
        if len(value) < _MIN_SECRET_LENGTH:
            continue
        forms |= {value, quote(value, safe=""), value.replace("/", "\\/")}
    with _registering:
        _known_secrets = tuple(
            sorted(set(_known_secrets) | forms, key=len, reverse=True)  # longest first
        )


def basic_auth_secrets(user: str, password: str) -> list[str]:
    """The forms a Basic-auth credential takes on the wire: the pair and its base64."""
    pair = f"{user}:{password}"
    return [pair, user, password, base64.b64encode(pair.encode()).decode()]


def redact(text: str) -> str:
    """`text` with every known secret and every recognisable secret form masked."""
    for secret in _known_secrets:
        if secret in text:
            text = text.replace(secret, _MASK)
    for pattern, replacement in _SECRET_FORMS:
        text = pattern.sub(replacement, text)
    return text


def excerpt(text: str, limit: int = 160) -> str:
    """A short, single-line, tag-free view of an answer body, safe to put in a message.

    Secrets are masked (`redact`): registered values, Authorization headers, Basic/Bearer
    credentials, Mundipagg keys, webhook tokens, and values of password/secret/token/key/sign/
    card fields, in case a half-broken answer echoes the request or carries a customer record.
    """
    flat = _SPACES.sub(" ", _TAGS.sub(" ", redact(text))).strip()
    flat = redact(flat)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@dataclass(frozen=True)
class Problem:
    """Something a read found wrong without failing: a code and its values (no customer data).

    Clients speak no operator's language: whoever shows a problem renders it from its code
    (`describe`, with the texts of `blocks.problems`); `str()` is the English one, for logs.
    """

    code: str
    values: Mapping[str, object] = field(default_factory=dict)

    def describe(self, language: str) -> str:
        """In `language`; a value that is itself a Problem (an error's) is said in it too.
        Masked like an error's message: values that pass alone may not together."""
        values = {
            name: value.describe(language) if isinstance(value, Problem) else value
            for name, value in self.values.items()
        }
        text = in_language(language, PROBLEMS[f"problem.{self.code}"]).format(**values)
        return redact(text)  # as an error's text

    def __str__(self) -> str:
        return self.describe("en")


class ApiError(Exception):
    """Something went wrong talking to an external system."""

    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        system: str,
        status_code: int | None = None,
        code: str | None = None,
        values: Mapping[str, object] | None = None,
    ) -> None:
        """`message` is the English text (logs, `str()`); `code` and `values`, when given,
        let operators read it in their language (`problem`), values sanitised like it."""
        message = redact(message)
        super().__init__(message)
        self.message = message
        self.system = system
        self.status_code = status_code
        self.code = code
        self.values = {
            name: redact(value) if isinstance(value, str) else value
            for name, value in (values or {}).items()
        }

    def __str__(self) -> str:
        return f"{self.system}: {self.message}"

    @property
    def problem(self) -> Problem:
        """This error as operators read it: by its code, else its (English) text."""
        if self.code is None:
            return Problem("api_text", {"system": self.system, "text": self.message})
        return Problem(f"api_{self.code}", {"system": self.system, **self.values})


class TransientApiError(ApiError):
    """A retry may succeed: the system was slow, overloaded or answered garbage."""

    retryable = True


class PermanentApiError(ApiError):
    """A retry will fail the same way until someone fixes data or configuration."""


class ApiTimeout(TransientApiError):
    """No answer in time."""


class ConnectionFailed(TransientApiError):
    """No connection (refused, unreachable, name not resolved) or it broke before the answer."""


class RateLimited(TransientApiError):
    """HTTP 429; `retry_after` is how long the system asked us to wait (seconds)."""

    def __init__(
        self, message: str, *, system: str, retry_after: float | None, **said: Any
    ) -> None:
        super().__init__(message, system=system, status_code=429, **said)
        self.retry_after = retry_after


class RetryAfterTooLong(PermanentApiError):
    """A 429 asked for a longer wait than the client's ceiling: not retried in this run."""

    def __init__(self, message: str, *, system: str, retry_after: float, **said: Any) -> None:
        super().__init__(message, system=system, status_code=429, **said)
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
