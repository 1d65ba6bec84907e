"""Reading both sides - Magnus customers, their IXC contracts - and deciding each customer.

Each read is a task run of its own (the listing plan, every id range of Magnus, every batch or
page of IXC), retried by Prefect on transient errors only: a page that failed once shows as a
retry of that page, and only that page is read again. A Magnus read that still fails stops the
run before anything is written; an IXC part that still fails leaves its contracts "IXC read
failed" (never "not found"), so those customers are skipped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

import pandas as pd
from prefect import Task, task
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger
from prefect.utilities.annotations import quote

from blocks.errors import ApiError
from blocks.ixc.block import Ixc
from blocks.ixc.client import ContractListing, ReadingPlan, Records, listing_of
from blocks.magnusbilling.block import MagnusBilling
from blocks.magnusbilling.client import (
    NOT_ACTIVE,
    IdRange,
    ListingPlan,
    UserListing,
    UserPage,
    listing_of_pages,
)
from blocks.magnusbilling.client import (
    listing_of as users_listing_of,
)
from contract_sync.failures import failure_text
from contract_sync.plan import build_plan, contract_ids
from contract_sync.report import RunReport
from contract_sync.texts import label, say
from tasks.contract_sync.recording import held_plan
from tasks.contract_sync.systems import RunEndsEarly, Systems
from tasks.retries import retry_options, waiting_before_retry

T = TypeVar("T")


def _retried(read: Task[Any, Any], config: MagnusBilling | Ixc) -> Task[Any, Any]:
    """`read` with the Prefect retries its system's block asks for."""
    return read.with_options(**retry_options(config.retry_policy()))


def _patient(call: Awaitable[T], config: MagnusBilling | Ixc) -> Awaitable[T]:
    """`call`, waiting its backoff (or a 429's Retry-After) before its task run is retried."""
    return waiting_before_retry(call, config.retry_policy())


@task(name="plan-magnus-listing", cache_policy=NO_CACHE)
async def plan_magnus_listing(systems: Systems) -> ListingPlan:
    return await _patient(systems.magnus.plan_listing(), systems.magnus_config)


@task(
    name="read-magnus-users",
    task_run_name="read-magnus-users-after-{id_range.after}",
    cache_policy=NO_CACHE,
)
async def read_magnus_range(systems: Systems, id_range: IdRange) -> list[UserPage]:
    return await _patient(systems.magnus.read_range(id_range), systems.magnus_config)


@task(name="read-magnus-users-by-name", cache_policy=NO_CACHE)
async def read_magnus_named(systems: Systems, usernames: Sequence[str]) -> UserListing:
    return await _patient(systems.magnus.read_users_named(usernames), systems.magnus_config)


@task(
    name="read-magnus-users-not-active",
    task_run_name="read-magnus-users-active-{comparison}-1",
    cache_policy=NO_CACHE,
)
async def read_magnus_not_active(systems: Systems, comparison: str) -> list[UserPage]:
    return await _patient(systems.magnus.read_not_active(comparison), systems.magnus_config)


async def read_users(systems: Systems, usernames: Sequence[str] | None) -> UserListing:
    """Every Magnus customer (or just `usernames`); raises when Magnus cannot be read."""
    try:
        if usernames:
            listing = await _retried(read_magnus_named, systems.magnus_config)(systems, usernames)
        else:
            plan = await _retried(plan_magnus_listing, systems.magnus_config)(systems)
            reader = _retried(read_magnus_range, systems.magnus_config)
            ranged = await asyncio.gather(*(reader(systems, r) for r in plan.ranges))
            listing = users_listing_of(plan, ranged)
    except ApiError as error:
        why = failure_text(error, systems.language)
        message = say(systems.language, "failure.magnus_unreadable", error=why)
        raise RunEndsEarly.failed(message) from None
    _log_read(systems, listing)
    return listing


