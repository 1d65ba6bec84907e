"""What every client does the same way: send a request, map failures, parse JSON, retry.

No Prefect in here: clients stay testable on their own with `httpx.ASGITransport`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Self, TypeVar

import httpx
import orjson

from blocks.errors import (
    ApiTimeout,
    MalformedResponse,
    RateLimited,
    ServerError,
    TransientApiError,
    excerpt,
)
from clock import Clock

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter for transient errors; `Retry-After` wins when longer."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    jitter: float = 0.5

    def delay(self, failed_attempts: int, error: TransientApiError) -> float:
        backoff = min(self.max_delay, self.base_delay * 2 ** (failed_attempts - 1))
        backoff *= 1 + random.uniform(-self.jitter, self.jitter)
        if isinstance(error, RateLimited) and error.retry_after is not None:
            return min(self.max_delay, max(backoff, error.retry_after))
        return max(0.0, backoff)


DEFAULT_RETRY = RetryPolicy()


async def with_retries(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    on_retry: Callable[[TransientApiError, int, float], None] | None = None,
) -> T:
    """Run `call`, retrying transient errors as the policy says; permanent ones go straight up."""
    for attempt in range(1, policy.attempts + 1):
        try:
            return await call()
        except TransientApiError as error:
            if attempt == policy.attempts:
                raise
            wait = policy.delay(attempt, error)
            if on_retry is not None:
                on_retry(error, attempt, wait)
            await asyncio.sleep(wait)
    raise AssertionError("unreachable: the loop returns or raises")


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
    """Seconds to wait from a 429: JSON `retry_after` (Discord) or the `Retry-After` header."""
    try:
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("retry_after"), int | float):
            return max(0.0, float(body["retry_after"]))
    except (ValueError, UnicodeDecodeError):
        pass
    header = response.headers.get("Retry-After")
    if header is None:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        try:
            when = parsedate_to_datetime(header)
        except (TypeError, ValueError):
            return None
        return max(0.0, (when - Clock().now()).total_seconds())


async def send(client: httpx.AsyncClient, system: str, request: httpx.Request) -> httpx.Response:
    """Send one request; timeouts, broken connections, 429 and 5xx become transient errors.

    The original httpx exception is not chained: its text may carry a URL, and some URLs
    (Discord webhooks) are secrets.
    """
    try:
        response = await client.send(request)
    except httpx.TimeoutException as exc:
        raise ApiTimeout(f"no answer in time ({type(exc).__name__})", system=system) from None
    except httpx.TransportError as exc:
        raise ApiTimeout(f"connection failed ({type(exc).__name__})", system=system) from None
    if response.status_code == 429:
        wait = retry_after_seconds(response)
        raise RateLimited(
            f"rate limited (HTTP 429, retry after {wait if wait is not None else '?'} s)",
            system=system,
            retry_after=wait,
        )
    if response.status_code >= 500:
        raise ServerError(
            f"HTTP {response.status_code}: {excerpt(response_text(response))}",
            system=system,
            status_code=response.status_code,
        )
    return response


def response_text(response: httpx.Response) -> str:
    """The body as text, never failing: undecodable bytes are replaced."""
    return response.content.decode("utf-8", errors="replace")


def parse_json(response: httpx.Response, system: str) -> Any:
    """Parse the body as JSON by its content (headers lie: MagnusBilling labels JSON text/html).

    A body that is not UTF-8 or not JSON raises `MalformedResponse` with a safe description:
    JSON-looking bodies are described by their parse error only, since a truncated customer
    record could carry a password.
    """
    try:
        text = response.content.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedResponse(
            f"answer is not UTF-8 text (HTTP {response.status_code}, "
            f"{len(response.content)} bytes)",
            system=system,
            status_code=response.status_code,
        ) from None
    stripped = text.lstrip()
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        if stripped.startswith(("{", "[")):
            detail = f"broken JSON ({exc.msg} at char {exc.pos} of {len(text)})"
        elif not stripped:
            detail = "empty answer"
        else:
            detail = f"not JSON: {excerpt(text)}"
        raise MalformedResponse(
            f"{detail} (HTTP {response.status_code})",
            system=system,
            status_code=response.status_code,
        ) from None
