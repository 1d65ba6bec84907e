"""Why is this customer like this? Answered for one Magnus username, from the Prefect UI.

Reads the customer in MagnusBilling and their contract in IXC now, decides them with the
sync's own code (holds included) and lists what the sync did to them before, newest first,
with links to those runs. The answer is the run's markdown artifact, in the operators'
language. Nothing is written. The same answer on a terminal: `make explain CUSTOMER=12345`.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.artifacts import acreate_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed, Failed, State

from clock import DEFAULT_TIMEZONE
from contract_sync.explain import Explanation
from tasks.contract_sync.explaining import explain_customer
from tasks.contract_sync.systems import Where, connected

EXPLAIN_KEY = "contract-sync-explain"


@flow(name="contract-sync-explain")
async def explain(
    username: str,
    magnus_block: str = "default",
    ixc_block: str = "default",
    discord_block: str = "default",
    ledger_path: str | None = None,
    records_block: str | None = None,
    timezone: str = DEFAULT_TIMEZONE,
) -> State[Any]:
    """Explain one customer: both sides now, the decision and why, holds, history.

    Args:
        username: the customer's MagnusBilling username.
        magnus_block / ixc_block / discord_block: the blocks contract-sync uses (the Discord
            block only for the operators' language).
        ledger_path / records_block: where contract-sync keeps its records (as its runs do).
        timezone: the provider's time zone, for every time shown.
    """
    where = Where(magnus_block, ixc_block, discord_block, timezone, ledger_path, records_block)
    async with connected(where, dry_run=True, for_operators=True) as systems:
        explanation = await explain_customer(systems, username)
    await publish_explanation(explanation)
    if explanation.answered:
        return Completed(message=explanation.summary())
    return Failed(message=explanation.summary())


@task(name="explanation", cache_policy=NO_CACHE)
async def publish_explanation(explanation: Explanation) -> None:
    await acreate_markdown_artifact(
        key=EXPLAIN_KEY, markdown=explanation.markdown(), description=explanation.summary()
    )
