"""Discord webhook emulator: message validation limits, per-webhook rate limits, `?wait=true`.

Notifications must survive Discord's real constraints: messages that break a size limit are
refused whole (50035 with a per-field `errors` tree), empty messages are refused (50006), and a
webhook accepts only a few messages per couple of seconds (429 with `retry_after`). Every
accepted message is kept in `messages` so tests can assert what the team would have read.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from clock import Clock
from sandbox.base import SandboxBase
from sandbox.faults import FaultPlan, FaultProfile

DEFAULT_WEBHOOK = ("100000000000000001", "sandbox-webhook-token")
DEFAULT_RATE_LIMITS: tuple[tuple[int, float], ...] = ((5, 2.0), (30, 60.0))
CHANNEL_ID = "200000000000000002"
INSPECTION_PATH = "/sandbox/messages"
DISCORD_EPOCH_MS = 1_420_070_400_000

LIMITS = {
    "content": 2000,
    "embeds": 10,
    "title": 256,
    "description": 4096,
    "fields": 25,
    "field_name": 256,
    "field_value": 1024,
    "footer": 2048,
    "author": 256,
    "username": 80,
    "embed_total": 6000,
}
MAX_COLOR = 0xFFFFFF
# Discord's own 429s come through Google's front end; a 429 without it is Cloudflare's.
RATE_LIMIT_VIA = ("Via", "1.1 google")


@dataclass
class DiscordMessage:
    """One accepted webhook message: the JSON payload and any uploaded files."""

    webhook_id: str
    payload: dict[str, Any]
    attachments: list[tuple[str, bytes]] = field(default_factory=list)
    id: str = ""
    attachment_ids: list[str] = field(default_factory=list)  # snowflakes, like message ids


def _rate_limit_body(retry_after: float) -> tuple[str, bytes]:
    body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": False}
    return "application/json", json.dumps(body).encode()


class DiscordSandbox(SandboxBase):
    """In-memory Discord answering `POST /api/webhooks/{id}/{token}`.

    `webhooks` maps webhook id -> token. `rate_limits` is a list of (requests, seconds) windows
    applied per webhook (default 5 per 2 s and 30 per 60 s), timed by `monotonic` (replace it to
    test the windows without sleeping). Message ids (snowflakes) and timestamps follow `clock`.
    Counters: `requests` (all), `counts["webhook"]`; `messages` holds what was accepted.
    """

    profile = FaultProfile(
        text_200="upstream connect error or disconnect/reset before headers. reset reason: reset",
        rate_limit=_rate_limit_body,
        rate_limit_headers=(RATE_LIMIT_VIA,),
    )

    def __init__(
        self,
        webhooks: Iterable[tuple[str, str]] = (DEFAULT_WEBHOOK,),
        *,
        rate_limits: Iterable[tuple[int, float]] = DEFAULT_RATE_LIMITS,
        monotonic: Callable[[], float] = time.monotonic,
        clock: Clock | None = None,
        latency: float = 0.0,
        faults: FaultPlan | None = None,
        on_message: Callable[[DiscordMessage], None] | None = None,
    ) -> None:
        super().__init__(latency=latency, faults=faults)
        self.on_message = on_message
        self.webhooks: dict[str, str] = dict(webhooks)
        self.rate_limits: list[tuple[int, float]] = list(rate_limits)
        self.monotonic = monotonic
        self.clock = clock or Clock()
        self.messages: list[DiscordMessage] = []
        self._hits: dict[str, list[deque[float]]] = {}
        self._last_id = 0

    def snowflake(self) -> str:
        """A new Discord id: milliseconds since Discord's epoch (by `clock`), then a sequence."""
        with self.lock:
            milliseconds = int(self.clock.timestamp() * 1000) - DISCORD_EPOCH_MS
            self._last_id = max(milliseconds << 22, self._last_id + 1)
            return str(self._last_id)

    def url(self, base_url: str, webhook_id: str | None = None) -> str:
        """The webhook URL of `webhook_id` (default: the first configured) under `base_url`."""
        hook = webhook_id or next(iter(self.webhooks))
        return f"{base_url.rstrip('/')}/api/webhooks/{hook}/{self.webhooks[hook]}"

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/api/webhooks/{id}/{token}", self._endpoint, methods=["POST"]),
            Route(INSPECTION_PATH, self._inspect, methods=["GET"]),
        ]

    async def _inspect(self, request: Request) -> Response:
        """Sandbox only (Discord has no such thing): what the team would have read, oldest first."""
        with self.lock:
            received = list(self.messages)
        hook = request.query_params.get("webhook_id")
        return JSONResponse(
            [_message_object(m) for m in received if hook is None or m.webhook_id == hook]
        )

    async def _endpoint(self, request: Request) -> Response:
        self.count("webhook")
        hook, token = request.path_params["id"], request.path_params["token"]
        with self.lock:
            known_token = self.webhooks.get(hook)
        if known_token is None:
            return JSONResponse({"message": "Unknown Webhook", "code": 10015}, status_code=404)
        if token != known_token:
            return JSONResponse({"message": "Invalid Webhook Token", "code": 50027}, 401)
        limited, headers = self._take_slot(hook)
        if limited is not None:
            return limited
        payload, attachments, problem = await _read_message(request)
        problem = problem or _validate(payload, attachments)
        if problem is not None:
            return JSONResponse(problem, status_code=400, headers=headers)
        message = self._accept(hook, payload, attachments)
        if request.query_params.get("wait", "").lower() in ("true", "1"):
            return JSONResponse(_message_object(message), headers=headers)
        return Response(status_code=204, headers=headers)

    def _take_slot(self, hook: str) -> tuple[Response | None, dict[str, str]]:
        """Sliding windows per webhook: a 429 answer, or None and the rate-limit headers."""
        if not self.rate_limits:
            return None, {}
        now = self.monotonic()
        with self.lock:
            windows = self._hits.get(hook, [])
            if len(windows) != len(self.rate_limits):  # first use, or limits changed at runtime
                windows = self._hits[hook] = [deque() for _ in self.rate_limits]
            for hits, (_, period) in zip(windows, self.rate_limits, strict=True):
                while hits and hits[0] <= now - period:
                    hits.popleft()
            waits = [
                hits[0] + period - now
                for hits, (limit, period) in zip(windows, self.rate_limits, strict=True)
                if len(hits) >= limit
            ]
            if not waits:
                for hits in windows:
                    hits.append(now)
            headers = self._headers(hook, windows[0], now)
        if not waits:
            return None, headers
        retry_after = round(max(waits), 3)
        content_type, body = _rate_limit_body(retry_after)
        headers |= {"Retry-After": str(math.ceil(retry_after)), "X-RateLimit-Scope": "shared"}
        headers.update([RATE_LIMIT_VIA])
        limited = Response(body, status_code=429, headers=headers, media_type=content_type)
        return limited, headers

    def _headers(self, hook: str, hits: deque[float], now: float) -> dict[str, str]:
        limit, period = self.rate_limits[0]
        reset_after = max(hits[0] + period - now, 0.0) if hits else 0.0
        return {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(limit - len(hits), 0)),
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Reset": f"{self.clock.timestamp() + reset_after:.3f}",
            "X-RateLimit-Bucket": hashlib.sha1(hook.encode()).hexdigest()[:32],
        }

    def _accept(
        self, hook: str, payload: dict[str, Any], attachments: list[tuple[str, bytes]]
    ) -> DiscordMessage:
        message = DiscordMessage(hook, payload, attachments, self.snowflake())
        message.attachment_ids = [self.snowflake() for _ in attachments]
        with self.lock:
            self.messages.append(message)
        if self.on_message is not None:
            self.on_message(message)
        return message


