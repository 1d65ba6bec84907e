"""The restore lane's decision table: only Unblock and Enable are ever written by it.

The lane reads only customers who are blocked or inactive, so a Block cannot come up; a Disable
(blocked in Magnus, inactive in IXC) can. Such a change is not the lane's to make: it stays a
NoChange here, saying the hourly run decides it, and `restores_in` never lets a harmful change
through whatever the table says - the lane gives service back, it never takes it away.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from contract_sync.decide import HARMFUL, Action
from contract_sync.plan import PlannedChange
from contract_sync.texts import label, say

RESTORES = frozenset({Action.UNBLOCK, Action.ENABLE})


def restores_only(plan: pd.DataFrame, language: str) -> pd.DataFrame:
    """`plan` with every harmful change (Block, Disable) turned into a NoChange that says so."""
    harmful = plan["action"].isin(list(HARMFUL))
    if not harmful.any():
        return plan
    left = plan.copy()
    left.loc[harmful, "reason"] = [
        say(language, "plan.left_to_hourly", action=label(language, "action", action), why=why)
        for action, why in zip(
            left.loc[harmful, "action"], left.loc[harmful, "reason"], strict=True
        )
    ]
    left.loc[harmful, "action"] = Action.NO_CHANGE
    left.loc[harmful, "target_active"] = pd.NA
    return left


def restores_in(changes: Sequence[PlannedChange]) -> list[PlannedChange]:
    """Only the restores among `changes` (the last check before the lane writes)."""
    return [change for change in changes if change.action in RESTORES]
