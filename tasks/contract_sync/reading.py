"""Reading both sides: Magnus customers and their IXC contracts, and deciding each customer."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger
from prefect.utilities.annotations import quote

from blocks.ixc.client import ContractListing
from blocks.magnusbilling.client import UserListing
from reconcile.plan import build_plan, contract_ids
from reconcile.report import RunReport
from tasks.contract_sync.recording import held_plan
from tasks.contract_sync.systems import Systems
from tasks.retries import retry_options, waiting_out_rate_limits


@task(name="fetch-magnus-users", cache_policy=NO_CACHE)
async def fetch_magnus_users(systems: Systems, usernames: Sequence[str] | None) -> UserListing:
    magnus = systems.magnus
    reading = magnus.read_users_named(usernames) if usernames else magnus.read_users()
    listing = await waiting_out_rate_limits(reading, systems.magnus_config.retry_policy())
    get_run_logger().info(
        "Read %d MagnusBilling users (server reported %d)",
        len(listing.users),
        listing.reported_total,
    )
    return listing


@task(name="fetch-ixc-contracts", cache_policy=NO_CACHE)
async def fetch_ixc_contracts(systems: Systems, ids: Sequence[int]) -> ContractListing:
    listing = await systems.ixc.contracts(ids)
    get_run_logger().info(
        "Read %d of %d IXC contracts (%s), %d could not be read",
        len(listing.contracts),
        len(ids),
        listing.strategy,
        len(listing.failed_ids),
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


async def read_users(systems: Systems, usernames: Sequence[str] | None) -> UserListing:
    reader = fetch_magnus_users.with_options(**retry_options(systems.magnus_config.retry_policy()))
    return await reader(systems, usernames)


async def read_contracts(systems: Systems, users: UserListing) -> ContractListing:
    return await read_contracts_of(systems, contract_ids(users.users))


async def read_contracts_of(systems: Systems, ids: Sequence[int]) -> ContractListing:
    # quote(): Prefect would otherwise walk every id of the argument looking for futures.
    return await fetch_ixc_contracts(systems, quote(ids))


async def decide_every_customer(
    systems: Systems, users: UserListing, contracts: ContractListing
) -> RunReport:
    """The decision table as the run's report; and, before anything is written, the writes an
    interrupted earlier run left unconfirmed are settled from what Magnus now says."""
    plan = join_and_classify(systems, quote(users), quote(contracts))
    plan, expired_holds = held_plan(systems, plan)  # operators' holds: Held, never written
    if systems.ledger is not None:
        systems.ledger.prune()
        confirmed = systems.ledger.resolve_unfinished(
            systems.run_id, {u.id: u.active for u in users.users}
        )
        if confirmed:
            get_run_logger().warning(
                "%d writes of an interrupted run found applied in Magnus", confirmed
            )
    return RunReport(
        plan=plan,
        dry_run=systems.dry_run,
        language=systems.language,
        problems=users.problems + contracts.problems,
        expired_holds=expired_holds,
    )
