"""The run report: the audit trail every contract-sync run leaves as Prefect artifacts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from reconcile.decide import Action
from reconcile.outcome import ChangeOutcome, Result

TABLE_ROW_LIMIT = 10_000  # past this, the table keeps every row except NoChange/NotManaged
_QUIET_ACTIONS = [Action.NO_CHANGE, Action.NOT_MANAGED]


@dataclass
class RunReport:
    """Everything a run decided and did, and what went wrong along the way."""

    plan: pd.DataFrame
    outcomes: Mapping[int, ChangeOutcome]
    dry_run: bool
    problems: list[str] = field(default_factory=list)
    unsent_notifications: list[str] = field(default_factory=list)
    stopped_because: str | None = None
    # Changes applied (by this run or an interrupted earlier one) whose announcement is still
    # owed, and earlier runs' changes this run announced.
    unannounced_changes: list[str] = field(default_factory=list)
    announced_late: list[str] = field(default_factory=list)

    def action_counts(self) -> dict[str, int]:
        counts = self.plan["action"].value_counts()
        return {str(action): int(counts.get(action, 0)) for action in Action}

    def result_counts(self) -> dict[str, int]:
        counted = Counter(outcome.result for outcome in self.outcomes.values())
        return {str(result): counted[result] for result in Result if counted[result]}

    @property
    def failed_changes(self) -> list[ChangeOutcome]:
        return [o for o in self.outcomes.values() if o.result == Result.FAILED]

    @property
    def complete(self) -> bool:
        """False when anything kept the run from doing (and saying) all it should have."""
        return not (
            self.problems
            or self.unsent_notifications
            or self.failed_changes
            or self.stopped_because
        )

    def headline(self) -> str:
        counts = self.action_counts()
        changes = ", ".join(
            f"{counts[a]} {a}"
            for a in (Action.BLOCK, Action.UNBLOCK, Action.DISABLE, Action.ENABLE)
        )
        results = self.result_counts()
        done = ", ".join(f"{n} {r}" for r, n in results.items()) or "nothing written"
        mode = "DRY RUN - " if self.dry_run else ""
        return f"{mode}{len(self.plan)} customers: {changes}, {counts[Action.SKIP]} skipped; {done}"

    def table_rows(self) -> list[dict[str, Any]]:
        rows = self.plan
        if len(rows) > TABLE_ROW_LIMIT:
            rows = rows[~rows["action"].isin(_QUIET_ACTIONS)]
        return [self._row(record) for record in rows.to_dict("records")]

    def _row(self, record: dict[str, Any]) -> dict[str, Any]:
        outcome = self.outcomes.get(int(record["magnus_id"]))
        after = record["magnus_active"]
        if outcome is not None and outcome.magnus_after is not None:
            after = outcome.magnus_after
        return {
            "customer": record["customer"],
            "username": record["username"],
            "contract": _blank(record["contract_ref"]),
            "magnus_before": _blank(record["magnus_active"]),
            "magnus_after": _blank(after),
            "ixc_status": _blank(record["ixc_status"]),
            "ixc_status_internet": _blank(record["ixc_status_internet"]),
            "action": record["action"],
            "reason": record["reason"],
            "result": _describe(outcome),
        }

    def markdown(self) -> str:
        lines = [f"# contract-sync {'(dry run)' if self.dry_run else ''}".rstrip(), ""]
        lines += [f"**{self.headline()}**", ""]
        if self.stopped_because:
            lines += [f"> Stopped before writing: {self.stopped_because}", ""]
        lines += _table("Decisions", self.action_counts())
        if self.outcomes:
            lines += _table("Results", self.result_counts())
        if len(self.plan) > TABLE_ROW_LIMIT:
            lines += [
                f"The decisions table lists the {len(self.table_rows())} rows that are not "
                f"NoChange/NotManaged ({len(self.plan)} customers in all).",
                "",
            ]
        lines += _bullets("Problems", self.problems)
        lines += _bullets(
            "Failed changes", [f"Magnus id {o.magnus_id}: {o.detail}" for o in self.failed_changes]
        )
        lines += _bullets("Notifications not sent", self.unsent_notifications)
        lines += _bullets(
            "Applied changes not announced yet (the next run announces them)",
            self.unannounced_changes,
        )
        lines += _bullets("Applied by an earlier run, announced by this one", self.announced_late)
        shared = self.plan[self.plan["duplicate_contract"]]
        lines += _bullets(
            "Contract ids used by more than one customer",
            [
                f"{ref}: {', '.join(group['username'])}"
                for ref, group in shared.groupby("contract_id", sort=True)
            ],
        )
        return "\n".join(lines)


def _table(title: str, counts: Mapping[str, int]) -> list[str]:
    rows = [f"| {name} | {count} |" for name, count in counts.items()]
    return [f"## {title}", "", "| | count |", "|---|---|", *rows, ""]


def _bullets(title: str, items: Sequence[str]) -> list[str]:
    if not items:
        return []
    return [f"## {title}", "", *(f"- {item}" for item in items), ""]


def _describe(outcome: ChangeOutcome | None) -> str:
    if outcome is None:
        return ""
    return f"{outcome.result}: {outcome.detail}" if outcome.detail else str(outcome.result)


def _blank(value: Any) -> str:
    return (
        ""
        if value is None or value is pd.NA or (isinstance(value, float) and value != value)
        else str(value)
    )
