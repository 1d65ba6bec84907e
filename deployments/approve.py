"""Answer a contract-sync run that waits for approval, from a terminal (`make approve`).

    python -m deployments.approve                      # list the runs waiting, and why
    python -m deployments.approve RUN --approve [--note "conferido"]
    python -m deployments.approve RUN --reject  [--note "IXC fora do ar"]

The same as the Prefect UI's form (Resume, choose approve or reject) and as the REST call
`POST $PREFECT_API_URL/flow_runs/RUN/resume` with `{"run_input": {"decision": ..., "note": ...}}`
and the server's credential (`curl -u "$PREFECT_API_AUTH_STRING"`); Prefect 3.9 has no
`prefect flow-run resume` command. RUN is the run's id or name.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterName,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.flow_runs import aresume_flow_run

from blocks.discord.block import Discord
from deployments.server_auth import exit_clearly_when_refused
from reconcile.texts import DEFAULT_LANGUAGE, say
from tasks.contract_sync.run_lock import FLOW_NAME


async def waiting_runs(name: str | None = None) -> list[FlowRun]:
    async with get_client() as client:
        return await client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[FLOW_NAME])),
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED])),
                name=FlowRunFilterName(any_=[name]) if name else None,
            ),
        )


async def language() -> str:
    try:
        return (await Discord.aload("default")).language
    except ValueError:
        return DEFAULT_LANGUAGE


async def answer(run: str, approve: bool, note: str) -> str:
    speak = await language()
    found = [r for r in await waiting_runs() if run in (str(r.id), r.name)]
    if not found:
        raise SystemExit(f"no contract-sync run {run!r} is waiting for approval")
    decision = say(speak, "approval.approve" if approve else "approval.reject")
    await aresume_flow_run(found[0].id, run_input={"decision": decision, "note": note})
    return f"{found[0].name}: {decision}"


async def listing() -> str:
    runs = await waiting_runs()
    if not runs:
        return "-"
    return "\n".join(f"{r.id}  {r.name}  {r.state.message if r.state else ''}" for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", nargs="?", help="the waiting run's id or name")
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--approve", action="store_true")
    choice.add_argument("--reject", action="store_true")
    parser.add_argument("--note", default="", help="kept in the run's report")
    options = parser.parse_args()
    if options.run is None:
        print(asyncio.run(listing()))
        return
    if not (options.approve or options.reject):
        sys.exit("say --approve or --reject: there is no default")
    print(asyncio.run(answer(options.run, options.approve, options.note)))


if __name__ == "__main__":
    exit_clearly_when_refused(main)
