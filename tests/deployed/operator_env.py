"""Running billing-sync as an operator does: a real `prefect server`, `prefect deploy`, a worker.

`PrefectServer` starts `prefect server start` (scheduler, UI and every other service on) in its
own process with its own PREFECT_HOME, on SQLite or on a throw-away PostgreSQL database, with the
settings `make server` gives it (basic auth with the credential it generates into the operator's
environment file, lease storage on disk) plus short service loops so a test does not wait
minutes for a run to go Late. `cli()` runs the `prefect` commands the README tells an operator
to type, against that server, with the credential; `worker()` runs a process worker.
`api_request()` is the test's own REST call, retried on a transient 5xx as an operator would.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from deployments.server_auth import CLIENT_SETTING, ensure_credential

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_ADMIN_URL = os.environ.get(
    "BILLING_SYNC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
START_TIMEOUT = 120.0
# A SQLite-backed server under load answers 503 (or 500 "database is locked") for a while; an
# operator would try again. Longer than that is a real failure.
TRANSIENT_WITHIN_SECONDS = 90.0
LATE_AFTER_SECONDS = 8
# Lines a healthy server may log at ERROR on SQLite (seen with every SQLAlchemy version): a
# worker heartbeat waiting on the database lock, and the event persister's empty insert of
# events it already stored. Anything else in the log fails the test.
KNOWN_SQLITE_NOISE = ("database is locked", "NOT NULL constraint failed: events.occurred")


LOG_ENTRY = re.compile(r"^\d\d:\d\d:\d\d\.\d+ \|")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class PrefectServer:
    api_url: str
    home: Path
    log: Path
    backend: str
    credential: str

    @property
    def ui_url(self) -> str:
        return self.api_url.removesuffix("/api")

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a shell an operator configured for this server."""
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("PREFECT_")  # the test session's own Prefect settings
        }
        return environment | {
            "PREFECT_API_URL": self.api_url,
            CLIENT_SETTING: self.credential,
            "PREFECT_HOME": str(self.home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PWD": str(ROOT),  # prefect.yaml's pull step: {{ $PWD }}
            **extra,
        }

    def errors_in_log(self) -> list[str]:
        """The server's ERROR entries (first line each, traceback included in the match)."""
        entries: list[list[str]] = []
        for line in self.log.read_text(errors="replace").splitlines():
            if LOG_ENTRY.match(line) or not entries:
                entries.append([line])
            else:
                entries[-1].append(line)
        return [
            entry[0]
            for entry in entries
            if ("| ERROR" in entry[0] or "| CRITICAL" in entry[0])
            and not (
                self.backend == "sqlite" and any(n in "\n".join(entry) for n in KNOWN_SQLITE_NOISE)
            )
        ]


def cli(server: PrefectServer, *arguments: str, timeout: float = 180) -> str:
    """Run `prefect ...` from the project root; its output, or an AssertionError with it."""
    return python(server, "-m", "prefect", "--no-prompt", *arguments, timeout=timeout)


def python(server: PrefectServer, *arguments: str, timeout: float = 180) -> str:
    """Run `python ...` (e.g. the project's own commands) against the server."""
    done = subprocess.run(
        [sys.executable, *arguments],
        cwd=ROOT,
        env=server.env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"python {' '.join(arguments)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@contextmanager
def prefect_server(backend: str, workdir: Path) -> Iterator[PrefectServer]:
    port = free_port()
    home = workdir / f"prefect-home-{backend}"
    home.mkdir(parents=True)
    api_url = f"http://127.0.0.1:{port}/api"
    credential = ensure_credential(home)  # as `make server` does
    server = PrefectServer(api_url, home, workdir / "server.log", backend, credential)
    settings = {
        "PREFECT_SERVER_API_AUTH_STRING": credential,
        "PREFECT_SERVER_UI_API_URL": api_url,
        "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE": (
            "prefect.server.concurrency.lease_storage.filesystem"
        ),
        "PREFECT_UI_URL": f"http://127.0.0.1:{port}",
        "PREFECT_SERVER_SERVICES_LATE_RUNS_AFTER_SECONDS": str(LATE_AFTER_SECONDS),
        "PREFECT_SERVER_SERVICES_LATE_RUNS_LOOP_SECONDS": "2",
        "PREFECT_SERVER_SERVICES_PAUSE_EXPIRATIONS_LOOP_SECONDS": "2",
    }
    with _database(backend) as database_url:
        if database_url:
            settings["PREFECT_API_DATABASE_CONNECTION_URL"] = database_url
        with server.log.open("w") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "prefect",
                    "server",
                    "start",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ],
                cwd=ROOT,
                env=server.env(**settings),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                _wait_healthy(server, process)
                yield server
            finally:
                _stop(process)


@contextmanager
def worker(server: PrefectServer, pool: str, *options: str) -> Iterator[subprocess.Popen[bytes]]:
    log = (server.log.parent / f"worker-{pool}.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "prefect", "worker", "start", "--pool", pool, *options],
        cwd=ROOT,
        env=server.env(PREFECT_WORKER_QUERY_SECONDS="1"),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        _stop(process)
        log.close()


@contextmanager
def _database(backend: str) -> Iterator[str | None]:
    if backend == "sqlite":
        yield None
        return
    name = f"billing_sync_e2e_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


async def api_request(
    server: PrefectServer,
    method: str,
    path: str,
    *,
    credential: str | None,
    **options: Any,
) -> httpx.Response:
    """The test's own call to the server's REST API (basic auth with `credential`, if any), as an
    operator would make it: a transient answer (5xx, connection error) is tried again, for at
    most TRANSIENT_WITHIN_SECONDS; the last answer is returned, whatever it is, for the test to
    judge."""
    headers = {}
    if credential is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(credential.encode()).decode()
    deadline = time.monotonic() + TRANSIENT_WITHIN_SECONDS
    pause = 1.0
    async with httpx.AsyncClient(base_url=server.api_url, headers=headers, timeout=30) as api:
        while True:
            try:
                answer = await api.request(method, path.lstrip("/"), **options)
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
            else:
                if answer.status_code < 500 or time.monotonic() > deadline:
                    return answer
            await asyncio.sleep(pause)
            pause = min(pause * 2, 10.0)


def _wait_healthy(server: PrefectServer, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"prefect server exited:\n{server.log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{server.api_url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"prefect server not healthy in {START_TIMEOUT} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
