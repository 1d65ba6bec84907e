"""Soak: contract-sync again and again against a faulty sandbox whose data keeps drifting.

    python -m benchmarks.soak [--runs 24] [--customers 300] [--fault-rate 0.1] [--seed 1]

Every system (MagnusBilling, IXC, Discord) answers a `--fault-rate` share of requests with a
random injected fault of any kind (5xx, 429 with Retry-After, timeouts, resets, HTML/plaintext
200, truncated JSON). Before each run the data drifts: IXC contracts change status (customers
stop or start paying, leave) and operators change a few Magnus customers by hand.

After every run the sandbox is checked against an oracle written here from the decision table
in DESIGN.md (independent of `contract_sync`): each customer either has the status the table says,
or kept its status and the run reported why (a failed change, a Skip, a failed read); anything
else is a wrong write or a lost change. After the last run one fault-free run lets pending
announcements go out, then every Discord announcement is matched with the changes really made.

One line `SOAK {json}` goes to stdout: runs, fault_rate, faults_injected, changes_intended,
changes_applied, changes_reported_not_applied, wrong_writes, duplicate_notifications,
lost_changes (intended, not applied and not reported), unannounced_changes (applied, never
announced even after the final run), failed_runs, wall_s. The exit status is 1 when
wrong_writes, duplicate_notifications, lost_changes or unannounced_changes is not 0.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "CRITICAL")  # the retries would flood the console

from prefect.testing.utilities import prefect_test_harness

from contract_sync.decide import Action
from contract_sync.outcome import Result
from flows.contract_sync import contract_sync
from sandbox.faults import FaultKind
from sandbox.stack import CHANGES_WEBHOOK, SandboxStack, decision_rows, running_stack
from sandbox.world import synthetic_provider

BLOCK = "soak"

# ---- the oracle: DESIGN.md's decision table, written again on purpose ------------------------

ACTIVE, BLOCKED, INACTIVE, UNKNOWN = "active", "blocked", "inactive", "unknown"
TABLE = {  # (Magnus, IXC) -> the `active` the customer must end with (None: leave it)
    (ACTIVE, BLOCKED): 4,
    (ACTIVE, INACTIVE): 0,
    (BLOCKED, ACTIVE): 1,
    (BLOCKED, INACTIVE): 0,
    (INACTIVE, ACTIVE): 1,
}


def magnus_says(active: Any) -> str:
    return {1: ACTIVE, 0: INACTIVE, 2: BLOCKED, 3: BLOCKED, 4: BLOCKED}.get(active, UNKNOWN)


def ixc_says(contract: dict[str, Any] | None) -> str:
    if contract is None:
        return UNKNOWN
    status = str(contract.get("status") or "").strip().upper()
    internet = str(contract.get("status_internet") or "").strip().upper()
    if status in ("I", "D"):
        return INACTIVE
    if status in ("A", "P", "N") and internet:
        if internet == "A":
            return ACTIVE
        if internet in ("CM", "CA", "FA", "AA", "D"):
            return BLOCKED
        return UNKNOWN
    if not internet:
        return {"A": ACTIVE, "N": BLOCKED}.get(status, UNKNOWN)
    return UNKNOWN


def expected_targets(stack: SandboxStack) -> dict[int, int]:
    """Magnus id -> the status the table wants, for every customer that must change."""
    with stack.magnus.lock, stack.ixc.lock:
        users = {uid: dict(user) for uid, user in stack.magnus.users.items()}
        contracts = {cid: dict(c) for cid, c in stack.ixc.contracts.items()}
    targets = {}
    for uid, user in users.items():
        dist = str(user.get("dist") or "").strip()
        if not dist.isdigit():
            continue
        target = TABLE.get((magnus_says(user.get("active")), ixc_says(contracts.get(int(dist)))))
        if target is not None:
            targets[uid] = target
    return targets


# ---- drift ------------------------------------------------------------------------------------

CONTRACT_STATES = [("A", "A")] * 6 + [("A", "CA"), ("A", "FA"), ("A", "CM"), ("I", "D"), ("D", "D")]


def drift(stack: SandboxStack, rng: random.Random, contracts: int, operators: int) -> None:
    """Customers pay, stop paying or leave (IXC); operators change some Magnus users by hand."""
    with stack.magnus.lock:
        managed = [
            (uid, int(str(u["dist"]))) for uid, u in stack.magnus.users.items() if u.get("dist")
        ]
    for _, contract in rng.sample(managed, contracts):
        status, internet = rng.choice(CONTRACT_STATES)
        stack.ixc.update_contract(contract, status=status, status_internet=internet)
    for uid, _ in rng.sample(managed, operators):
        stack.magnus.update_user(uid, active=rng.choice([0, 1, 1, 4, 3]))


# ---- accounting -------------------------------------------------------------------------------


@dataclass
class Tally:
    runs: int = 0
    failed_runs: int = 0
    intended: int = 0
    applied: int = 0
    reported: int = 0
    wrong: int = 0
    lost: int = 0
    transitions: Counter[tuple[str, int]] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)


async def reported_usernames(state: Any) -> set[str] | None:
    """Customers the run's report says it did not change, and why. None: no report at all."""
    if "o MagnusBilling não pôde ser lido" in (state.message or ""):
        return None  # the run stopped before planning; its failed state says why
    rows = await decision_rows(state.state_details.flow_run_id)
    return {
        row["username"]
        for row in rows
        if row["action"] == Action.SKIP or row["result"] in (Result.FAILED, Result.NOT_ATTEMPTED)
    }


