"""What happened to each planned change."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel


class Result(StrEnum):
    APPLIED = "applied"
    ALREADY_DONE = "already_done"  # Magnus already had the target status at write time
    STALE = "stale"  # the customer changed since planning; not written
    FAILED = "failed"
    PLANNED = "planned"  # dry run
    NOT_ATTEMPTED = "not_attempted"  # the run stopped before writing (guard, failed fetch)
    WITHDRAWN = "withdrawn"  # approved, but IXC read again after the approval no longer agrees
    HELD = "held"  # an operator put a hold on the customer after the plan was made: not written


class ChangeOutcome(BaseModel):
    magnus_id: int
    result: Result
    detail: str = ""
    magnus_after: int | None = None
    save_seconds: float | None = None  # how long Magnus took to save it (applied by this run)
