"""Fault injection for every sandbox: the failures real networks and real servers produce.

A `FaultPlan` is consulted once per request (before the emulated application runs, like a
failing proxy or PHP worker in front of it). It fires either by rule (the Nth request, requests
whose method/path/query/body match a pattern, once or forever) or at random with a seeded RNG,
so a test can reproduce the exact failure sequence. It is generic: a sandbox only supplies a
`FaultProfile` with its own wording of error pages and plaintext errors.
"""

from __future__ import annotations

import asyncio
import random
import re
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import httpx

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

HTML = "text/html; charset=UTF-8"


class FaultKind(StrEnum):
    """What a faulty request gets instead of (or on top of) the real answer."""

    HTTP_500 = "http_500"
    HTTP_502 = "http_502"
    HTTP_503 = "http_503"
    RATE_LIMIT = "rate_limit"
    TIMEOUT = "timeout"
    CONNECTION_RESET = "connection_reset"
    HTML_200 = "html_200"
    TEXT_200 = "text_200"
    TRUNCATED_JSON = "truncated_json"


class InjectedConnectionReset(httpx.RemoteProtocolError):
    """Raised inside the app to break the connection mid-body.

    Over real TCP uvicorn then drops the socket, so the client sees an incomplete body. In process
    (httpx.ASGITransport re-raises app exceptions) the client gets this httpx.TransportError
    subclass directly, which is what a reset looks like to httpx code.
    """


def _default_error_page(status: int) -> str:
    reason = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
    title = f"{status} {reason.get(status, 'Error')}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )


def _default_rate_limit(retry_after: float) -> tuple[str, bytes]:
    return HTML, _default_error_page(429).replace("429 Error", "429 Too Many Requests").encode()


@dataclass(frozen=True)
class FaultProfile:
    """How one emulated system words its failures (pages, plaintext errors, 429 bodies)."""

    error_page: Callable[[int], str] = _default_error_page
    html_200: str = (
        "<!DOCTYPE html><html><head><title>Manutenção</title></head>"
        "<body><h1>Sistema em manutenção</h1>"
        "<p>Tente novamente em alguns minutos.</p></body></html>"
    )
    text_200: str = "Service temporarily unavailable"
    rate_limit: Callable[[float], tuple[str, bytes]] = _default_rate_limit
    rate_limit_headers: tuple[tuple[str, str], ...] = ()  # sent with a 429 besides Retry-After


@dataclass
class FaultRule:
    """One deterministic fault: which requests it hits and what they get.

    `match` is a regex searched in "METHOD /path?query\\n<body>"; `nth` (1-based, counting only
    matching requests) is the first request hit; `times` is how many requests are hit from then
    on (None = keep failing: an outage). `delay` is the TIMEOUT sleep; `retry_after` is the
    RATE_LIMIT hint in seconds.
    """

    kind: FaultKind
    match: str | None = None
    nth: int | None = None
    times: int | None = 1
    delay: float = 30.0
    retry_after: float = 1.0
    seen: int = field(default=0, init=False)
    fired: int = field(default=0, init=False)

    def observe(self, request_text: str) -> bool:
        """Count this request if it matches; say whether it does."""
        if self.match is not None and re.search(self.match, request_text) is None:
            return False
        self.seen += 1
        return True

    def due(self) -> bool:
        """Whether the request just observed is one this rule hits."""
        started = self.nth is None or self.seen >= self.nth
        return started and (self.times is None or self.fired < self.times)


