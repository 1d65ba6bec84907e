"""contract-sync's Prefect tasks: thin wrappers that give each step a name, a state and retries.

The rules live in `reconcile`; the HTTP in `blocks`. Clients are passed in (not hashed, not
cached: `NO_CACHE`) so one connection pool serves the whole run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd
from prefect import task
from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger

from blocks.discord.client import DiscordWebhook
from blocks.discord.models import DiscordMessage
from blocks.errors import ApiError, TransientApiError
from blocks.http import RetryPolicy, with_retries
from blocks.ixc.client import ContractListing, IxcClient
from blocks.ixc.models import IxcStatusMapping
from blocks.magnusbilling.client import MagnusBillingClient, UserListing
from reconcile.ledger import NotificationLedger, WriteState
from reconcile.outcome import ChangeOutcome, Result
from reconcile.plan import PlannedChange, build_plan
from reconcile.recheck import Verdict, recheck
from reconcile.report import RunReport


@task(name="fetch-magnus-users", cache_policy=NO_CACHE)
async def fetch_magnus_users(
    magnus: MagnusBillingClient, usernames: Sequence[str] | None
) -> UserListing:
    listing = await (magnus.read_users_named(usernames) if usernames else magnus.read_users())
    get_run_logger().info(
        "Read %d MagnusBilling users (server reported %d)",
        len(listing.users),
        listing.reported_total,
    )
    return listing


@task(name="fetch-ixc-contracts", cache_policy=NO_CACHE)
async def fetch_ixc_contracts(ixc: IxcClient, contract_ids: Sequence[int]) -> ContractListing:
    listing = await ixc.contracts(contract_ids)
    get_run_logger().info(
        "Read %d of %d IXC contracts (%s), %d could not be read",
        len(listing.contracts),
        len(contract_ids),
        listing.strategy,
        len(listing.failed_ids),
    )
    return listing


@task(name="join-and-classify", cache_policy=NO_CACHE)
def join_and_classify(
    users: UserListing, contracts: ContractListing, mapping: IxcStatusMapping, block_status: int
) -> pd.DataFrame:
    return build_plan(users.users, contracts.contracts, contracts.failed_ids, mapping, block_status)


@task(
    name="apply-change",
    task_run_name="{change.action}-{change.username}",
    cache_policy=NO_CACHE,
)
async def apply_change(
    magnus: MagnusBillingClient,
    change: PlannedChange,
    block_status: int,
    ledger: NotificationLedger,
    run_id: str,
    policy: RetryPolicy,
) -> ChangeOutcome:
    """Re-read the customer, re-decide, and write only if the same change still stands.

    The whole read-decide-write is retried on transient errors only (timeouts, resets, 429 with
    its Retry-After, 5xx, garbled answers), with exponential backoff and jitter; a refused
    signature, a 4xx or a validation error fails at once. Each retry re-reads first, so a save
    whose answer was lost is found done and never sent twice.
    """
    logger = get_run_logger()

    async def attempt() -> ChangeOutcome:
        current = await magnus.read_user(change.magnus_id)
        check = recheck(change, current, block_status)
        if check.verdict is Verdict.ALREADY_DONE:
            if ledger.write_sent(run_id, change.magnus_id):
                # Our own save went through but its answer was lost: it is our change.
                ledger.mark(
                    [(run_id, change.magnus_id)], WriteState.APPLIED, "confirmed by re-read"
                )
                return ChangeOutcome(
                    magnus_id=change.magnus_id,
                    result=Result.APPLIED,
                    detail="save confirmed by re-reading Magnus after an unclear answer",
                    magnus_after=current.active,
                )
            return ChangeOutcome(
                magnus_id=change.magnus_id,
                result=Result.ALREADY_DONE,
                detail=check.reason,
                magnus_after=current.active,
            )
        if check.verdict is Verdict.STALE:
            logger.warning("Not writing %s: %s", change.username, check.reason)
            return ChangeOutcome(
                magnus_id=change.magnus_id,
                result=Result.STALE,
                detail=check.reason,
                magnus_after=current.active,
            )
        ledger.writing(run_id, change)
        saved = await magnus.set_active(change.magnus_id, change.target_active)
        ledger.mark([(run_id, change.magnus_id)], WriteState.APPLIED)
        logger.info(
            "%s %s: active %s -> %s",
            change.action,
            change.username,
            change.magnus_active,
            saved.active,
        )
        return ChangeOutcome(
            magnus_id=change.magnus_id, result=Result.APPLIED, magnus_after=saved.active
        )

    def on_retry(error: TransientApiError, failed: int, wait: float) -> None:
        logger.warning(
            "%s %s: attempt %d failed (%s); retrying in %.2f s",
            change.action,
            change.username,
            failed,
            error,
            wait,
        )

    return await with_retries(attempt, policy, on_retry=on_retry)


async def apply_changes(
    magnus: MagnusBillingClient,
    changes: Sequence[PlannedChange],
    block_status: int,
    *,
    ledger: NotificationLedger,
    run_id: str,
    policy: RetryPolicy,
    concurrency: int,
) -> dict[int, ChangeOutcome]:
    """One task run per change, at most `concurrency` at once; a failure stays in its outcome."""
    limit = asyncio.Semaphore(concurrency)

    async def one(change: PlannedChange) -> ChangeOutcome:
        async with limit:
            state = await apply_change(
                magnus, change, block_status, ledger, run_id, policy, return_state=True
            )
        result = await state.aresult(raise_on_failure=False)
        if isinstance(result, ChangeOutcome):
            return result
        detail = str(result) if isinstance(result, ApiError) else type(result).__name__
        return ChangeOutcome(magnus_id=change.magnus_id, result=Result.FAILED, detail=detail)

    outcomes = await asyncio.gather(*(one(change) for change in changes))
    return {outcome.magnus_id: outcome for outcome in outcomes}


@dataclass
class Outgoing:
    """One Discord message and the ledger entries it announces (marked once it is accepted)."""

    message: DiscordMessage
    announces: list[tuple[str, int]] = field(default_factory=list)


@task(name="notify", cache_policy=NO_CACHE)
async def post_to_discord(
    webhook: DiscordWebhook, outgoing: Sequence[Outgoing], ledger: NotificationLedger | None
) -> list[str]:
    """Post in order; after the first failure the rest is not tried. Returns what was not sent.

    Each message's changes are marked announced in the ledger as soon as Discord accepts it, so
    a crash or a Discord outage leaves exactly the unannounced ones for the next run.
    """
    for position, item in enumerate(outgoing):
        try:
            await webhook.post(item.message)
        except Exception as error:  # a notification must never cost the run its report
            # An unexpected error is named by its type only: its text may quote the webhook URL.
            unexpected = f"unexpected {type(error).__name__}"
            why = str(error) if isinstance(error, ApiError) else unexpected
            get_run_logger().error("Discord message %d not sent: %s", position + 1, why)
            return [
                f"message {n + 1} of {len(outgoing)} ({_subject(o.message)}) not sent: {why}"
                for n, o in enumerate(outgoing[position:], start=position)
            ]
        if ledger is not None and item.announces:
            ledger.mark(item.announces, WriteState.ANNOUNCED)
    return []


@task(name="report", cache_policy=NO_CACHE)
async def publish_report(report: RunReport) -> None:
    """The audit trail: a table of every decision and a markdown summary with counts."""
    await acreate_table_artifact(
        key="contract-sync-decisions",
        table=report.table_rows(),
        description=report.headline(),
    )
    await acreate_markdown_artifact(
        key="contract-sync-summary", markdown=report.markdown(), description=report.headline()
    )
    get_run_logger().info(report.headline())


def _subject(message: DiscordMessage) -> str:
    titles = [embed.title for embed in message.embeds]
    return "; ".join(titles[:3]) + (f" and {len(titles) - 3} more" if len(titles) > 3 else "")
