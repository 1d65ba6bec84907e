"""The decision table: what to do to a Magnus customer given what IXC says (DESIGN.md)."""

from __future__ import annotations

from enum import StrEnum

from contract_sync.status import Standing


class Action(StrEnum):
    NO_CHANGE = "NoChange"
    BLOCK = "Block"
    UNBLOCK = "Unblock"
    DISABLE = "Disable"
    ENABLE = "Enable"
    SKIP = "Skip"
    NOT_MANAGED = "NotManaged"
    HELD = "Held"  # an operator's hold (contract_sync/holds.py): never changed, whatever IXC says


CHANGES = frozenset({Action.BLOCK, Action.UNBLOCK, Action.DISABLE, Action.ENABLE})
HARMFUL = frozenset({Action.BLOCK, Action.DISABLE})  # the ones the mass-change guard counts

# (Magnus now, IXC says) -> action. Every pair involving UNKNOWN is a Skip.
DECISIONS: dict[tuple[Standing, Standing], Action] = {
    (Standing.ACTIVE, Standing.ACTIVE): Action.NO_CHANGE,
    (Standing.ACTIVE, Standing.BLOCKED): Action.BLOCK,
    (Standing.ACTIVE, Standing.INACTIVE): Action.DISABLE,
    (Standing.BLOCKED, Standing.ACTIVE): Action.UNBLOCK,
    (Standing.BLOCKED, Standing.BLOCKED): Action.NO_CHANGE,
    (Standing.BLOCKED, Standing.INACTIVE): Action.DISABLE,
    (Standing.INACTIVE, Standing.ACTIVE): Action.ENABLE,
    (Standing.INACTIVE, Standing.BLOCKED): Action.NO_CHANGE,  # reported as an anomaly
    (Standing.INACTIVE, Standing.INACTIVE): Action.NO_CHANGE,
}


def decide(magnus: Standing, ixc: Standing) -> Action:
    return DECISIONS.get((magnus, ixc), Action.SKIP)


def target_active(action: Action, block_status: int) -> int | None:
    """The Magnus `active` value an action writes (None for actions that write nothing)."""
    return {
        Action.BLOCK: block_status,
        Action.UNBLOCK: 1,
        Action.ENABLE: 1,
        Action.DISABLE: 0,
    }.get(action)
