"""The mass-change guard: too many blocks or disables at once is more likely a bug than a fact.

A broken IXC answer, a wrong status mapping or an emptied contract field can make a whole
customer base look blocked. Above the limit, a run stops before writing and asks a human.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
from pydantic import BaseModel, Field

from reconcile.decide import HARMFUL, Action


class GuardLimits(BaseModel):
    """Blocks + disables allowed without approval: the smaller of a share and a count."""

    max_share: float = Field(default=0.10, ge=0, le=1)
    max_count: int = Field(default=50, ge=0)


@dataclass(frozen=True)
class GuardVerdict:
    harmful: int
    managed: int
    limit: int

    @property
    def needs_approval(self) -> bool:
        return self.harmful > self.limit

    def describe(self) -> str:
        return (
            f"{self.harmful} blocks/disables planned for {self.managed} managed customers "
            f"(limit without approval: {self.limit})"
        )


def assess(plan: pd.DataFrame, limits: GuardLimits) -> GuardVerdict:
    managed = int(plan["action"].ne(Action.NOT_MANAGED).sum())
    harmful = int(plan["action"].isin(list(HARMFUL)).sum())
    limit = min(math.floor(limits.max_share * managed), limits.max_count)
    return GuardVerdict(harmful=harmful, managed=managed, limit=limit)
