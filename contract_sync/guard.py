"""The mass-change guard: too many blocks or disables at once is more likely a bug than a fact.

A broken IXC answer, a wrong status mapping or an emptied contract field can make a whole
customer base look blocked. Above the limit, a run stops before writing and asks a human.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
from pydantic import BaseModel, Field

from contract_sync.decide import HARMFUL, Action
from contract_sync.texts import say

DEFAULT_MAX_HARMFUL_SHARE = 0.10
DEFAULT_MAX_HARMFUL_COUNT = 50


class GuardLimits(BaseModel):
    """Blocks + disables allowed without approval: the smaller of a share and a count."""

    max_share: float = Field(default=DEFAULT_MAX_HARMFUL_SHARE, ge=0, le=1)
    max_count: int = Field(default=DEFAULT_MAX_HARMFUL_COUNT, ge=0)
    kept_from: str | None = None  # the deployment whose limits these are (the run asked more)


@dataclass(frozen=True)
class GuardVerdict:
    harmful: int
    managed: int
    limit: int
    kept_from: str | None = None

    @property
    def needs_approval(self) -> bool:
        return self.harmful > self.limit

    def describe(self, language: str) -> str:
        counts = {"harmful": self.harmful, "managed": self.managed, "limit": self.limit}
        if self.kept_from is not None:
            return say(language, "guard.describe_kept", deployment=self.kept_from, **counts)
        return say(language, "guard.describe", **counts)


def assess(plan: pd.DataFrame, limits: GuardLimits, *, whole_base: bool = True) -> GuardVerdict:
    """`whole_base` is False for an ad-hoc run over chosen customers: a share of a handful of
    customers says nothing about a mass change, so only the absolute count applies there."""
    managed = int(plan["action"].ne(Action.NOT_MANAGED).sum())
    harmful = int(plan["action"].isin(list(HARMFUL)).sum())
    limit = limits.max_count
    if whole_base:
        limit = min(math.floor(limits.max_share * managed), limit)
    return GuardVerdict(harmful=harmful, managed=managed, limit=limit, kept_from=limits.kept_from)
