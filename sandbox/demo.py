"""`make demo`: contract-sync for real, against a sandbox provider served on 127.0.0.1.

1. a dry run shows the plan (and that the mass-change guard would ask for approval);
2. the first synchronisation runs with the limits an operator approved for it;
3. a second run shows that, once in step, nothing changes.
Prefect runs embedded (no server to start); the runs stay in PREFECT_HOME for `make ui`.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

import pandas as pd
from prefect.client.schemas.objects import State

from flows.contract_sync import contract_sync
from sandbox.stack import CHANGES_WEBHOOK, SandboxStack, run_artifact, running_stack
from sandbox.world import demo_provider

APPROVED_FIRST_SYNC = {"max_harmful_share": 1.0, "max_harmful_count": 500}
QUIET = {"NoChange", "NotManaged"}


async def decisions(state: State[Any]) -> pd.DataFrame:
    rows = json.loads(
        await run_artifact(state.state_details.flow_run_id, "contract-sync-decisions")
    )
    return pd.DataFrame(rows)


def show(title: str, state: State[Any], table: pd.DataFrame, stack: SandboxStack) -> None:
    print(f"\n=== {title} ===")
    print(f"Run state: {state.name} - {state.message}")
    counts = table["action"].value_counts()
    print(
        "Decisions: "
        + ", ".join(f"{action} {counts.get(action, 0)}" for action in sorted(counts.index))
    )
    interesting = table[~table["action"].isin(QUIET)].copy()
    if interesting.empty:
        print("No change and nothing skipped.")
    else:
        interesting["customer"] = interesting["customer"].str.slice(0, 28)
        interesting["reason"] = interesting["reason"].str.slice(0, 60)
        columns = [
            "action",
            "username",
            "customer",
            "contract",
            "magnus_before",
            "magnus_after",
            "reason",
            "result",
        ]
        with pd.option_context(
            "display.max_rows", 400, "display.width", 220, "display.max_colwidth", 60
        ):
            print(interesting[columns].sort_values(["action", "username"]).to_string(index=False))
    sent = stack.messages_to(CHANGES_WEBHOOK)
    print(f"MagnusBilling saves so far: {stack.magnus.saves}; Discord messages so far: {len(sent)}")


async def demo(stack: SandboxStack) -> None:
    dry = await contract_sync(dry_run=True, return_state=True)
    show("1. Dry run: the plan, nothing written or sent", dry, await decisions(dry), stack)

    print(
        "\nThe plan blocks/disables more customers than the guard allows without approval "
        f"(10% or 50). For this first synchronisation the operator approves: {APPROVED_FIRST_SYNC}"
    )
    first = await contract_sync(**APPROVED_FIRST_SYNC, return_state=True)
    show("2. First synchronisation", first, await decisions(first), stack)

    second = await contract_sync(return_state=True)
    show("3. Second run, default guard: already in step", second, await decisions(second), stack)


def main() -> None:
    with running_stack(demo_provider()) as stack:
        print(f"Sandbox on loopback: {stack.urls}")
        stack.save_blocks()
        asyncio.run(demo(stack))
    home = os.environ.get("PREFECT_HOME", "~/.prefect")
    print(
        "\nSee these runs, their task runs, retries and the report artifacts in the Prefect UI:\n"
        f"  make ui     (serves the runs kept in {home}), then open http://127.0.0.1:4200"
    )


if __name__ == "__main__":
    main()