async def _read_message(
    request: Request,
) -> tuple[dict[str, Any], list[tuple[str, bytes]], dict[str, Any] | None]:
    """Payload, files and a parse problem (400 body) from a JSON or multipart request."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        form = await request.form()
        files = [
            (value.filename or key, await value.read())
            for key, value in form.multi_items()
            if isinstance(value, UploadFile)
        ]
        raw = form.get("payload_json")
        if raw is None:
            fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
            return fields, files, None
        payload, problem = _parse_json(str(raw))
        return payload, files, problem
    payload, problem = _parse_json((await request.body()).decode("utf-8", "replace"))
    return payload, [], problem


def _parse_json(raw: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    try:
        payload = json.loads(raw)
    except ValueError:
        return {}, {"code": 50109, "message": "The request body contains invalid JSON."}
    if not isinstance(payload, dict):
        return {}, _invalid({"_errors": [_error("MODEL_TYPE_CONVERT", "Expected an object.")]})
    return payload, None


def _error(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}


def _too_long(limit: int) -> dict[str, Any]:
    return {"_errors": [_error("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")]}


def _invalid(errors: dict[str, Any]) -> dict[str, Any]:
    return {"code": 50035, "message": "Invalid Form Body", "errors": errors}


def _validate(payload: dict[str, Any], attachments: list[tuple[str, bytes]]) -> dict | None:
    """Discord's checks, in its answer shapes (None = acceptable)."""
    content = payload.get("content") or ""
    embeds = payload.get("embeds") or []
    if not str(content).strip() and not embeds and not attachments:
        return {"code": 50006, "message": "Cannot send an empty message"}
    errors: dict[str, Any] = {}
    if len(str(content)) > LIMITS["content"]:
        errors["content"] = _too_long(LIMITS["content"])
    username = payload.get("username")
    if username is not None:
        problem = _username_problem(str(username))
        if problem:
            errors["username"] = {"_errors": [problem]}
    if not isinstance(embeds, list):
        errors["embeds"] = {"_errors": [_error("MODEL_TYPE_CONVERT", "Expected a list.")]}
    elif len(embeds) > LIMITS["embeds"]:
        errors["embeds"] = _too_long(LIMITS["embeds"])
    else:
        errors |= _embeds_errors(embeds)
    return _invalid(errors) if errors else None