async def one_run(stack: SandboxStack, ledger: Path, tally: Tally, index: int) -> None:
    before = {uid: u["active"] for uid, u in stack.magnus.users.items()}
    usernames = {uid: str(u["username"]) for uid, u in stack.magnus.users.items()}
    targets = expected_targets(stack)
    state = await contract_sync(
        magnus_block=BLOCK,
        ixc_block=BLOCK,
        discord_block=BLOCK,
        ledger_path=str(ledger),
        unattended=True,
        return_state=True,
    )
    after = {uid: u["active"] for uid, u in stack.magnus.users.items()}
    reported = await reported_usernames(state) if state.is_failed() else set()
    tally.runs += 1
    tally.failed_runs += state.is_failed()
    tally.intended += len(targets)
    wrong = lost = 0
    for uid, now in after.items():
        if now != before[uid]:
            if targets.get(uid) == now:
                tally.applied += 1
                tally.transitions[(usernames[uid], now)] += 1
            else:
                wrong += 1
                tally.notes.append(
                    f"run {index}: user {uid} {before[uid]} -> {now}, table: {targets.get(uid)}"
                )
        elif uid in targets:
            if reported is None or usernames[uid] in reported:
                tally.reported += 1
            else:
                lost += 1
                tally.notes.append(f"run {index}: user {uid} should be {targets[uid]}, unreported")
    tally.wrong += wrong
    tally.lost += lost
    print(
        f"run {index:>3}: {state.type.value:<9} intended {len(targets):>3}, "
        f"wrong {wrong}, lost {lost} | {(state.message or '')[:110]}",
        file=sys.stderr,
    )


def announcements(stack: SandboxStack) -> Counter[tuple[str, int]]:
    """(username, new status) of every change announced on the changes webhook."""
    seen: Counter[tuple[str, int]] = Counter()
    for message in stack.messages_to(CHANGES_WEBHOOK):
        for embed in message.payload.get("embeds", []):
            fields = {f["name"]: f["value"] for f in embed.get("fields", [])}
            if "Usuário" in fields and "Novo status" in fields:
                seen[(fields["Usuário"], int(fields["Novo status"].split(" ")[0]))] += 1
        for _, data in message.attachments:
            for row in csv.DictReader(io.StringIO(data.decode())):
                seen[(row["username"], int(row["after"]))] += 1
    return seen


def set_faults(stack: SandboxStack, rate: float, seed: int) -> None:
    for number, system in enumerate((stack.magnus, stack.ixc, stack.discord)):
        system.faults.delay = 3.0  # beyond the 2 s client timeout
        system.faults.retry_after = 0.2
        system.faults.set_rate(rate, *FaultKind, seed=seed * 10 + number)


def save_blocks(stack: SandboxStack) -> None:
    # Small pages: more requests per run, so more of them meet a fault (and paging is exercised).
    magnus, ixc, discord = stack.blocks(timeout_seconds=2.0, page_size=50)
    ixc.timeout_seconds = 2.0
    ixc.page_size = ixc.batch_size = 60
    discord.timeout_seconds = 2.0
    discord.retry_base_seconds = 0.05
    discord.attempts = 4
    for block in (magnus, ixc, discord):
        block.save(BLOCK, overwrite=True)


async def soak(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    provider = synthetic_provider(
        customers=args.customers, contracts=args.customers * 3 // 2, drift=0.03, seed=args.seed
    )
    tally = Tally()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as scratch, running_stack(provider) as stack:
        ledger = Path(scratch) / "ledger.sqlite3"
        await asyncio.to_thread(save_blocks, stack)
        set_faults(stack, args.fault_rate, args.seed)
        for index in range(1, args.runs + 1):
            if index > 1:
                drift(stack, rng, contracts=rng.randint(3, 12), operators=rng.randint(0, 3))
            await one_run(stack, ledger, tally, index)
        injected = sum(
            sum(s.faults.injected.values()) for s in (stack.magnus, stack.ixc, stack.discord)
        )
        set_faults(stack, 0.0, args.seed)
        await one_run(stack, ledger, tally, args.runs + 1)  # fault-free: announce what is owed
        announced = announcements(stack)
    duplicates = sum(max(0, n - tally.transitions[key]) for key, n in announced.items())
    unannounced = sum(max(0, n - announced[key]) for key, n in tally.transitions.items())
    for note in tally.notes[:20]:
        print(note, file=sys.stderr)
    return {
        "runs": tally.runs,
        "faulty_runs": args.runs,
        "fault_rate": args.fault_rate,
        "faults_injected": injected,
        "customers": args.customers,
        "changes_intended": tally.intended,
        "changes_applied": tally.applied,
        "changes_reported_not_applied": tally.reported,
        "wrong_writes": tally.wrong,
        "duplicate_notifications": duplicates,
        "lost_changes": tally.lost,
        "unannounced_changes": unannounced,
        "failed_runs": tally.failed_runs,
        "wall_s": round(time.monotonic() - started, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=24, help="faulty runs (a clean one follows)")
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--fault-rate", type=float, default=0.10)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with prefect_test_harness(server_startup_timeout=90):
        result = asyncio.run(soak(args))
    print("SOAK " + json.dumps(result), flush=True)
    bad = ("wrong_writes", "duplicate_notifications", "lost_changes", "unannounced_changes")
    return 1 if any(result[key] for key in bad) else 0


if __name__ == "__main__":
    sys.exit(main())
