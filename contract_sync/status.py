"""Normalise each system's status codes to one vocabulary: active, blocked, inactive, unknown."""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import pandas as pd

from blocks.ixc.models import IxcStatusMapping


class Standing(StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"
    INACTIVE = "inactive"
    UNKNOWN = "unknown"


MAGNUS_BLOCKED_CODES = (2, 3, 4)  # 2 (pending) counts as blocked, as in the original service


def magnus_standing(active: pd.Series) -> pd.Series:
    """Magnus `active`: 1 active, 0 inactive, 2/3/4 blocked, anything else (9, missing) unknown."""
    values = pd.to_numeric(active, errors="coerce")
    return pd.Series(
        np.select(
            [
                values.eq(1).fillna(False),
                values.isin(MAGNUS_BLOCKED_CODES),
                values.eq(0).fillna(False),
            ],
            [Standing.ACTIVE, Standing.BLOCKED, Standing.INACTIVE],
            default=Standing.UNKNOWN,
        ),
        index=active.index,
        dtype="object",
    )


def magnus_standing_of(active: int | None) -> Standing:
    """`magnus_standing` for one value (the recheck before each write: no Series needed)."""
    if active == 1:
        return Standing.ACTIVE
    if active in MAGNUS_BLOCKED_CODES:
        return Standing.BLOCKED
    return Standing.INACTIVE if active == 0 else Standing.UNKNOWN


def ixc_standing(status: pd.Series, internet: pd.Series, mapping: IxcStatusMapping) -> pd.Series:
    """IXC contract `status` + `status_internet`, in the order IxcStatusMapping documents."""
    status = status.fillna("").astype(str).str.strip().str.upper()
    internet = internet.fillna("").astype(str).str.strip().str.upper()
    checked = status.isin(mapping.statuses_checked_by_internet)
    no_internet = internet.eq("")
    return pd.Series(
        np.select(
            [
                status.isin(mapping.inactive_statuses),
                checked & internet.isin(mapping.active_internet),
                checked & internet.isin(mapping.blocked_internet),
                no_internet & status.isin(mapping.active_statuses_without_internet),
                no_internet & status.isin(mapping.blocked_statuses_without_internet),
            ],
            [
                Standing.INACTIVE,
                Standing.ACTIVE,
                Standing.BLOCKED,
                Standing.ACTIVE,
                Standing.BLOCKED,
            ],
            default=Standing.UNKNOWN,
        ),
        index=status.index,
        dtype="object",
    )
