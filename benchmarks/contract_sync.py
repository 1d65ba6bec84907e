"""Benchmark: contract-sync at provider scale, through Prefect, against a slow sandbox.

    python -m benchmarks.contract_sync [--latency 0.025] [--only 1k,10k,100k,...] [--profile DIR]

Scenarios: 1k, 10k, 100k (customers, 5 contracts each, 1% drift), 10k-60-changes-real-cost
(0.6% drift), first-run-1000-changes (10k customers, 10% drift) and prefect-floor.
`--profile DIR` writes a pyinstrument report (.txt, .html, .pyisession) per flow run.

A Magnus save costs what it costs on a real MagnusBilling (sandbox/asterisk.py: 0.06 s + 0.444 ms
per SIP account, ~4.5 s at 10k customers, the server's CPU shared by the saves in flight), times
the scenario's `save_cost_scale`. At the real cost 1,000 changes at 10k customers are ~75 min of
saves, so only 1k and 10k-60-changes-real-cost (~4.5 min of saves) run at scale 1; 10k runs its
saves at 0.05, 100k at 0.001 and first-run-1000-changes at 0.02 (90 ms a save, ~90 s of saves).
A scaled line says so in `save_cost_note`.

Each scenario builds a synthetic provider (sandbox.world.synthetic_provider) in a child process
that serves MagnusBilling, IXC and Discord on 127.0.0.1 with `--latency` seconds per request
(sandbox.bench_server: the emulators do real CPU work and must not share the flow's GIL, just as
the real systems run elsewhere). The flow runs in this process through a throw-away Prefect API
(its start-up is not timed). For each scenario one line `BENCH {json}` goes to stdout:

- customers / contracts / changes: provider size and changes written (Magnus saves).
- magnus_requests / ixc_requests / discord_requests: requests each emulator received.
- wall_s: the flow run alone, from the call to its final state.
- peak_rss_mb: peak resident memory of this (the flow's) process during the scenario, sampled
  every 10 ms from /proc (ru_maxrss is monotonic across scenarios, so it is not used).
- lower_bound_s: the round trips that cannot be avoided, times the latency: reads in the pages
  the flow asked for (the first page, then the rest `max_concurrency` at a time), per change a
  re-read and a save (one save at a time per Magnus server), and the Discord messages one
  after another.
- naive_wall_s / naive_method: the old service's way, one IXC request per managed customer,
  one after another. Measured for real on the "1k" scenario; for larger ones, extrapolated from
  the per-request time measured there (naive_method says which).
- prefect_overhead_s (the "-no-change" lines: the same provider run again once its drift is
  fixed, median of 3 runs): the flow's wall time minus the same work done with the same
  clients and functions without Prefect (no task runs, no artifacts, no ledger).
- save_cost_scale, writes_wall_s, server_floor_s, wall_over_floor, overlapping_saves,
  torn_reloads, save_s_p50/p95/max: the Magnus saves as the emulator saw them. writes_wall_s runs
  from the first save's start to the last one's end; server_floor_s is the sum of what each save
  costs alone (the server cannot write faster); wall_over_floor is their ratio (goal <= 1.15).
  overlapping_saves counts saves that started while another was in flight and torn_reloads the
  Asterisk reloads that read a half-written peers file (goal 0: on a real server those drop
  phones). save_s_* are the saves' own durations (an overlapped save lasts longer).
- On a scaled line, real_floor_s is the floor at the real cost (server_floor_s / scale) and
  real_wall_over_floor_estimate assumes the writes' time outside the saves (writes_wall_s -
  server_floor_s) stays the same at the real cost.
- loadavg_1m: the machine's load when the line was printed (other jobs inflate wall times).
- The last line is Prefect's own floor: 1,000 task runs that do nothing, 8 at a time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")

import httpx
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.testing.utilities import prefect_test_harness

from blocks.ixc.block import Ixc
from blocks.magnusbilling.block import MagnusBilling
from contract_sync.plan import build_plan, contract_ids, planned_changes
from contract_sync.report import RunReport
from flows.contract_sync import contract_sync
from sandbox.bench_server import ProviderSpec, RemoteStack, remote_stack

BLOCK = "benchmark"
# Every scenario writes more blocks/disables than the default guard lets through unasked (1% of
# 100k is 1,000 changes): the bench runs as if an operator approved them (raised limits), and
# unattended, so a tripped guard aborts instead of pausing for an hour.
APPROVED = {"max_harmful_share": 1.0, "max_harmful_count": 1_000_000, "unattended": True}
WRITE_CONCURRENCY = 8
NO_CHANGE_RUNS = 3


@dataclass(frozen=True)
class Scenario:
    name: str
    spec: ProviderSpec
    naive_measured: bool = False
    no_change_rerun: bool = False


SCENARIOS = (
    Scenario("1k", ProviderSpec(1_000, 5_000, 0.01, seed=1), naive_measured=True),
    Scenario(
        "10k",
        ProviderSpec(10_000, 50_000, 0.01, seed=2, save_cost_scale=0.05),
        no_change_rerun=True,
    ),
    Scenario("10k-60-changes-real-cost", ProviderSpec(10_000, 50_000, 0.006, seed=5)),
    Scenario(
        "100k",
        ProviderSpec(100_000, 500_000, 0.01, seed=3, save_cost_scale=0.001),
        no_change_rerun=True,
    ),
    Scenario(
        "first-run-1000-changes", ProviderSpec(10_000, 50_000, 0.10, seed=4, save_cost_scale=0.02)
    ),
)


class PeakRss:
    """Samples this process's resident memory in a thread; `peak_mb` is the highest seen."""

    def __init__(self, interval: float = 0.01) -> None:
        self.interval = interval
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _rss_kb() -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, self._rss_kb())
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRss:
        self.peak_kb = self._rss_kb()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_kb = max(self.peak_kb, self._rss_kb())

    @property
    def peak_mb(self) -> float:
        return round(self.peak_kb / 1024, 1)


