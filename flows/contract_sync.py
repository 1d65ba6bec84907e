"""contract-sync: keep MagnusBilling phone lines in step with IXC contracts.

A customer IXC blocked for not paying must not keep calling; a customer who paid must get the
line back, and nobody should have to do it by hand. Every hour this flow reads every Magnus
customer that carries an IXC contract id, reads those contracts from IXC, decides per customer
(NoChange / Block / Unblock / Disable / Enable), writes the changes to Magnus, tells the team on
Discord, and leaves the whole decision table as the run's audit trail.

Safety first: a customer whose data is missing or unknown is skipped, each write is re-checked
against Magnus right before it happens, and a run that would block or disable too many
customers stops and asks a human.
"""

from __future__ import annotations

import contextlib
from typing import Any

import anyio
from prefect import flow, get_run_logger, pause_flow_run
from prefect.client.schemas.objects import Flow, FlowRun, State
from prefect.exceptions import NotPausedError
from prefect.flow_runs import aresume_flow_run
from prefect.input import RunInput
from prefect.input.run_input import keyset_from_base_key
from prefect.runtime import flow_run as flow_run_context
from prefect.states import Completed, Failed
from prefect.utilities.annotations import quote
from prefect.variables import Variable
from pydantic import Field

from blocks.discord.block import Discord
from blocks.ixc.block import Ixc
from blocks.magnusbilling.block import MagnusBilling
from blocks.magnusbilling.client import UserListing
from reconcile.guard import GuardLimits, GuardVerdict, assess
from reconcile.ledger import (
    LEDGER_VARIABLE,
    LedgerEntry,
    NotificationLedger,
    WriteState,
    default_ledger_path,
)
from reconcile.messages import announcements, count_actions, summary_message
from reconcile.outcome import ChangeOutcome, Result
from reconcile.plan import PlannedChange, contract_ids, planned_changes
from reconcile.report import RunReport
from tasks.contract_sync import (
    Outgoing,
    apply_changes,
    fetch_ixc_contracts,
    fetch_magnus_users,
    join_and_classify,
    post_to_discord,
    publish_report,
)

APPROVAL_KEY = "approval"
PAUSE_MARGIN_SECONDS = 120
TIMED_OUT = "(no answer in time)"


class ChangeApproval(RunInput):
    """The form an operator fills in the Prefect UI to let a large change set through."""

    approve: bool = Field(default=False, description="Apply the changes described above.")
    note: str = Field(default="", description="Why (kept in the run's logs).")


async def alert_on_failure(flow: Flow, flow_run: FlowRun, state: State[Any]) -> None:
    """Tell the errors webhook when a run fails or crashes, so nobody has to watch the UI."""
    params = flow_run.parameters
    if params.get("dry_run") or not params.get("notify", True):
        return
    try:
        discord = await Discord.aload(params.get("discord_block", "default"))
        async with discord.errors_webhook() as webhook:
            await webhook.post(
                summary_message(
                    f"contract-sync: {flow_run.name} {state.name}",
                    [state.message or "no message"],
                    {},
                )
            )
    except Exception as error:  # an alert must never mask the failure it reports
        get_run_logger().error("Could not send the failure alert: %s", type(error).__name__)


