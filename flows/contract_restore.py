"""contract-restore: give the line back to customers who paid, within minutes, not hours.

A customer IXC unblocks after paying should not wait for the hourly run - nor behind the
hundreds of slow Block saves a big hourly run may be writing. Every few minutes this flow reads
only the Magnus customers who are blocked or inactive, reads their IXC contracts, and writes the
Unblocks and Enables among them, with the hourly run's safety: compare-and-set before each
write, operators' holds, the customer history, the notification ledger and Discord.

It only ever gives service back: a Block or Disable is never written here, whatever IXC says
and whatever parameters a run is given (those are the hourly run's). So it needs no approval.
It has a run lock of its own - two restore runs never both act - and does not wait for the
hourly run's: its saves take the same per-save lock of the Magnus server as the hourly run's.
A run with nothing to restore makes a handful of requests and sends no Discord message.
"""

from __future__ import annotations

import time
from typing import Any

from prefect import flow
from prefect.states import State

from clock import DEFAULT_TIMEZONE
from contract_sync.plan import planned_changes
from contract_sync.restore import restores_in, restores_only
from tasks.contract_sync.announcing import alert_on_failure, announce
from tasks.contract_sync.reading import (
    decide_every_customer,
    read_contracts,
    read_users_not_active,
)
from tasks.contract_sync.recording import record_history
from tasks.contract_sync.reporting import final_state, publish_report
from tasks.contract_sync.systems import RESTORE, RunEndsEarly, Where, connected
from tasks.contract_sync.writing import apply_changes

# How old IXC data may be for a Block or Disable: none reaches the writing here (restores_in),
# so this only keeps the write path's contract; the hourly run's default.
MAX_IXC_AGE_SECONDS = 120.0


@flow(name="contract-restore", on_failure=[alert_on_failure])
async def contract_restore(
    notify: bool = True,
    ledger_path: str | None = None,
    records_block: str | None = None,
    magnus_block: str = "default",
    ixc_block: str = "default",
    discord_block: str = "default",
    timezone: str = DEFAULT_TIMEZONE,
) -> State[Any]:
    """Unblock and enable the blocked or inactive Magnus customers whose IXC contract is active.

    Args:
        notify: announce restores (and failures) on Discord.
        ledger_path / records_block / magnus_block / ixc_block / discord_block / timezone: as
            for contract-sync; give both deployments the same ones.
    """
    where = Where(magnus_block, ixc_block, discord_block, timezone, ledger_path, records_block)
    try:
        async with connected(where, dry_run=False, lane=RESTORE) as systems:
            users = await read_users_not_active(systems)
            ixc_read_at = time.monotonic()
            contracts = await read_contracts(systems, users)
            # Writes in flight of a concurrent hourly run are not an interrupted run's: the
            # hourly run, which reads every customer, settles interrupted writes.
            report = await decide_every_customer(
                systems, users, contracts, settle_interrupted=False
            )
            report.plan = restores_only(report.plan, systems.language)
            restores = restores_in(planned_changes(report.plan))
            written = await apply_changes(
                systems, restores, ixc_read_at=ixc_read_at, fresh_seconds=MAX_IXC_AGE_SECONDS
            )
            report.outcomes.update(written.outcomes)
            report.write_times = written.times
            await record_history(systems, report)
            await announce(systems, report, notify, restore_lane=True)
    except RunEndsEarly as early:  # e.g. another restore run is at work
        return early.state
    await publish_report(report, restore_lane=True)
    return final_state(report)
