"""What one contract-sync run works with: its blocks, clients, clock, language and ledger."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from prefect.runtime import flow_run as flow_run_context
from prefect.states import Completed, Failed, State
from prefect.variables import Variable

from blocks.discord.block import Discord
from blocks.ixc.block import Ixc
from blocks.ixc.client import IxcClient
from blocks.magnusbilling.block import MagnusBilling
from blocks.magnusbilling.client import MagnusBillingClient
from clock import Clock
from contract_sync.ledger import (
    LEDGER_VARIABLE,
    LedgerNotConfigured,
    NotificationLedger,
    default_ledger_path,
    ledger_path_from_environment,
)
from contract_sync.records.store import Records
from contract_sync.texts import say
from tasks.contract_sync.records import (
    checked_holds,
    open_records,
    operators_location,
    remember_location,
    run_location,
)
from tasks.contract_sync.run_lock import FLOW_NAME, RESTORE_FLOW_NAME, LockHeld, one_run_at_a_time


class RunEndsEarly(Exception):
    """The run cannot go on; `state` is how it ends (its message in the operators' language)."""

    def __init__(self, state: State[Any]) -> None:
        super().__init__(state.message)
        self.state = state

    @classmethod
    def failed(cls, message: str) -> RunEndsEarly:
        return cls(Failed(message=message))

    @classmethod
    def skipped(cls, message: str, language: str) -> RunEndsEarly:
        """Not a failure: another run is doing the work (no alert, no retry needed).

        A Completed state under its own name: Prefect logs any other final state of a flow
        as an ERROR ("Finished in state ..."), and operators grep the worker's log for those.
        The name also keeps it apart from a run that did its work (and from the automation
        that waits for a Completed one).
        """
        return cls(Completed(name=say(language, "state.skipped_busy"), message=message))


@dataclass
class Systems:
    magnus_config: MagnusBilling
    ixc_config: Ixc
    discord: Discord
    magnus: MagnusBillingClient
    ixc: IxcClient
    clock: Clock
    run_id: str
    # The run's dry_run parameter: decide and report, write nothing.
    dry_run: bool
    # None in a dry run: it writes nothing, so it keeps no ledger and takes no lock.
    ledger: NotificationLedger | None
    # Holds and customer history (tasks/contract_sync/records.py); dry runs have them too.
    records: Records | None = None

    def __post_init__(self) -> None:
        if self.dry_run != (self.ledger is None):
            raise ValueError("a dry run keeps no ledger, and a real run always has one")

    @property
    def language(self) -> str:
        return self.discord.language


@dataclass(frozen=True)
class Where:
    """The run parameters naming what it works with."""

    magnus_block: str
    ixc_block: str
    discord_block: str
    timezone: str
    ledger_path: str | None
    records_block: str | None = None


@dataclass(frozen=True)
class Lane:
    """Which run lock a run takes, and what it says when another run of its lane holds it."""

    flow_name: str
    busy_text: str


HOURLY = Lane(FLOW_NAME, "approval.busy")
RESTORE = Lane(RESTORE_FLOW_NAME, "restore.busy")


@asynccontextmanager
async def connected(
    where: Where, *, dry_run: bool, for_operators: bool = False, lane: Lane = HOURLY
) -> AsyncIterator[Systems]:
    """Load the blocks, open the clients and - unless dry - take `lane`'s run lock and the
    ledger.

    Ends the run early (`RunEndsEarly`) when another run of the same lane and Magnus server
    holds the lock, or when the ledger has no place that outlives the run. `for_operators`: an
    operator's command (dry), whose records are where the runs keep theirs.
    """
    clock = Clock.in_zone(where.timezone)
    magnus_config: MagnusBilling = await MagnusBilling.aload(where.magnus_block)
    ixc_config: Ixc = await Ixc.aload(where.ixc_block)
    discord: Discord = await Discord.aload(where.discord_block)
    run_id = str(flow_run_context.id)
    async with AsyncExitStack() as stack:
        notification_ledger = None
        if not dry_run:
            try:
                await stack.enter_async_context(
                    one_run_at_a_time(
                        magnus_config.base_url,
                        flow_run_context.id,
                        discord.language,
                        lane.flow_name,
                    )
                )
            except LockHeld as held:
                message = say(discord.language, lane.busy_text, holder=held.holder)
                raise RunEndsEarly.skipped(message, discord.language) from None
            try:
                path = await resolve_ledger_path(where.ledger_path)
            except LedgerNotConfigured as problem:
                raise RunEndsEarly.failed(problem.said(discord.language)) from None
            notification_ledger = NotificationLedger(
                path, scope=magnus_config.base_url, clock=clock
            )
            stack.callback(notification_ledger.close)
        language = discord.language
        if for_operators:
            location = await operators_location(
                where.records_block, where.ledger_path, magnus_config.base_url, language
            )
        else:
            try:
                location = await run_location(
                    where.records_block, lambda: resolve_ledger_path(where.ledger_path)
                )
            except LedgerNotConfigured as problem:  # a dry run in the image, no volume set
                raise RunEndsEarly.failed(problem.said(language)) from None
        records = await open_records(location, clock, language)
        stack.callback(records.close)
        if not for_operators and not dry_run:  # a dry run never moves where holds go
            await remember_location(
                magnus_config.base_url, location, where.ledger_path, where.records_block
            )
        checked_holds(records, language)  # unreadable holds stop the run here
        magnus = await stack.enter_async_context(magnus_config.client())
        ixc = await stack.enter_async_context(ixc_config.client())
        yield Systems(
            magnus_config,
            ixc_config,
            discord,
            magnus,
            ixc,
            clock,
            run_id,
            dry_run=dry_run,
            ledger=notification_ledger,
            records=records,
        )


async def resolve_ledger_path(configured: str | None) -> str:
    """The run parameter, else $CONTRACT_SYNC_LEDGER_PATH, else the Prefect Variable, else
    $PREFECT_HOME. The deployment's own setting (its env var) wins over a workspace-wide one."""
    if configured:
        return configured
    from_environment = ledger_path_from_environment()
    if from_environment is not None:
        return str(from_environment)
    from_variable = await Variable.aget(LEDGER_VARIABLE)
    return str(from_variable) if from_variable else str(default_ledger_path())