async def save_blocks(stack: RemoteStack) -> tuple[MagnusBilling, Ixc]:
    magnus, ixc, discord = stack.blocks()
    for block in (magnus, ixc, discord):
        await block.asave(BLOCK, overwrite=True)
    return magnus, ixc


PROFILE_DIR: str | None = None  # --profile: write a pyinstrument report per flow run here


@contextmanager
def profiled(name: str) -> Iterator[None]:
    if PROFILE_DIR is None:
        yield
        return
    from pyinstrument import Profiler

    profiler = Profiler(async_mode="disabled", interval=0.001)
    profiler.start()
    try:
        yield
    finally:
        profiler.stop()
        os.makedirs(PROFILE_DIR, exist_ok=True)
        path = os.path.join(PROFILE_DIR, name)
        with open(path + ".txt", "w") as out:
            out.write(profiler.output_text(unicode=True, show_all=False))
        with open(path + ".html", "w") as out:
            out.write(profiler.output_html())
        if profiler.last_session is not None:
            profiler.last_session.save(path + ".pyisession")


async def run_flow(name: str) -> tuple[Any, float, float]:
    """(final state, wall seconds, peak RSS MB) of one flow run."""
    with PeakRss() as rss, profiled(name):
        started = time.perf_counter()
        state = await contract_sync(
            magnus_block=BLOCK,
            ixc_block=BLOCK,
            discord_block=BLOCK,
            **APPROVED,
            return_state=True,
        )
        wall = time.perf_counter() - started
    return state, wall, rss.peak_mb


async def without_prefect(magnus_block: MagnusBilling, ixc_block: Ixc) -> float:
    """The no-change run's work with the same clients and functions, no Prefect: seconds."""
    started = time.perf_counter()
    async with magnus_block.client() as magnus, ixc_block.client() as ixc:
        users = await magnus.read_users()
        contracts = await ixc.contracts(contract_ids(users.users))
        plan = build_plan(
            users.users,
            contracts.contracts,
            contracts.failed_ids,
            ixc_block.status_mapping,
            magnus_block.block_status,
        )
        changes = planned_changes(plan)
    report = RunReport(plan=plan, outcomes={}, dry_run=False, problems=[])
    report.table_rows()
    report.markdown()
    if changes:
        raise AssertionError("the no-change run found changes")
    return time.perf_counter() - started