@flow(name="contract-sync", on_failure=[alert_on_failure], on_crashed=[alert_on_failure])
async def contract_sync(
    dry_run: bool = False,
    usernames: list[str] | None = None,
    notify: bool = True,
    max_harmful_share: float = 0.10,
    max_harmful_count: int = 50,
    unattended: bool = False,
    approval_timeout_seconds: int = 3300,
    approval_poll_seconds: int = 10,
    write_concurrency: int = 8,
    ledger_path: str | None = None,
    magnus_block: str = "default",
    ixc_block: str = "default",
    discord_block: str = "default",
) -> State[Any]:
    """Reconcile Magnus customers with their IXC contracts.

    Args:
        dry_run: decide and report, but write nothing and send nothing.
        usernames: only these Magnus customers (an ad-hoc run); all when empty.
        notify: announce changes (and failures) on Discord.
        max_harmful_share / max_harmful_count: more blocks + disables than the smaller of
            these (share of managed customers, absolute count) need approval.
        unattended: past the limit, abort with an alert instead of pausing for approval.
        approval_timeout_seconds: how long a paused run waits before giving up.
        approval_poll_seconds: how often a paused run checks whether it was resumed.
        write_concurrency: changes written at once.
        ledger_path: the notification ledger (SQLite file that must outlive runs); default:
            the Prefect Variable `contract-sync-ledger-path`, else $CONTRACT_SYNC_LEDGER_PATH,
            else $PREFECT_HOME/contract-sync-ledger.sqlite3.
        magnus_block / ixc_block / discord_block: names of the saved blocks to use.
    """
    magnus_config = await MagnusBilling.aload(magnus_block)
    ixc_config = await Ixc.aload(ixc_block)
    discord_config = await Discord.aload(discord_block)
    run_id = str(flow_run_context.id)
    ledger = None if dry_run else await _open_ledger(ledger_path, magnus_config.base_url)

    async with magnus_config.client() as magnus, ixc_config.client() as ixc:
        users = await fetch_magnus_users(magnus, usernames)
        # quote(): Prefect would otherwise walk every user and contract of these arguments
        # looking for futures (seconds per 100k customers); they hold none.
        contracts = await fetch_ixc_contracts(ixc, quote(contract_ids(users.users)))
        plan = join_and_classify(
            quote(users), quote(contracts), ixc_config.status_mapping, magnus_config.block_status
        )
        changes = planned_changes(plan)
        report = RunReport(
            plan=plan, outcomes={}, dry_run=dry_run, problems=users.problems + contracts.problems
        )
        if ledger is None:
            report.outcomes = _unwritten(changes, Result.PLANNED, "dry run")
        else:
            _settle_interrupted_writes(ledger, run_id, users)
            report.stopped_because = await _approval_refused(
                assess(plan, GuardLimits(max_share=max_harmful_share, max_count=max_harmful_count)),
                changes,
                unattended=unattended,
                timeout_seconds=approval_timeout_seconds,
                poll_seconds=approval_poll_seconds,
                discord=discord_config if notify else None,
            )
            report.outcomes = (
                _unwritten(changes, Result.NOT_ATTEMPTED, report.stopped_because)
                if report.stopped_because
                else await apply_changes(
                    magnus,
                    changes,
                    magnus_config.block_status,
                    ledger=ledger,
                    run_id=run_id,
                    policy=magnus_config.retry_policy(),
                    concurrency=write_concurrency,
                )
            )

    if ledger is not None:
        try:
            await _announce(ledger, run_id, report, discord_config, notify)
        except Exception as error:  # never let a notification cost the run its report
            unexpected = f"notifications not sent: unexpected {type(error).__name__}"
            get_run_logger().error(unexpected)
            report.unsent_notifications.append(unexpected)
            with contextlib.suppress(Exception):  # what the next run announces, if readable
                report.unannounced_changes = [_describe(e.change) for e in ledger.unannounced()]
        ledger.close()
    await publish_report(report)
    return _final_state(report)


def _final_state(report: RunReport) -> State[Any]:
    if report.complete:
        return Completed(message=report.headline())
    get_run_logger().error(report.headline())
    return Failed(message=_failure_message(report))


async def _open_ledger(configured: str | None, magnus_url: str) -> NotificationLedger:
    return NotificationLedger(await _ledger_path(configured), scope=magnus_url)


def _settle_interrupted_writes(ledger: NotificationLedger, run_id: str, users: UserListing) -> None:
    """Writes an earlier run started but never confirmed: Magnus, just read, says how they ended."""
    ledger.prune()
    confirmed = ledger.resolve_unfinished(run_id, {u.id: u.active for u in users.users})
    if confirmed:
        get_run_logger().warning(
            "%d writes of an interrupted run found applied in Magnus", confirmed
        )


async def _ledger_path(configured: str | None) -> str:
    if configured:
        return configured
    from_variable = await Variable.aget(LEDGER_VARIABLE, default=None)
    return str(from_variable) if from_variable else str(default_ledger_path())


async def _announce(
    ledger: NotificationLedger, run_id: str, report: RunReport, discord: Discord, notify: bool
) -> None:
    """Announce every applied-but-unannounced change (this run's and earlier runs'), once."""
    pending = ledger.unannounced()
    if not notify:  # this run's changes stay silent; earlier runs' wait for a run that notifies
        ledger.mark([e.key for e in pending if e.run_id == run_id], WriteState.SILENCED)
        return
    if not pending and report.complete:
        return
    outgoing = _outgoing(pending, run_id, report, discord)
    async with discord.webhook() as webhook:
        report.unsent_notifications = await post_to_discord(webhook, outgoing, ledger)
    still = {e.key for e in ledger.unannounced()}
    report.unannounced_changes = [_describe(e.change) for e in pending if e.key in still]
    report.announced_late = [
        _describe(e.change) for e in pending if e.run_id != run_id and e.key not in still
    ]


