"""Benchmark: "IXC says paid" -> "Magnus active" with the restore lane, while an hourly run
writes blocks at the calibrated save cost.

    python -m benchmarks.restore_lane [--blocks 60] [--rounds 6] [--paying 3]
        [--sip-accounts 10000] [--every-minutes 5] [--start-overhead 30]

How the figure is obtained (measured, then combined with the schedule by simulation):

1. Measured. The sandbox serves a provider of 2,000 customers whose Magnus saves cost what a
   real MagnusBilling's do with `--sip-accounts` SIP accounts (sandbox/asterisk.py: 0.06 s +
   0.444 ms per account, ~4.5 s at 10,000). `--blocks` customers are made blocked in IXC and an
   hourly contract-sync run is started: it writes those blocks, one save at a time, for minutes.
   While it writes, `--rounds` times: `--paying` blocked customers are made paid in IXC, and a
   restore run (contract-restore) is started at once; the time from "IXC says paid" to each
   customer's `active` being 1 in Magnus is taken (polled every 50 ms). That is the lane's own
   latency under load: its reads, its wait for the per-save lock behind the hourly run's save in
   flight, its saves.
2. Simulated. A payment arrives at a uniformly random moment of the lane's schedule; the next
   run starts at the next tick (`--every-minutes`), plus the time a worker takes to start a flow
   run (`--start-overhead` seconds: not measured here - a process worker polls every 10 s and
   starts a Python process; 30 s is a conservative figure for 2 busy cores), plus a latency
   drawn from the measured ones. 100,000 draws give p50 / p95 / max.

Prints one `BENCH {json}` line: the measured latencies, the hourly run's progress during the
rounds, the emulator's `overlapping_saves` / `torn_reloads` (must be 0), and the simulated
percentiles against the goal (p95 <= 6 min). The flows run in this process through a
throw-away Prefect API (start-up not timed); the emulators are served from this process too
(a save's cost is waiting, not CPU, so they barely compete with the flows).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")

from prefect.testing.utilities import prefect_test_harness

from flows.contract_restore import contract_restore
from flows.contract_sync import contract_sync
from sandbox.stack import SandboxStack, running_stack
from sandbox.world import synthetic_provider

BLOCK = "restore-benchmark"
APPROVED = {"max_harmful_share": 1.0, "max_harmful_count": 1_000_000, "unattended": True}
GOAL_P95_MINUTES = 6.0
DRAWS = 100_000


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def until_active(stack: SandboxStack, uid: int, since: float) -> float:
    """Seconds from `since` until Magnus has `uid` active."""
    while True:
        if stack.magnus.user(uid)["active"] == 1:
            return time.monotonic() - since
        await asyncio.sleep(0.05)


async def measure(stack: SandboxStack, options: argparse.Namespace, ledger: Path) -> dict[str, Any]:
    magnus, ixc = stack.magnus, stack.ixc
    managed = {uid: magnus.user(uid) for uid in magnus.users if magnus.user(uid)["dist"]}
    active = [uid for uid, user in managed.items() if user["active"] == 1]
    blocked = [uid for uid, user in managed.items() if user["active"] == 4]
    rng = random.Random(5)
    to_block = rng.sample(active, options.blocks)
    paying = rng.sample(blocked, options.rounds * options.paying)
    for uid in to_block:
        ixc.update_contract(int(managed[uid]["dist"]), status="A", status_internet="CA")
    magnus.reset_counters()
    common = {"magnus_block": BLOCK, "ixc_block": BLOCK, "discord_block": BLOCK}
    common["ledger_path"] = str(ledger)
    hourly = asyncio.ensure_future(contract_sync(**common, **APPROVED, return_state=True))
    while True:  # the hourly run is writing blocks
        if any(magnus.user(uid)["active"] == 4 for uid in to_block):
            break
        await asyncio.sleep(0.2)
    latencies: list[float] = []
    blocks_left: list[int] = []
    restore_states: list[str] = []
    for round_ in range(options.rounds):
        chosen = paying[round_ * options.paying : (round_ + 1) * options.paying]
        paid_at = time.monotonic()
        for uid in chosen:
            ixc.update_contract(int(managed[uid]["dist"]), status="A", status_internet="A")
        watchers = [asyncio.create_task(until_active(stack, uid, paid_at)) for uid in chosen]
        state = await contract_restore(**common, return_state=True)
        restore_states.append(state.type.value)
        latencies += await asyncio.gather(*watchers)
        blocks_left.append(sum(1 for uid in to_block if magnus.user(uid)["active"] == 1))
    hourly_running_after_rounds = not hourly.done()
    hourly_state = await hourly
    saves = magnus.save_seconds
    return {
        "latencies": latencies,
        "blocks_left_after_each_round": blocks_left,
        "hourly_running_after_rounds": hourly_running_after_rounds,
        "hourly_state": hourly_state.type.value,
        "restore_states": restore_states,
        "save_s_median": round(statistics.median(saves), 3) if saves else None,
        "saves": magnus.saves,
        "overlapping_saves": magnus.overlapping_saves,
        "torn_reloads": magnus.torn_reloads,
    }


def simulate(latencies: list[float], every_s: float, start_overhead_s: float) -> list[float]:
    """Payment at a random moment of the schedule -> next tick + start-up + a measured latency."""
    rng = random.Random(7)
    return [
        rng.uniform(0, every_s) + start_overhead_s + rng.choice(latencies) for _ in range(DRAWS)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--paying", type=int, default=3)
    parser.add_argument("--sip-accounts", type=int, default=10_000)
    parser.add_argument("--every-minutes", type=float, default=5.0)
    parser.add_argument("--start-overhead", type=float, default=30.0)
    options = parser.parse_args()
    provider = synthetic_provider(customers=2_000, contracts=4_000, drift=0.0, seed=21)
    with (
        prefect_test_harness(server_startup_timeout=90),
        running_stack(provider, sip_accounts=options.sip_accounts) as stack,
        tempfile.TemporaryDirectory() as workdir,
    ):
        for block in stack.blocks(timeout_seconds=60):
            block.save(BLOCK, overwrite=True)
        started = time.monotonic()
        measured = asyncio.run(measure(stack, options, Path(workdir) / "ledger.sqlite3"))
        wall = time.monotonic() - started
    latencies = measured.pop("latencies")
    every_s = options.every_minutes * 60
    simulated = simulate(latencies, every_s, options.start_overhead)
    line = {
        "scenario": "restore-lane-during-hourly-blocks",
        "sip_accounts": options.sip_accounts,
        "hourly_blocks": options.blocks,
        "rounds": options.rounds,
        "paying_per_round": options.paying,
        "measured_paid_to_active_s": {
            "p50": round(statistics.median(latencies), 1),
            "p95": round(percentile(latencies, 0.95), 1),
            "max": round(max(latencies), 1),
            "n": len(latencies),
        },
        **measured,
        "schedule_every_s": every_s,
        "start_overhead_s": options.start_overhead,
        "simulated_paid_to_active_min": {
            "p50": round(percentile(simulated, 0.5) / 60, 2),
            "p95": round(percentile(simulated, 0.95) / 60, 2),
            "max": round(max(simulated) / 60, 2),
        },
        "goal_p95_min": GOAL_P95_MINUTES,
        "goal_met": percentile(simulated, 0.95) / 60 <= GOAL_P95_MINUTES,
        "wall_s": round(wall, 1),
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }
    print("BENCH " + json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