async def read_users_not_active(systems: Systems) -> UserListing:
    """Only the Magnus customers who are blocked or inactive (one request each side when they
    fit a page); raises when Magnus cannot be read."""
    reader = _retried(read_magnus_not_active, systems.magnus_config)
    try:
        ranged = await asyncio.gather(*(reader(systems, side) for side in NOT_ACTIVE))
    except ApiError as error:
        message = say(systems.language, "failure.magnus_unreadable", error=error)
        raise RunEndsEarly.failed(message) from None
    listing = listing_of_pages(ranged)
    _log_read(systems, listing)
    return listing


def _log_read(systems: Systems, listing: UserListing) -> None:
    get_run_logger().info(
        say(
            systems.language,
            "log.magnus_read",
            count=len(listing.users),
            total=listing.reported_total,
        )
    )


@task(name="count-ixc-contracts", cache_policy=NO_CACHE)
async def count_ixc_contracts(systems: Systems) -> int:
    return await _patient(systems.ixc.table_size(), systems.ixc_config)


@task(
    name="read-ixc-contracts",
    task_run_name="read-ixc-contracts-{plan.strategy}",
    cache_policy=NO_CACHE,
)
async def read_ixc_part(systems: Systems, plan: ReadingPlan, part: list[int] | int) -> Records:
    return await _patient(systems.ixc.read_part(plan, part), systems.ixc_config)


async def read_contracts(systems: Systems, users: UserListing) -> ContractListing:
    return await read_contracts_of(systems, contract_ids(users.users))


async def read_contracts_of(systems: Systems, ids: Sequence[int]) -> ContractListing:
    """These IXC contracts, by id batches or the full listing (whichever is fewer requests)."""
    if not ids:
        return ContractListing()
    counted = await _retried(count_ixc_contracts, systems.ixc_config)(systems, return_state=True)
    size = await counted.aresult(raise_on_failure=False)
    plan = systems.ixc.reading_plan(ids, size if isinstance(size, int) else None)
    reader = _retried(read_ixc_part, systems.ixc_config)
    # quote(): Prefect would otherwise walk every id of the plan looking for futures.
    states = await asyncio.gather(
        *(reader(systems, quote(plan), quote(part), return_state=True) for part in plan.parts)
    )
    # A part's records, or - its retries spent - the error that failed it.
    results = [await state.aresult(raise_on_failure=False) for state in states]
    listing = listing_of(plan, results)
    get_run_logger().info(
        say(
            systems.language,
            "log.ixc_read",
            read=len(listing.contracts),
            wanted=len(plan.wanted),
            how=label(systems.language, "ixc_strategy", listing.strategy),
            failed=len(listing.failed_ids),
        )
    )
    return listing


@task(name="join-and-classify", cache_policy=NO_CACHE)
def join_and_classify(
    systems: Systems, users: UserListing, contracts: ContractListing
) -> pd.DataFrame:
    return build_plan(
        users.users,
        contracts.contracts,
        contracts.failed_ids,
        systems.ixc_config.status_mapping,
        systems.magnus_config.block_status,
    )


async def decide_every_customer(
    systems: Systems,
    users: UserListing,
    contracts: ContractListing,
    *,
    settle_interrupted: bool = True,
) -> RunReport:
    """The decision table as the run's report; and, before anything is written, the writes an
    interrupted earlier run left unconfirmed are settled from what Magnus now says (unless
    `settle_interrupted` is False: a lane that runs beside the hourly run must not take the
    hourly run's writes in flight for interrupted ones)."""
    plan = join_and_classify(systems, quote(users), quote(contracts))  # type: ignore[call-overload]  # Prefect: quote() not in a task's argument types
    plan, expired_holds = held_plan(systems, plan)  # operators' holds: Held, never written
    if systems.ledger is not None and settle_interrupted:
        systems.ledger.prune()
        confirmed = systems.ledger.resolve_unfinished(
            systems.run_id, {u.id: u.active for u in users.users}
        )
        if confirmed:
            get_run_logger().warning(
                say(systems.language, "log.interrupted_found", count=confirmed)
            )
    return RunReport(
        plan=plan,
        dry_run=systems.dry_run,
        language=systems.language,
        problems=[p.describe(systems.language) for p in users.problems + contracts.problems],
        expired_holds=expired_holds,
    )
