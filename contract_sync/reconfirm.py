"""Decide planned changes again from IXC as it is now: after an approval, and before a Block
or Disable is saved from IXC data older than a couple of minutes.

An approval can take up to an hour, and writing a big change set to a real MagnusBilling takes
seconds per save. A customer who paid meanwhile is active in IXC again, and blocking them on
the strength of the old reading would be the worst mistake this product can make. So the
changes are re-read from IXC and decided again from Magnus's status at planning (Magnus itself
is re-read right before each write); a change stands only if the fresh decision is the very
change that was planned (and approved). Anything else is withdrawn with the reason, and the
next run decides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from blocks.errors import Problem
from blocks.ixc.models import IxcContract, IxcStatusMapping
from contract_sync.decide import decide, target_active
from contract_sync.plan import PlannedChange
from contract_sync.status import Standing, ixc_standing, magnus_standing_of
from contract_sync.texts import label, say


@dataclass(frozen=True)
class Reconfirmed:
    standing: list[PlannedChange]  # still the approved change, with the fresh IXC codes
    withdrawn: dict[int, str]  # Magnus id -> why not any more


def reconfirm(
    approved: Sequence[PlannedChange],
    contracts: Mapping[int, IxcContract],
    failed_reads: Mapping[int, Problem],
    mapping: IxcStatusMapping,
    block_status: int,
    language: str,
    occasion: Literal["approval", "write"] = "approval",
) -> Reconfirmed:
    """`occasion`: read again after an approval, or right before writing (for the reasons)."""
    since = "" if occasion == "approval" else ".before_write"
    fresh = [contracts.get(change.contract_id) for change in approved]
    standings = ixc_standing(
        pd.Series([c.status if c else "" for c in fresh], dtype="object"),
        pd.Series([c.status_internet if c else "" for c in fresh], dtype="object"),
        mapping,
    )
    standing: list[PlannedChange] = []
    withdrawn: dict[int, str] = {}
    for change, contract, now in zip(approved, fresh, standings, strict=True):
        if change.contract_id in failed_reads:
            withdrawn[change.magnus_id] = say(
                language,
                f"reconfirm{since}.read_failed",
                why=failed_reads[change.contract_id].describe(language),
            )
            continue
        if contract is None:
            withdrawn[change.magnus_id] = say(
                language, "reconfirm.gone", contract=change.contract_id
            )
            continue
        if contract.missing_fields:
            withdrawn[change.magnus_id] = say(
                language,
                "reconfirm.missing_field",
                contract=change.contract_id,
                fields=", ".join(contract.missing_fields),
            )
            continue
        action = decide(magnus_standing_of(change.magnus_active), Standing(now))
        if action != change.action or target_active(action, block_status) != change.target_active:
            withdrawn[change.magnus_id] = say(
                language,
                f"reconfirm{since}.changed",
                status=contract.status or "-",
                internet=contract.status_internet or "-",
                standing=label(language, "standing", now),
                action=label(language, "action", action),
            )
            continue
        standing.append(
            change.model_copy(
                update={
                    "ixc_status": contract.status,
                    "ixc_status_internet": contract.status_internet,
                }
            )
        )
    return Reconfirmed(standing=standing, withdrawn=withdrawn)