@dataclass
class FaultPlan:
    """Per-sandbox fault schedule; tests may change it at runtime from any thread.

    Every rule counts the requests it matches; the first rule due for this request wins (the
    others keep their budget); otherwise, with probability `rate`, a kind drawn from `rate_kinds`
    is injected (seeded RNG: the same seed gives the same sequence). `delay` and `retry_after`
    apply to random TIMEOUT / RATE_LIMIT faults. `injected` counts what was injected, by kind.
    """

    rate: float = 0.0
    rate_kinds: tuple[FaultKind, ...] = (FaultKind.HTTP_503,)
    seed: int = 0
    delay: float = 30.0
    retry_after: float = 1.0
    rules: list[FaultRule] = field(default_factory=list)
    injected: Counter[FaultKind] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(self.seed)

    def add(self, kind: FaultKind, **options: Any) -> FaultRule:
        """Append a rule (see FaultRule for options) and return it."""
        rule = FaultRule(kind, **options)
        with self._lock:
            self.rules.append(rule)
        return rule

    def set_rate(self, rate: float, *kinds: FaultKind, seed: int | None = None) -> None:
        """Inject `kinds` at random in a share `rate` of requests (0 switches it off)."""
        with self._lock:
            self.rate = rate
            if kinds:
                self.rate_kinds = kinds
            if seed is not None:
                self.seed = seed
                self._rng = random.Random(seed)

    def clear(self) -> None:
        """Stop injecting anything and forget the counters."""
        with self._lock:
            self.rules.clear()
            self.rate = 0.0
            self.injected.clear()

    def decide(self, request_text: str) -> FaultRule | None:
        """The fault for this request, if any (and count it as injected)."""
        with self._lock:
            matching = [rule for rule in self.rules if rule.observe(request_text)]
            chosen = next((rule for rule in matching if rule.due()), None)
            if chosen is not None:
                chosen.fired += 1
            if chosen is None and self.rate > 0 and self._rng.random() < self.rate:
                kind = self._rng.choice(self.rate_kinds)
                chosen = FaultRule(kind, delay=self.delay, retry_after=self.retry_after)
            if chosen is not None:
                self.injected[chosen.kind] += 1
            return chosen


async def _send_simple(
    send: Send, status: int, content_type: str, body: bytes, extra: list[tuple[bytes, bytes]]
) -> None:
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _send_reset(send: Send) -> None:
    """Promise a body, deliver part of it, then break the connection."""
    partial = b'{"rows":[{"id":1,'
    headers = [(b"content-type", HTML.encode()), (b"content-length", b"4096")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": partial, "more_body": True})
    raise InjectedConnectionReset("sandbox: connection reset by peer (injected)")


async def _send_truncated(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Run the real application, then deliver only the first half of its body."""
    start: Message = {}
    chunks: list[bytes] = []

    async def capture(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, capture)
    body = b"".join(chunks)
    cut = body[: len(body) // 2]
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(cut)).encode()))
    await send({"type": "http.response.start", "status": start["status"], "headers": headers})
    await send({"type": "http.response.body", "body": cut})


async def _client_still_there_after(
    delay: float, disconnected: Callable[[], Awaitable[None]]
) -> bool:
    """Sleep `delay`, but stop early (False) when the client gives up and closes the socket.

    Without this a client timeout would leave the sleeping request behind until server shutdown.
    """
    sleeper = asyncio.ensure_future(asyncio.sleep(delay))
    watcher = asyncio.ensure_future(disconnected())
    done, pending = await asyncio.wait({sleeper, watcher}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    return sleeper in done


async def inject(
    rule: FaultRule,
    profile: FaultProfile,
    app: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    disconnected: Callable[[], Awaitable[None]],
) -> None:
    """Answer one request according to `rule` (the real app runs only where the kind needs it).

    `receive` replays the already-read body; `disconnected` waits until the client goes away.
    """
    kind = rule.kind
    if kind in (FaultKind.HTTP_500, FaultKind.HTTP_502, FaultKind.HTTP_503):
        status = int(kind.value.removeprefix("http_"))
        await _send_simple(send, status, HTML, profile.error_page(status).encode(), [])
    elif kind is FaultKind.RATE_LIMIT:
        content_type, body = profile.rate_limit(rule.retry_after)
        retry = [(b"retry-after", f"{rule.retry_after:g}".encode())]
        retry += [(k.encode(), v.encode()) for k, v in profile.rate_limit_headers]
        await _send_simple(send, 429, content_type, body, retry)
    elif kind is FaultKind.TIMEOUT:
        if await _client_still_there_after(rule.delay, disconnected):
            await app(scope, receive, send)
    elif kind is FaultKind.CONNECTION_RESET:
        await _send_reset(send)
    elif kind is FaultKind.HTML_200:
        await _send_simple(send, 200, HTML, profile.html_200.encode(), [])
    elif kind is FaultKind.TEXT_200:
        await _send_simple(send, 200, HTML, profile.text_200.encode(), [])
    else:
        await _send_truncated(app, scope, receive, send)
