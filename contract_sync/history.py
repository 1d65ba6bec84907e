"""Customer history: what every run decided and did about each customer it changed, or would
have changed, kept for operators to answer "what happened to customer X?".

One entry per (run, customer): a change with its outcome (applied, already so, stale, failed,
not attempted, withdrawn, held at write time, planned in a dry run), a Skip with its reason, or
a hold that kept the sync from changing the customer. NoChange and NotManaged customers leave
nothing: nothing happened to them. A Skip or a hold that is the same as the customer's last
entry (same action, same reason) is not kept again run after run: the entry that started the
streak says since when, the next different entry when it ended.

Stored by `contract_sync/records/store.py`; the entries come from here (plain functions over the run
report and the notification ledger).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
from pydantic import AwareDatetime, BaseModel, ConfigDict

from contract_sync.decide import CHANGES, Action
from contract_sync.outcome import Result
from contract_sync.plan import PlannedChange
from contract_sync.report import RunReport

REPEATABLE = frozenset({Action.SKIP, Action.HELD})  # kept once per streak, not every run


class HistoryEntry(BaseModel):
    """One customer in one run. No password, no document: what an operator needs to answer."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    run_name: str
    recorded_at: AwareDatetime
    dry_run: bool
    magnus_id: int
    username: str
    customer: str
    contract: str
    magnus_before: int | None
    magnus_target: int | None
    magnus_after: int | None
    ixc_status: str
    ixc_status_internet: str
    action: Action
    would_action: Action | None = None  # a held customer: what the sync would have done
    result: Result | None = None  # a change's outcome; None for a Skip
    reason: str
    detail: str = ""

    @property
    def repeatable(self) -> bool:
        return self.action in REPEATABLE


def run_entries(report: RunReport, run_id: str, run_name: str, at: datetime) -> list[HistoryEntry]:
    """The entries of one run: its changes with their outcomes, its Skips, its held customers
    the sync would have changed."""
    plan = report.plan
    would = plan["would_action"] if "would_action" in plan else pd.Series(pd.NA, index=plan.index)
    kept = (
        plan["action"].isin(list(CHANGES))
        | plan["action"].eq(Action.SKIP)
        | (plan["action"].eq(Action.HELD) & would.isin(list(CHANGES)))
    )
    entries = []
    for record in plan[kept].assign(would_action=would[kept]).to_dict("records"):
        action = Action(record["action"])
        outcome = report.outcomes.get(int(record["magnus_id"]))
        result = outcome.result if outcome is not None else None
        if action in CHANGES and result is None:
            result = Result.NOT_ATTEMPTED
        if action is Action.HELD:
            result = Result.HELD
        before = as_number(record["magnus_active"])
        after = outcome.magnus_after if outcome is not None else None
        if after is None and result is not Result.FAILED:  # nothing was written: unchanged
            after = before
        entries.append(
            HistoryEntry(
                run_id=run_id,
                run_name=run_name,
                recorded_at=at,
                dry_run=report.dry_run,
                magnus_id=int(record["magnus_id"]),
                username=str(record["username"]),
                customer=str(record["customer"]),
                contract=_text(record["contract_ref"]).strip(),
                magnus_before=before,
                magnus_target=as_number(record["target_active"]),
                magnus_after=after,
                ixc_status=_text(record["ixc_status"]),
                ixc_status_internet=_text(record["ixc_status_internet"]),
                action=action,
                would_action=None if _missing(record["would_action"]) else record["would_action"],
                result=result,
                reason=str(record["reason"]),
                detail=outcome.detail if outcome is not None else "",
            )
        )
    return entries


def ledger_entry(run_id: str, change: PlannedChange, detail: str, at: datetime) -> HistoryEntry:
    """An applied write the notification ledger knows of, for a run that could not record it
    itself (it was killed after writing): recorded by a later run, under the writing run."""
    return HistoryEntry(
        run_id=run_id,
        run_name="",
        recorded_at=at,
        dry_run=False,
        magnus_id=change.magnus_id,
        username=change.username,
        customer=change.customer,
        contract=change.contract_ref,
        magnus_before=change.magnus_active,
        magnus_target=change.target_active,
        magnus_after=change.target_active,
        ixc_status=change.ixc_status,
        ixc_status_internet=change.ixc_status_internet,
        action=change.action,
        result=Result.APPLIED,
        reason=change.reason,
        detail=detail,
    )


def as_number(value: Any) -> int | None:
    """A plan cell as an int, None when missing (pandas NA/NaN)."""
    return None if _missing(value) else int(value)


def _text(value: Any) -> str:
    return "" if _missing(value) else str(value)


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value))