async def naive_ixc(magnus_block: MagnusBilling, ixc_block: Ixc) -> tuple[int, float]:
    """The old way: one IXC request per managed customer, one after the other.

    Returns (requests, seconds) for the IXC part only (the Magnus read is not counted, which
    flatters the old way).
    """
    async with magnus_block.client() as magnus:
        ids = contract_ids((await magnus.read_users()).users)
    user, _, password = ixc_block.token.get_secret_value().partition(":")
    async with httpx.AsyncClient(
        base_url=ixc_block.base_url,
        auth=httpx.BasicAuth(user, password),
        headers={"ixcsoft": "listar"},
    ) as http:
        started = time.perf_counter()
        for contract_id in ids:
            body = {
                "qtype": "cliente_contrato.id",
                "query": str(contract_id),
                "oper": "=",
                "page": "1",
                "rp": "1",
            }
            answer = await http.post("/webservice/v1/cliente_contrato", json=body)
            if answer.json().get("total") != "1":
                raise AssertionError(f"contract {contract_id} not found the naive way")
        return len(ids), time.perf_counter() - started


def lower_bound(
    latency: float,
    magnus_reads: int,
    ixc_reads: int,
    changes: int,
    discord: int,
    magnus_block: MagnusBilling,
    ixc_block: Ixc,
) -> float:
    """Round trips on the critical path x latency (see the module docstring)."""

    def paged(requests: int, concurrency: int) -> int:
        return 0 if requests == 0 else 1 + math.ceil((requests - 1) / concurrency)

    trips = (
        paged(magnus_reads, magnus_block.max_concurrency)
        + paged(ixc_reads, ixc_block.max_concurrency)
        + 2 * changes
        + discord
    )
    return trips * latency


def save_figures(saves: dict[str, Any], scale: float) -> dict[str, Any]:
    """The Magnus saves of one run against the server's own floor (see the module docstring)."""
    durations = sorted(saves["save_seconds"])
    floor = sum(saves["save_cost_seconds"])
    wall = saves["span_seconds"]
    figures: dict[str, Any] = {
        "save_cost_scale": scale,
        "writes_wall_s": round(wall, 2),
        "server_floor_s": round(floor, 2),
        "wall_over_floor": round(wall / floor, 3) if floor else None,
        "overlapping_saves": saves["overlapping_saves"],
        "torn_reloads": saves["torn_reloads"],
    }
    if durations:
        figures |= {
            "save_s_p50": round(statistics.median(durations), 3),
            "save_s_p95": round(durations[math.ceil(0.95 * len(durations)) - 1], 3),
            "save_s_max": round(durations[-1], 3),
        }
    if scale != 1 and floor:
        real_floor = floor / scale
        figures["real_floor_s"] = round(real_floor, 1)
        figures["real_wall_over_floor_estimate"] = round(
            (real_floor + wall - floor) / real_floor, 3
        )
        figures["save_cost_note"] = (
            f"scaled: each save cost {scale:g} x what the real server takes "
            f"({floor / len(durations):.3f} s instead of {real_floor / len(durations):.2f} s); "
            f"the real writes could not take less than {real_floor / 60:.1f} min"
        )
    return figures