def _outgoing(
    pending: list[LedgerEntry], run_id: str, report: RunReport, discord: Discord
) -> list[Outgoing]:
    """Announcements, each with the ledger keys of the changes it carries, then a summary."""
    changes = [entry.change for entry in pending]
    late = {entry.change.magnus_id for entry in pending if entry.run_id != run_id}
    messages = announcements(changes, discord.language, discord.max_embeds, late)
    outgoing: list[Outgoing] = []
    if len(changes) > discord.max_embeds:  # one summary message with the CSV of them all
        outgoing = [Outgoing(messages[0], [entry.key for entry in pending])]
    else:
        offset = 0
        for message in messages:
            carried = pending[offset : offset + len(message.embeds)]
            outgoing.append(Outgoing(message, [entry.key for entry in carried]))
            offset += len(message.embeds)
    lines = report.problems[:5] + [f"{o.magnus_id}: {o.detail}" for o in report.failed_changes[:5]]
    if late:
        lines.append(f"{len(late)} changes applied by an earlier, interrupted run announced now")
    outgoing.append(Outgoing(summary_message("contract-sync", [report.headline(), *lines], {})))
    return outgoing


def _describe(change: PlannedChange) -> str:
    return (
        f"{change.action} {change.customer or change.username} (user {change.username}, "
        f"contract {change.contract_id}): {change.magnus_active} -> {change.target_active}"
    )


async def _approval_refused(
    verdict: GuardVerdict,
    changes: list[PlannedChange],
    *,
    unattended: bool,
    timeout_seconds: int,
    poll_seconds: int,
    discord: Discord | None,
) -> str | None:
    """None when the changes may go ahead; otherwise why they must not."""
    if not verdict.needs_approval:
        return None
    logger = get_run_logger()
    description = _approval_request(verdict, changes)
    if discord is not None:
        title = "contract-sync: " + (
            "mass change aborted" if unattended else "approval needed in the Prefect UI"
        )
        run = flow_run_context.name or "?"
        try:
            async with discord.errors_webhook() as webhook:
                await webhook.post(
                    summary_message(
                        title,
                        [f"run {run}", verdict.describe()],
                        count_actions(changes),
                    )
                )
        except Exception as error:
            logger.error("Could not send the approval alert: %s", type(error).__name__)
    if unattended:
        return f"{verdict.describe()}; unattended run, aborted"
    logger.warning("Pausing for approval: %s", verdict.describe())
    approval = await _wait_for_approval(description, timeout_seconds, poll_seconds)
    if approval is None:
        return f"{verdict.describe()}; no approval within {timeout_seconds} s"
    if not approval.approve:
        return f"{verdict.describe()}; rejected by operator ({approval.note or 'no note'})"
    logger.warning("Approved by operator: %s", approval.note or "no note")
    return None


async def _wait_for_approval(
    description: str, timeout_seconds: int, poll_seconds: int
) -> ChangeApproval | None:
    """Pause with the approval form; the operator's answer, or None when none came in time.

    Prefect fails a run whose pause expires before the run itself can react (no report, a
    generic message), so the run waits a little less than the pause lasts and, on time-out,
    resumes itself with a rejection. Whoever resumed first (operator or time-out) decides.
    """
    form = ChangeApproval.with_initial_data(description=description)
    with anyio.move_on_after(timeout_seconds):
        return await pause_flow_run(
            wait_for_input=form,
            timeout=timeout_seconds + PAUSE_MARGIN_SECONDS,
            poll_interval=poll_seconds,
            key=APPROVAL_KEY,
        )
    run_id = flow_run_context.id
    with contextlib.suppress(NotPausedError):  # the operator answered meanwhile: theirs stands
        await aresume_flow_run(run_id, run_input={"approve": False, "note": TIMED_OUT})
    answer = await ChangeApproval.aload(keyset_from_base_key(f"paused-{APPROVAL_KEY}"))
    return None if answer.note == TIMED_OUT else answer


def _approval_request(verdict: GuardVerdict, changes: list[PlannedChange]) -> str:
    sample = "\n".join(
        f"| {c.action} | {c.customer} | {c.username} | {c.contract_id} | {c.reason} |"
        for c in changes[:20]
    )
    return (
        f"### Large change set: {verdict.describe()}\n\n"
        f"{len(changes)} changes in all. First {min(20, len(changes))}:\n\n"
        "| action | customer | username | contract | reason |\n|---|---|---|---|---|\n"
        f"{sample}\n\nApprove to apply them all; reject (or let it time out) to write nothing."
    )


def _unwritten(changes: list[PlannedChange], result: Result, why: str) -> dict[int, ChangeOutcome]:
    return {
        c.magnus_id: ChangeOutcome(magnus_id=c.magnus_id, result=result, detail=why)
        for c in changes
    }


def _failure_message(report: RunReport) -> str:
    reasons = [report.stopped_because] if report.stopped_because else []
    reasons += report.problems[:3]
    if report.failed_changes:
        reasons.append(f"{len(report.failed_changes)} changes failed")
    if report.unsent_notifications:
        reasons.append(
            f"{len(report.unsent_notifications)} Discord messages not sent, "
            f"{len(report.unannounced_changes)} applied changes not announced yet "
            "(the next run announces them)"
        )
    return f"{report.headline()} | " + "; ".join(reasons)
