"""What every client does the same way: send a request, map failures, parse JSON; how to retry.

No Prefect in here: clients stay testable on their own with `httpx.ASGITransport`.
"""

from __future__ import annotations

import logging
import math
import random
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any, Self

import httpx
import orjson

from blocks.errors import (
    ApiTimeout,
    ConnectionFailed,
    MalformedResponse,
    RateLimited,
    RetryAfterTooLong,
    ServerError,
    TransientApiError,
    excerpt,
    redact,
)
from clock import Clock


class _RedactSecrets(logging.Filter):
    """httpx logs every request's URL at INFO (a Discord webhook URL ends in its token);
    httpcore logs answers' headers at DEBUG (an echoing proxy may put credentials there)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a malformed record is not ours to fix
            return True
        redacted = redact(text)
        if redacted != text:
            record.msg, record.args = redacted, ()
        return True


# A logger's filters do not apply to its children's records: each logger that writes is named.
_HTTP_LOGGERS = ("httpx", *(f"httpcore.{part}" for part in ("connection", "http11", "http2")))
for _logger in _HTTP_LOGGERS:
    logging.getLogger(_logger).addFilter(_RedactSecrets())


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter for transient errors; a 429's `Retry-After` is honoured.

    `max_delay` caps the backoff only. A `Retry-After` longer than the backoff is waited in
    full up to `max_retry_after`; a system that asks for more fails the call
    (`RetryAfterTooLong`, saying how long it asked for) instead of being retried early.
    """

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    jitter: float = 0.5
    max_retry_after: float = 300.0

    def delay(self, failed_attempts: int, error: TransientApiError) -> float:
        """Seconds to wait before the next try; raises `RetryAfterTooLong` past the ceiling."""
        backoff = min(self.max_delay, self.base_delay * 2 ** (failed_attempts - 1))
        backoff = max(0.0, backoff * (1 + random.uniform(-self.jitter, self.jitter)))
        if isinstance(error, RateLimited) and error.retry_after is not None:
            if error.retry_after > self.max_retry_after:
                raise RetryAfterTooLong(
                    f"rate limited and asked to wait {error.retry_after:g} s, more than the "
                    f"{self.max_retry_after:g} s this client waits; giving up",
                    system=error.system,
                    retry_after=error.retry_after,
                    code="wait_too_long",
                    values={
                        "asked": f"{error.retry_after:g}",
                        "ceiling": f"{self.max_retry_after:g}",
                    },
                ) from None
            return max(backoff, error.retry_after)
        return backoff


DEFAULT_RETRY = RetryPolicy()


class ApiClient:
    """What every client shares: one pooled `httpx.AsyncClient`, closed by `async with`."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Seconds to wait from a 429: JSON `retry_after` (Discord) or the `Retry-After` header.

    The header is delay-seconds or an HTTP-date (RFC 9110); a date in the past means now.
    Anything unreadable (garbage, NaN, infinity) is None: the caller backs off as usual.
    """
    try:
        body = response.json()
    except ValueError:  # not JSON (UnicodeDecodeError is a ValueError too)
        body = None
    if isinstance(body, dict):
        seconds = _finite_seconds(body.get("retry_after"))
        if seconds is not None:
            return seconds
    header = response.headers.get("Retry-After")
    if header is None:
        return None
    try:
        return _finite_seconds(float(header))
    except ValueError:
        return _seconds_until(header)


def _finite_seconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return max(0.0, float(value))


def _seconds_until(http_date: str) -> float | None:
    try:
        when = parsedate_to_datetime(http_date)
    except (TypeError, ValueError, IndexError, OverflowError):  # the parser's ways to refuse
        return None
    if when.tzinfo is None:  # "-0000" (RFC 5322: UTC, source zone unknown) parses naive
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - Clock().now()).total_seconds())


async def send(client: httpx.AsyncClient, system: str, request: httpx.Request) -> httpx.Response:
    """Send one request; timeouts, failed connections, 429 and 5xx become transient errors.

    The original httpx exception is neither chained nor kept as the error's context (it is
    raised outside the `except`): its text may carry a URL, and some URLs (Discord webhooks)
    are secrets.
    """
    failure: TransientApiError | None = None
    try:
        response = await client.send(request)
    except httpx.TimeoutException as exc:
        kind = type(exc).__name__
        failure = ApiTimeout(
            f"no answer in time ({kind})", system=system, code="timeout", values={"kind": kind}
        )
    except httpx.ConnectError as exc:  # refused, unreachable, name not resolved
        kind = type(exc).__name__
        failure = ConnectionFailed(
            f"could not connect ({kind})",
            system=system,
            code="could_not_connect",
            values={"kind": kind},
        )
    except httpx.TransportError as exc:  # the connection broke before the answer
        kind = type(exc).__name__
        failure = ConnectionFailed(
            f"connection failed ({kind})",
            system=system,
            code="connection_failed",
            values={"kind": kind},
        )
    if failure is not None:
        raise failure
    if response.status_code == 429:
        wait = retry_after_seconds(response)
        shown = str(wait) if wait is not None else "?"
        raise RateLimited(
            f"rate limited (HTTP 429, retry after {shown} s)",
            system=system,
            retry_after=wait,
            code="rate_limited",
            values={"wait": shown},
        )
    if response.status_code >= 500:
        detail = excerpt(response_text(response))
        raise ServerError(
            f"HTTP {response.status_code}: {detail}",
            system=system,
            status_code=response.status_code,
            code="server_error",
            values={"status": response.status_code, "detail": detail},
        )
    return response


def response_text(response: httpx.Response) -> str:
    """The body as text, never failing: undecodable bytes are replaced."""
    return response.content.decode("utf-8", errors="replace")


def parse_json(response: httpx.Response, system: str) -> Any:
    """Parse the body as JSON by its content (headers lie: MagnusBilling labels JSON text/html).

    A body that is not UTF-8 or not JSON raises `MalformedResponse` with a safe description:
    JSON-looking bodies are described by their parse error only, since a truncated customer
    record could carry a password. The decoder's own exception (which holds the whole body)
    is not kept as the error's context.
    """
    try:
        text = response.content.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is None:
        raise MalformedResponse(
            f"answer is not UTF-8 text (HTTP {response.status_code}, "
            f"{len(response.content)} bytes)",
            system=system,
            status_code=response.status_code,
            code="not_utf8",
            values={"status": response.status_code, "size": len(response.content)},
        )
    stripped = text.lstrip()
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        if stripped.startswith(("{", "[")):
            detail = f"broken JSON ({exc.msg} at char {exc.pos} of {len(text)})"
            code = "broken_json"
            values = {"reason": exc.msg, "position": exc.pos, "size": len(text)}
        elif not stripped:
            detail, code, values = "empty answer", "empty_answer", {}
        else:
            detail = f"not JSON: {excerpt(text)}"
            code, values = "not_json", {"excerpt": excerpt(text)}
    raise MalformedResponse(
        f"{detail} (HTTP {response.status_code})",
        system=system,
        status_code=response.status_code,
        code=code,
        values={**values, "status": response.status_code},
    )
