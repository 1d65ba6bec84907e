"""contract-sync: keep MagnusBilling phone lines in step with IXC contracts.

A customer IXC blocked for not paying must not keep calling; a customer who paid must get the
line back, and nobody should have to do it by hand. Every hour this flow reads every Magnus
customer that carries an IXC contract id, reads those contracts from IXC, decides per customer
(NoChange / Block / Unblock / Disable / Enable), writes the changes to Magnus, tells the team on
Discord, and leaves the whole decision table as the run's audit trail.

Safety first: a customer whose data is missing or unknown is skipped, each write is re-checked
against Magnus right before it happens, a run that would block or disable too many customers
stops and asks a human (and reads IXC again once approved), and only one run per Magnus server
runs at a time.

A real MagnusBilling save rewrites every SIP peer and reloads Asterisk: it costs seconds on a
big server, and two at once can leave phones unregistered. So the Magnus server gets one save
at a time from every writer (runs, ad-hoc runs, the restore lane), customers who paid are
restored before anyone is blocked, and a Block or Disable is saved only from IXC data at most
`max_ixc_age_seconds` old (read again in batches while writing: a customer who paid meanwhile
is not blocked). Parameters that make no sense are refused before the run starts.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from prefect import flow
from prefect.states import State
from pydantic import Field

from clock import DEFAULT_TIMEZONE
from contract_sync.approval import ApprovalRules
from contract_sync.guard import DEFAULT_MAX_HARMFUL_COUNT, DEFAULT_MAX_HARMFUL_SHARE
from contract_sync.limits import DEFAULT_MAX_IXC_AGE_SECONDS, RunLimits
from tasks.contract_sync.announcing import alert_on_failure, announce
from tasks.contract_sync.approval import approved_changes
from tasks.contract_sync.limits import limits_kept
from tasks.contract_sync.reading import decide_every_customer, read_contracts, read_users
from tasks.contract_sync.recording import record_history
from tasks.contract_sync.reporting import final_state, label_as_dry_run, publish_report
from tasks.contract_sync.systems import RunEndsEarly, Where, connected
from tasks.contract_sync.writing import apply_changes


# A crashed run is the automations' (deployments/automations.py): one alert per failure.
@flow(name="contract-sync", on_failure=[alert_on_failure])
async def contract_sync(
    dry_run: bool = False,
    usernames: list[str] | None = None,
    notify: bool = True,
    max_harmful_share: Annotated[float, Field(ge=0, le=1)] = DEFAULT_MAX_HARMFUL_SHARE,
    max_harmful_count: Annotated[int, Field(ge=0)] = DEFAULT_MAX_HARMFUL_COUNT,
    unattended: bool = False,
    approval_timeout_seconds: Annotated[int, Field(ge=1)] = 3300,
    approval_poll_seconds: Annotated[float, Field(gt=0)] = 10,
    max_ixc_age_seconds: Annotated[float, Field(gt=0)] = DEFAULT_MAX_IXC_AGE_SECONDS,
    ledger_path: str | None = None,
    records_block: str | None = None,
    magnus_block: str = "default",
    ixc_block: str = "default",
    discord_block: str = "default",
    timezone: str = DEFAULT_TIMEZONE,
) -> State[Any]:
    """Reconcile Magnus customers with their IXC contracts.

    Args:
        dry_run: decide and report (saying whether a real run would need approval), but write
            nothing and send nothing.
        usernames: only these Magnus customers (an ad-hoc run); all when empty. An ad-hoc run
            needs approval only past `max_harmful_count`.
        notify: announce changes (and failures) on Discord.
        max_harmful_share / max_harmful_count: more blocks + disables than the smaller of
            these (share of managed customers, 0..1; absolute count) need approval. A run of
            a deployment keeps them (and `max_ixc_age_seconds`) no looser than the
            deployment's own: asking for more makes it pause for approval past them.
        unattended: past the limit, abort with an alert instead of pausing for approval.
        approval_timeout_seconds: how long a paused run waits for an answer.
        approval_poll_seconds: how often a paused run checks whether it was answered.
        max_ixc_age_seconds: a Block or Disable is saved only from IXC data at most this old;
            older data is read again first (in batches) and the change decided again.
        ledger_path: the notification ledger (SQLite file that must outlive runs); default:
            $CONTRACT_SYNC_LEDGER_PATH, else the Prefect Variable `contract-sync-ledger-path`,
            else $PREFECT_HOME/contract-sync-ledger.sqlite3.
        records_block: the `ContractSyncRecords` block holding operators' holds and the
            customer history (PostgreSQL in production); default: SQLite beside the ledger.
        magnus_block / ixc_block / discord_block: names of the saved blocks to use.
        timezone: the provider's time zone, for every time the operators read.
    """
    asked = RunLimits(
        max_harmful_share=max_harmful_share,
        max_harmful_count=max_harmful_count,
        max_ixc_age_seconds=max_ixc_age_seconds,
    )
    rules = ApprovalRules(
        ad_hoc=bool(usernames),
        unattended=unattended,
        timeout_seconds=approval_timeout_seconds,
        poll_seconds=approval_poll_seconds,
        alert=notify,
    )
    where = Where(magnus_block, ixc_block, discord_block, timezone, ledger_path, records_block)
    try:
        async with connected(where, dry_run=dry_run) as systems:
            if dry_run:
                await label_as_dry_run(systems.language)
            kept = await limits_kept(asked, systems.language)  # none looser than the deployment's
            users = await read_users(systems, usernames)
            ixc_read_at = time.monotonic()
            contracts = await read_contracts(systems, users)
            report = await decide_every_customer(systems, users, contracts)
            report.limits_note = kept.note(systems.language)
            changes = await approved_changes(systems, report, kept.guard, rules)
            written = await apply_changes(
                systems,
                changes,
                ixc_read_at=ixc_read_at,
                fresh_seconds=kept.limits.max_ixc_age_seconds,
            )
            report.outcomes.update(written.outcomes)
            report.write_times = written.times
            await record_history(systems, report)
            await announce(systems, report, notify)
    except RunEndsEarly as early:  # e.g. another run is writing or awaiting approval
        return early.state
    await publish_report(report)
    return final_state(report)
