"""Compare-and-set: right before a write, decide again from the customer as Magnus has it now.

An operator may have changed the customer since the plan was made. We only write when the
fresh decision is the same change the plan (and the guard, and maybe a human) approved.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from blocks.magnusbilling.models import MagnusUser
from contract_sync.decide import decide, target_active
from contract_sync.plan import PlannedChange
from contract_sync.status import magnus_standing_of
from contract_sync.texts import say


class Verdict(StrEnum):
    WRITE = "write"
    ALREADY_DONE = "already_done"
    STALE = "stale"


@dataclass(frozen=True)
class Recheck:
    verdict: Verdict
    reason: str


def recheck(
    change: PlannedChange, current: MagnusUser, block_status: int, language: str
) -> Recheck:
    if (current.contract_ref or "").strip() != change.contract_ref:
        return Recheck(Verdict.STALE, say(language, "recheck.contract_changed"))
    if current.active == change.target_active:
        return Recheck(
            Verdict.ALREADY_DONE, say(language, "recheck.already", active=change.target_active)
        )
    standing = magnus_standing_of(current.active)
    action = decide(standing, change.ixc_standing)
    if action != change.action or target_active(action, block_status) != change.target_active:
        return Recheck(
            Verdict.STALE,
            say(
                language,
                "recheck.status_changed",
                before=change.magnus_active,
                now="-" if current.active is None else current.active,
            ),
        )
    return Recheck(Verdict.WRITE, change.reason)
