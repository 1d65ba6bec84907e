"""Benchmark: the subscription-events flow on 1,000 pending events over 200 subscriptions.

    python -m benchmarks.subscription_events [--events-per-subscription 5] [--latency 0.025]

The ERP is a fresh SQLite file; the gateway is the Pagar.me (Mundipagg) sandbox on a loopback
port, in its own process (like the real, remote gateway: it must not compete for this process's
GIL), with the given latency per request. Each subscription gets A_N (two requests: the lookup
by code, then the creation), A_EDP (two: the subscription's next_billing_at, then the change),
IA_E, CLI_E and F_AA (one request each). The flow runs
through a throw-away Prefect API; `wall_s` is the flow run alone (not the API start). Prints
exactly one line: `BENCH {json}` (Prefect logs go to stderr).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

from cryptography.fernet import Fernet
from prefect.testing.utilities import prefect_test_harness
from pydantic import SecretStr
from sqlalchemy import create_engine

from blocks.gym_erp.block import GymErpDatabase
from blocks.gym_erp.cards import FernetCardKey
from blocks.gym_erp.database import count_rows
from blocks.gym_erp.schema import create_schema
from blocks.mundipagg.block import Mundipagg
from flows.subscription_events import subscription_events
from sandbox.gym_demo import GymErp
from sandbox.mundipagg import BASE_PATH, MundipaggSandbox
from sandbox.server import serve

BLOCK = "benchmark"
EVENT_CYCLE = ("A_N", "IA_E", "A_EDP", "CLI_E", "F_AA")


def queue_events(gym: GymErp, subscriptions: int, per_subscription: int) -> int:
    for number in range(1, subscriptions + 1):
        gym.customer(number, f"Aluno {number}")
        gym.card(number, number)
        (item,) = gym.subscription(number, number, number)
        for sigla in (EVENT_CYCLE * per_subscription)[:per_subscription]:
            gym.event(sigla, {"IA_E": item, "CLI_E": number}.get(sigla, number))
    return subscriptions * per_subscription


def serve_gateway(latency: float, control: Connection) -> None:
    """Child process: serve the sandbox, send its URL, and on request its request count."""
    gateway = MundipaggSandbox(latency=latency)
    with serve(gateway.app) as url:
        control.send((url, gateway.secret_key))
        control.recv()
        control.send(gateway.requests)


@contextmanager
def remote_gateway(latency: float) -> Iterator[tuple[str, str, Callable[[], int]]]:
    """(base URL, secret key, request counter) of a sandbox served by a child process."""
    ours, theirs = multiprocessing.get_context("spawn").Pipe()
    child = multiprocessing.get_context("spawn").Process(
        target=serve_gateway, args=(latency, theirs), daemon=True
    )
    child.start()
    url, secret_key = ours.recv()

    def requests_served() -> int:
        ours.send("count")
        return int(ours.recv())

    try:
        yield url + BASE_PATH, secret_key, requests_served
    finally:
        child.terminate()
        child.join()


async def measure(
    directory: Path, options: argparse.Namespace, gateway: tuple[str, str, Callable[[], int]]
) -> dict[str, Any]:
    url = f"sqlite:///{directory / 'gym_erp.db'}"
    engine = create_engine(url)
    create_schema(engine)
    card_key = FernetCardKey(key=SecretStr(Fernet.generate_key().decode()))
    gym = GymErp(engine, card_key.cipher())
    events = queue_events(gym, options.subscriptions, options.events_per_subscription)
    base_url, secret_key, requests_served = gateway
    await GymErpDatabase(url=SecretStr(url)).save(BLOCK, overwrite=True)
    await card_key.save(BLOCK, overwrite=True)
    await Mundipagg(base_url=base_url, secret_key=SecretStr(secret_key)).save(BLOCK, overwrite=True)
    started = time.perf_counter()
    report = await subscription_events(
        max_concurrent_customers=options.concurrency,
        erp_block=BLOCK,
        mundipagg_block=BLOCK,
        card_key_block=BLOCK,
    )
    wall = time.perf_counter() - started
    requests = requests_served()
    processed = count_rows(engine, "util_eventos_mundipagg", processado="P")
    engine.dispose()
    lower_bound = requests * options.latency / options.concurrency
    return {
        "scenario": "subscription-events",
        "events": events,
        "subscriptions": options.subscriptions,
        "processed": processed,
        "failed": report.counts["E"],
        "gateway_requests": requests,
        "latency_s": options.latency,
        "concurrency": options.concurrency,
        "wall_s": round(wall, 2),
        "sequential_s": round(requests * options.latency, 2),
        "lower_bound_s": round(lower_bound, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=200)
    parser.add_argument("--events-per-subscription", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.025, help="seconds per request")
    parser.add_argument("--concurrency", type=int, default=10, help="customers at once")
    options = parser.parse_args()
    with (
        remote_gateway(options.latency) as gateway,
        tempfile.TemporaryDirectory(prefix="bench-events-") as scratch,
        prefect_test_harness(server_startup_timeout=90),
    ):
        result = asyncio.run(measure(Path(scratch), options, gateway))
    print("BENCH " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