def _username_problem(username: str) -> dict[str, str] | None:
    if not 1 <= len(username) <= LIMITS["username"]:
        return _error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 80 in length.")
    for word in ("discord", "clyde"):
        if word in username.lower():
            return _error("USERNAME_INVALID_CONTAINS", f'Username cannot contain "{word}"')
    return None


def _embeds_errors(embeds: list[Any]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    total = 0
    for index, embed in enumerate(embeds):
        if not isinstance(embed, dict):
            tree[str(index)] = {"_errors": [_error("MODEL_TYPE_CONVERT", "Expected an object.")]}
            continue
        problems, size = _embed_errors(embed)
        total += size
        if problems:
            tree[str(index)] = problems
    if total > LIMITS["embed_total"]:
        message = f"Embed size exceeds maximum size of {LIMITS['embed_total']}"
        tree["_errors"] = [_error("MAX_EMBED_SIZE_EXCEEDED", message)]
    return {"embeds": tree} if tree else {}


def _text_of(embed: dict[str, Any], key: str, inner: str | None = None) -> str:
    value = embed.get(key)
    if inner is not None:
        value = value.get(inner) if isinstance(value, dict) else None
    return "" if value is None else str(value)


def _embed_errors(embed: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Errors of one embed and its character count toward the 6000 total."""
    problems: dict[str, Any] = {}
    texts = {
        ("title",): (_text_of(embed, "title"), LIMITS["title"]),
        ("description",): (_text_of(embed, "description"), LIMITS["description"]),
        ("footer", "text"): (_text_of(embed, "footer", "text"), LIMITS["footer"]),
        ("author", "name"): (_text_of(embed, "author", "name"), LIMITS["author"]),
    }
    size = 0
    for path, (text, limit) in texts.items():
        size += len(text)
        if len(text) > limit:
            _put(problems, path, _too_long(limit))
    color = embed.get("color")
    if color is not None and (not isinstance(color, int) or not 0 <= color <= MAX_COLOR):
        message = f"Int value should be less than or equal to {MAX_COLOR}."
        problems["color"] = {"_errors": [_error("NUMBER_TYPE_MAX", message)]}
    fields = embed.get("fields") or []
    if len(fields) > LIMITS["fields"]:
        problems["fields"] = _too_long(LIMITS["fields"])
    else:
        for index, item in enumerate(fields):
            size += _field_errors(problems, index, item if isinstance(item, dict) else {})
    return problems, size


def _field_errors(problems: dict[str, Any], index: int, item: dict[str, Any]) -> int:
    size = 0
    for key, limit in (("name", LIMITS["field_name"]), ("value", LIMITS["field_value"])):
        text = item.get(key)
        if text is None or str(text) == "":
            problem = {"_errors": [_error("BASE_TYPE_REQUIRED", "This field is required")]}
            _put(problems, ("fields", str(index), key), problem)
            continue
        size += len(str(text))
        if len(str(text)) > limit:
            _put(problems, ("fields", str(index), key), _too_long(limit))
    return size


def _put(tree: dict[str, Any], path: tuple[str, ...], leaf: dict[str, Any]) -> None:
    for key in path[:-1]:
        tree = tree.setdefault(key, {})
    tree[path[-1]] = leaf


def _message_object(message: DiscordMessage) -> dict[str, Any]:
    """What `?wait=true` returns: the created message as Discord serialises it."""
    payload = message.payload
    timestamp_ms = (int(message.id) >> 22) + DISCORD_EPOCH_MS
    return {
        "id": message.id,
        "type": 0,
        "content": payload.get("content") or "",
        "channel_id": CHANNEL_ID,
        "author": {
            "id": message.webhook_id,
            "username": payload.get("username") or "Captain Hook",
            "avatar": None,
            "discriminator": "0000",
            "bot": True,
        },
        "attachments": [
            {"id": attachment_id, "filename": name, "size": len(data)}
            for attachment_id, (name, data) in zip(
                message.attachment_ids, message.attachments, strict=True
            )
        ],
        "embeds": [{"type": "rich", **embed} for embed in payload.get("embeds") or []],
        "mentions": [],
        "mention_roles": [],
        "pinned": False,
        "mention_everyone": False,
        "tts": bool(payload.get("tts", False)),
        "timestamp": datetime.fromtimestamp(timestamp_ms / 1000, UTC).isoformat(),
        "edited_timestamp": None,
        "flags": int(payload.get("flags", 0) or 0),
        "components": [],
        "webhook_id": message.webhook_id,
    }
