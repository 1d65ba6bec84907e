"""What every sandbox shares: a lock for its state, counters, latency and fault injection.

Tests mutate a sandbox's state from their own thread while uvicorn serves it from another, so all
state changes go through `lock`. Latency and faults live in one ASGI wrapper around the emulated
application so that every request (even a rejected or faulty one) pays and counts the same way.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from functools import partial
from typing import Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from sandbox.faults import ASGIApp, FaultPlan, FaultProfile, Message, Receive, Scope, Send, inject

Record = MutableMapping[str, Any]


class TemplateRecord(MutableMapping[str, Any]):
    """A row that stores only its own fields and reads every other field from a shared template.

    Half a million rows of 25 fields each would cost gigabytes as dicts; here a row costs its few
    own values. Keys iterate in template order (the order the real API answers in); writes go to
    the row's own dict, so a test can pass a plain dict and keep mutating that same dict.
    """

    __slots__ = ("own", "template")

    def __init__(self, own: dict[str, Any], template: Mapping[str, Any]) -> None:
        self.own = own
        self.template = template

    def __getitem__(self, key: str) -> Any:
        try:
            return self.own[key]
        except KeyError:
            return self.template[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.own[key] = value

    def __delitem__(self, key: str) -> None:
        del self.own[key]

    def __iter__(self) -> Iterator[str]:
        yield from self.template
        yield from (key for key in self.own if key not in self.template)

    def __len__(self) -> int:
        return len(self.template) + sum(key not in self.template for key in self.own)

    def __repr__(self) -> str:
        shown = {k: "<redacted>" if k == "password" else v for k, v in self.own.items()}
        return f"TemplateRecord({shown!r})"


def flatten(record: Mapping[str, Any]) -> dict[str, Any]:
    """A plain dict copy of a record, in template order (fast path for TemplateRecord)."""
    if isinstance(record, TemplateRecord):
        return {**record.template, **record.own}
    return dict(record)


class SandboxBase:
    """Base of the emulators: `app` (ASGI), `lock`, `latency`, `faults`, request counters.

    `requests` counts every HTTP request received; `counts` counts them per operation name chosen
    by the subclass (e.g. "user/read"). `latency` (seconds) is slept before every answer and may be
    changed at any time.
    """

    profile: FaultProfile = FaultProfile()

    def __init__(self, *, latency: float = 0.0, faults: FaultPlan | None = None) -> None:
        self.lock = threading.Lock()
        self.latency = latency
        self.faults = faults if faults is not None else FaultPlan()
        self.requests = 0
        self.counts: Counter[str] = Counter()
        self._app: ASGIApp | None = None

    @property
    def app(self) -> ASGIApp:
        """The ASGI application (built once; state stays on this object)."""
        if self._app is None:
            self._app = _Wrapper(self, Starlette(routes=list(self.routes())))
        return self._app

    def routes(self) -> Iterable[BaseRoute]:
        """The emulated system's routes; subclasses define them."""
        raise NotImplementedError

    def count(self, operation: str) -> None:
        """Record one request for `operation`."""
        with self.lock:
            self.counts[operation] += 1

    def reset_counters(self) -> None:
        """Zero the request counters (state and fault plan are kept)."""
        with self.lock:
            self.requests = 0
            self.counts.clear()


class _Wrapper:
    """ASGI wrapper: count, sleep the latency, and maybe replace the answer by a fault."""

    def __init__(self, sandbox: SandboxBase, inner: ASGIApp) -> None:
        self.sandbox = sandbox
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        with self.sandbox.lock:
            self.sandbox.requests += 1
        body = await _read_body(receive)
        replay = _replaying(body, receive)
        if self.sandbox.latency > 0:
            await asyncio.sleep(self.sandbox.latency)
        rule = self.sandbox.faults.decide(_request_text(scope, body))
        if rule is None:
            await self.inner(scope, replay, send)
        else:
            disconnected = partial(_until_disconnect, receive)
            await inject(rule, self.sandbox.profile, self.inner, scope, replay, send, disconnected)


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _until_disconnect(receive: Receive) -> None:
    """Wait for the client to go away (the body has been read already)."""
    while (await receive())["type"] != "http.disconnect":
        pass


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the already-read body to the app once, then waits as usual."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _request_text(scope: Scope, body: bytes) -> str:
    query = scope.get("query_string", b"").decode("latin-1")
    path = scope["path"] + (f"?{query}" if query else "")
    return f"{scope['method']} {path}\n{body.decode('utf-8', 'replace')}"
