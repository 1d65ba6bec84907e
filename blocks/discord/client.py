"""Async Discord webhook client: posts messages in order, within the rate limit.

The webhook URL carries its token, so it is a secret: it never appears in an error message
(the token is registered for masking, and httpx's request log is redacted in `blocks.http`).
Discord answers 429 with `retry_after` (a `RateLimited` error: the caller waits and retries -
Prefect task retries in contract-sync); the client also pauses ahead of time when the
`X-RateLimit-Remaining` header says the bucket is empty. Each `post` is one attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from typing import Any

import httpx

from blocks.discord.models import DiscordMessage
from blocks.errors import (
    AuthenticationError,
    MalformedResponse,
    NotFound,
    PermanentApiError,
    ValidationFailed,
    excerpt,
    register_secrets,
)
from blocks.http import DEFAULT_RETRY, ApiClient, response_text, send

SYSTEM = "discord"
MAX_BUCKET_WAIT = DEFAULT_RETRY.max_retry_after  # seconds; a longer reset is not waited for


class DiscordWebhook(ApiClient):
    def __init__(
        self,
        url: str,
        *,
        username: str = "billing-sync",
        timeout: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        register_secrets([httpx.URL(url).path.rstrip("/").rsplit("/", 1)[-1]])
        self._url = url
        self._username = username
        self._in_order = asyncio.Lock()
        self._not_before = 0.0
        super().__init__(httpx.AsyncClient(timeout=timeout, transport=transport))

    async def post(self, message: DiscordMessage) -> None:
        """Deliver one message (after an emptied bucket's reset); raises if it was not."""
        async with self._in_order:
            delay = self._not_before - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            response = await send(self._http, SYSTEM, self._build(message))
            self._remember_bucket(response)
        _raise_for_status(response)
        _raise_unless_delivered(response)

    def _build(self, message: DiscordMessage) -> httpx.Request:
        payload: dict[str, Any] = {
            "username": self._username,
            "content": message.content,
            "embeds": [embed.model_dump() for embed in message.embeds],
            "allowed_mentions": {"parse": []},
        }
        params = {"wait": "true"}
        if not message.attachments:
            return self._http.build_request("POST", self._url, params=params, json=payload)
        payload["attachments"] = [
            {"id": index, "filename": file.filename}
            for index, file in enumerate(message.attachments)
        ]
        files = {
            f"files[{index}]": (file.filename, file.content, "text/csv")
            for index, file in enumerate(message.attachments)
        }
        return self._http.build_request(
            "POST",
            self._url,
            params=params,
            data={"payload_json": json.dumps(payload)},
            files=files,
        )

    def _remember_bucket(self, response: httpx.Response) -> None:
        remaining = response.headers.get("X-RateLimit-Remaining")
        reset_after = response.headers.get("X-RateLimit-Reset-After")
        if remaining == "0" and reset_after:
            with contextlib.suppress(ValueError):
                wait = min(float(reset_after), MAX_BUCKET_WAIT)
                if math.isfinite(wait):
                    self._not_before = time.monotonic() + wait


def _raise_unless_delivered(response: httpx.Response) -> None:
    """A 200 that is not Discord's JSON (a proxy's HTML page, plain text, nothing) is no delivery.

    With `?wait=true` Discord answers the created message as JSON. An HTML or text page with
    HTTP 200 comes from something in front of Discord, so the message was not posted: transient,
    retried. A JSON answer cut short still came from Discord after it posted the message, so it
    counts as delivered (retrying would announce the change twice).
    """
    if response.status_code == 204:
        return
    body = response_text(response).lstrip()
    if body.startswith("{"):
        return
    raise MalformedResponse(
        f"HTTP {response.status_code} but not Discord's answer: {excerpt(body, 80)!r}",
        system=SYSTEM,
        status_code=response.status_code,
    )


def _raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    detail = excerpt(response_text(response))
    if status in (401, 403):
        raise AuthenticationError(
            f"webhook refused (HTTP {status})",
            system=SYSTEM,
            status_code=status,
            code="webhook_refused",
            values={"status": status},
        )
    if status == 404:
        raise NotFound(
            "webhook does not exist (HTTP 404)",
            system=SYSTEM,
            status_code=404,
            code="webhook_not_found",
        )
    if status == 400:
        raise ValidationFailed(
            f"message refused: {detail}",
            system=SYSTEM,
            status_code=400,
            code="message_refused",
            values={"detail": detail},
        )
    raise PermanentApiError(
        f"HTTP {status}: {detail}",
        system=SYSTEM,
        status_code=status,
        code="http_error",
        values={"status": status, "detail": detail},
    )
