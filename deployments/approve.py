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
from contract_sync.texts import DEFAULT_LANGUAGE, say
from deployments.server_auth import exit_clearly_when_refused
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


async def discord_language(block: str) -> str:
    try:
        discord: Discord = await Discord.aload(block)
        return discord.language
    except ValueError:  # no such block: the default language
        return DEFAULT_LANGUAGE


async def run_language(run: FlowRun) -> str:
    """The language of the run's own Discord block: its form speaks it ("aprovar" or
    "approve"), whatever the `default` block says."""
    return await discord_language((run.parameters or {}).get("discord_block") or "default")


class Refused(Exception):
    """The command cannot do what it was asked; the message says why, in the operators'
    language."""


async def answer(run: str, approve: bool, note: str) -> str:
    found = [r for r in await waiting_runs() if run in (str(r.id), r.name)]
    if not found:
        speak = await discord_language("default")
        raise Refused(say(speak, "approve_cli.not_waiting", run=run))
    waiting = found[0]
    speak = await run_language(waiting)
    decision = say(speak, "approval.approve" if approve else "approval.reject")
    try:
        await aresume_flow_run(waiting.id, run_input={"decision": decision, "note": note})
    except Exception as error:  # the server's own words are English and may be long
        raise Refused(
            say(speak, "approve_cli.refused", run=waiting.name, error=type(error).__name__)
        ) from None
    return say(speak, "approve_cli.answered", run=waiting.name, decision=decision)


async def listing() -> str:
    runs = await waiting_runs()
    if not runs:
        return say(await discord_language("default"), "approve_cli.none")
    return "\n".join(f"{r.id}  {r.name}  {r.state.message if r.state else ''}" for r in runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", nargs="?", help="the waiting run's id or name")
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--approve", action="store_true")
    choice.add_argument("--reject", action="store_true")
    parser.add_argument("--note", default="", help="kept in the run's report")
    options = parser.parse_args(argv)
    if options.run is None:
        print(asyncio.run(listing()))
        return 0
    try:
        if not (options.approve or options.reject):
            raise Refused(say(asyncio.run(discord_language("default")), "approve_cli.no_choice"))
        print(asyncio.run(answer(options.run, options.approve, options.note)))
    except Refused as refused:
        print(refused, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(exit_clearly_when_refused(main))
