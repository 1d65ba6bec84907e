"""The blocks each flow needs before it can run, and which of them the Prefect server lacks.

`make deploy` and `make serve` deploy or serve a flow only where its blocks exist: a schedule
without them fails every run it starts (subscription-events every minute, each failure an
alert to the team). Block names come from the deployment's parameters, "default" otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prefect.blocks.core import Block

from blocks.discord.block import Discord
from blocks.gym_erp.block import GymErpDatabase
from blocks.gym_erp.cards import FernetCardKey
from blocks.ixc.block import Ixc
from blocks.magnusbilling.block import MagnusBilling
from blocks.mundipagg.block import Mundipagg

CONTRACT_SYNC = "flows.contract_sync:contract_sync"
CONTRACT_RESTORE = "flows.contract_restore:contract_restore"
EXPLAIN = "flows.contract_sync_explain:explain"
SUBSCRIPTION_EVENTS = "flows.subscription_events:subscription_events"

_CONTRACT_SYNC_BLOCKS: dict[str, type[Block]] = {
    "magnus_block": MagnusBilling,
    "ixc_block": Ixc,
    "discord_block": Discord,
}
# Parameter naming the block -> its type, per entrypoint. subscription-events' Discord block is
# optional (a missing one is logged), so it is not required here.
BLOCKS_BY_ENTRYPOINT: dict[str, dict[str, type[Block]]] = {
    CONTRACT_SYNC: _CONTRACT_SYNC_BLOCKS,
    CONTRACT_RESTORE: _CONTRACT_SYNC_BLOCKS,
    EXPLAIN: _CONTRACT_SYNC_BLOCKS,
    SUBSCRIPTION_EVENTS: {
        "erp_block": GymErpDatabase,
        "card_key_block": FernetCardKey,
        "mundipagg_block": Mundipagg,
    },
}


async def missing_blocks(entrypoint: str, parameters: Mapping[str, Any] | None = None) -> list[str]:
    """The `type/name` of each block `entrypoint`'s runs would load and the server lacks."""
    missing = []
    for parameter, block_type in BLOCKS_BY_ENTRYPOINT.get(entrypoint, {}).items():
        name = str((parameters or {}).get(parameter, "default"))
        try:
            await block_type.aload(name)
        except ValueError:
            missing.append(f"{block_type.get_block_type_slug()}/{name}")
    return missing
