"""Serve sandboxes over real loopback TCP (for timeouts, resets and end-to-end demos).

In-process `httpx.ASGITransport` cannot show what only a socket shows: client timeouts, a
connection dropped mid-body, connection pooling. `serve()` runs uvicorn on a 127.0.0.1 port
(ephemeral unless one is given) in a daemon thread and yields the base URL.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import uvicorn

from sandbox.faults import InjectedConnectionReset

LOOPBACK = "127.0.0.1"
STARTUP_TIMEOUT = 10.0


class _HideInjectedResets(logging.Filter):
    """uvicorn logs an app exception as an error; an injected reset is intended, not an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, InjectedConnectionReset)


def _quiet_injected_resets() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _HideInjectedResets) for f in logger.filters):
        logger.addFilter(_HideInjectedResets())


@contextmanager
def serve(app: Any, *, host: str = LOOPBACK, port: int = 0) -> Iterator[str]:
    """Run `app` with uvicorn on a loopback port; yield "http://127.0.0.1:<port>"."""
    if host != LOOPBACK:
        raise ValueError("the sandbox only binds 127.0.0.1")
    _quiet_injected_resets()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Like nginx in front of the real systems (tcp_nodelay on): without it each answer written
    # in two parts (headers, body) waits ~40 ms for the client's delayed ACK.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise RuntimeError(f"cannot serve the sandbox on {host}:{port}: {error.strerror}") from None
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        _wait_until_started(server, thread)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()


def _wait_until_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("sandbox server did not start")
        time.sleep(0.01)


@contextmanager
def serve_all(ports: dict[str, int] | None = None, **apps: Any) -> Iterator[dict[str, str]]:
    """Serve several apps at once, e.g. serve_all(magnus=m.app, ixc=i.app) -> {name: url}.

    `ports` fixes the port of some of them (by name); the others get ephemeral ports.
    """
    chosen = ports or {}
    with ExitStack() as stack:
        yield {
            name: stack.enter_context(serve(app, port=chosen.get(name, 0)))
            for name, app in apps.items()
        }