async def measure(
    scenario: Scenario, stack: RemoteStack, latency: float, naive_per_request: float | None
) -> list[dict[str, Any]]:
    lines = []
    magnus_block, ixc_block = await save_blocks(stack)
    stack.reset_counters()
    state, wall, peak = await run_flow(scenario.name)
    counters = stack.counters()
    saves = save_figures(stack.saves(), scenario.spec.save_cost_scale)
    check = stack.check()
    changes = counters["saves"]
    magnus_reads = counters["magnus"] - changes * 2  # each change: one re-read, one save
    result = {
        "scenario": scenario.name,
        "customers": scenario.spec.customers,
        "contracts": scenario.spec.contracts,
        "drift": scenario.spec.drift,
        "changes": changes,
        "drifted_fixed": f"{check['fixed']}/{check['drifted']}",
        "state": state.type.value,
        "magnus_requests": counters["magnus"],
        "ixc_requests": counters["ixc"],
        "discord_requests": counters["discord"],
        "latency_s": latency,
        "wall_s": round(wall, 2),
        "peak_rss_mb": peak,
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "lower_bound_s": round(
            lower_bound(
                latency,
                magnus_reads,
                counters["ixc"],
                changes,
                counters["discord"],
                magnus_block,
                ixc_block,
            ),
            3,
        ),
        **saves,
    }
    managed = stack.managed
    if scenario.naive_measured:
        stack.reset_counters()
        requests, seconds = await naive_ixc(magnus_block, ixc_block)
        naive_per_request = seconds / requests
        result["naive_wall_s"] = round(seconds, 2)
        result["naive_per_request_s"] = round(naive_per_request, 5)
        result["naive_method"] = (
            f"measured: {requests} sequential IXC requests, one per managed customer "
            f"({naive_per_request * 1000:.1f} ms each; IXC part only)"
        )
    elif naive_per_request is not None:
        result["naive_wall_s"] = round(managed * naive_per_request, 2)
        result["naive_method"] = (
            f"extrapolated: {managed} managed customers x {naive_per_request * 1000:.1f} ms "
            "per sequential IXC request measured in scenario 1k (IXC part only)"
        )
    if "naive_wall_s" in result:
        result["speedup_vs_naive"] = round(result["naive_wall_s"] / wall, 1)
    lines.append(result)

    if scenario.no_change_rerun:
        walls = []
        for _ in range(NO_CHANGE_RUNS):  # short runs vary (GC, the API server's own work)
            stack.reset_counters()
            state, wall, peak = await run_flow(f"{scenario.name}-no-change")
            walls.append(wall)
        wall = statistics.median(walls)
        counters = stack.counters()
        stack.reset_counters()
        direct = await without_prefect(magnus_block, ixc_block)
        lines.append(
            {
                "scenario": f"{scenario.name}-no-change",
                "customers": scenario.spec.customers,
                "contracts": scenario.spec.contracts,
                "changes": counters["saves"],
                "state": state.type.value,
                "magnus_requests": counters["magnus"],
                "ixc_requests": counters["ixc"],
                "discord_requests": counters["discord"],
                "latency_s": latency,
                "wall_s": round(wall, 2),
                "wall_s_runs": [round(w, 2) for w in walls],
                "loadavg_1m": round(os.getloadavg()[0], 2),
                "without_prefect_s": round(direct, 2),
                "prefect_overhead_s": round(wall - direct, 2),
                "peak_rss_mb": peak,
                "lower_bound_s": round(
                    lower_bound(
                        latency,
                        counters["magnus"],
                        counters["ixc"],
                        0,
                        counters["discord"],
                        magnus_block,
                        ixc_block,
                    ),
                    3,
                ),
            }
        )
    return lines


@task(name="no-op", cache_policy=NO_CACHE)
async def no_op(number: int) -> int:
    return number


@flow(name="prefect-floor")
async def many_task_runs(runs: int, concurrency: int) -> float:
    """`runs` task runs that do nothing, `concurrency` at once: Prefect's own cost per task run."""
    limit = asyncio.Semaphore(concurrency)

    async def one(number: int) -> None:
        async with limit:
            await no_op(number, return_state=True)  # type: ignore[misc]  # Prefect types an async task's State as not awaited

    started = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(runs)))
    return time.perf_counter() - started


async def prefect_floor(runs: int) -> dict[str, Any]:
    """What one task run per change costs by itself, whatever the change does."""
    started = time.perf_counter()
    inside = await many_task_runs(runs, WRITE_CONCURRENCY)
    return {
        "scenario": f"prefect-floor-{runs}-no-op-task-runs",
        "task_runs": runs,
        "concurrency": WRITE_CONCURRENCY,
        "wall_s": round(time.perf_counter() - started, 2),
        "task_runs_s": round(inside, 2),
        "per_task_run_ms": round(inside / runs * 1000, 1),
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.025, help="seconds per request")
    parser.add_argument("--only", default="", help="comma-separated scenario names (default: all)")
    parser.add_argument("--profile", metavar="DIR", help="pyinstrument report per flow run")
    options = parser.parse_args()
    global PROFILE_DIR
    PROFILE_DIR = options.profile
    chosen = [s for s in SCENARIOS if not options.only or s.name in options.only.split(",")]
    naive_per_request: float | None = None
    with (
        tempfile.TemporaryDirectory(prefix="bench-contract-sync-") as scratch,
        prefect_test_harness(server_startup_timeout=90),
    ):
        # The flow's durable notification ledger (SQLite): a fresh file, not the user's.
        os.environ.setdefault("CONTRACT_SYNC_LEDGER_PATH", os.path.join(scratch, "ledger.db"))
        for scenario in chosen:
            with remote_stack(scenario.spec, latency=options.latency) as stack:
                lines = asyncio.run(measure(scenario, stack, options.latency, naive_per_request))
            for line in lines:
                naive_per_request = line.get("naive_per_request_s", naive_per_request)
                print("BENCH " + json.dumps(line), flush=True)
        if not options.only or "prefect-floor" in options.only:
            print("BENCH " + json.dumps(asyncio.run(prefect_floor(1000))), flush=True)
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"benchmark process peak RSS (ru_maxrss): {maxrss:.0f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()
