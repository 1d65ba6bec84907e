"""The run report: the audit trail every contract-sync run leaves as Prefect artifacts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from contract_sync.decide import CHANGES, Action
from contract_sync.holds import ExpiredHold
from contract_sync.outcome import ChangeOutcome, Result
from contract_sync.plan import PlannedChange
from contract_sync.texts import DEFAULT_LANGUAGE, label, say
from contract_sync.write_times import WriteTimes

TABLE_COLUMNS = [
    "customer",
    "username",
    "contract",
    "magnus_before",
    "magnus_after",
    "ixc_status",
    "ixc_status_internet",
    "action",
    "reason",
    "result",
]
TABLE_ROW_LIMIT = 10_000  # past this, the table keeps every row except NoChange/NotManaged
_QUIET_ACTIONS = [Action.NO_CHANGE, Action.NOT_MANAGED]


@dataclass
class RunReport:
    """Everything a run decided and did, and what went wrong along the way."""

    plan: pd.DataFrame
    dry_run: bool
    language: str = DEFAULT_LANGUAGE
    outcomes: dict[int, ChangeOutcome] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    unsent_notifications: list[str] = field(default_factory=list)
    stopped_because: str | None = None
    # Changes applied (by this run or an interrupted earlier one) whose announcement is still
    # owed, and earlier runs' changes this run announced.
    unannounced_changes: list[str] = field(default_factory=list)
    announced_late: list[str] = field(default_factory=list)
    approval: str | None = None  # how an operator answered, when the run asked
    approval_note: str | None = None  # a dry run: whether a real run would have to ask
    limits_note: str | None = None  # the run asked for looser limits than its deployment's
    expired_holds: list[ExpiredHold] = field(default_factory=list)  # of customers in this run
    write_times: WriteTimes | None = None  # a run that wrote: its save times and write phase

    def record(self, changes: Iterable[PlannedChange], result: Result, detail: str) -> None:
        """The same outcome for changes that were not written (dry run, stopped, withdrawn)."""
        for change in changes:
            self.outcomes[change.magnus_id] = ChangeOutcome(
                magnus_id=change.magnus_id, result=result, detail=detail
            )

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
            self._say(f"count.{a}", n=counts[a])
            for a in (Action.BLOCK, Action.UNBLOCK, Action.DISABLE, Action.ENABLE)
        )
        done = ", ".join(self._say(f"count.{r}", n=n) for r, n in self.result_counts().items())
        headline = self._say(
            "report.headline",
            dry=self._say("report.dry_prefix") if self.dry_run else "",
            customers=len(self.plan),
            changes=changes,
            skipped=counts[Action.SKIP],
            results=done or self._say("report.nothing_written"),
        )
        held = counts[Action.HELD]
        return headline + (self._say("report.held_suffix", n=held) if held else "")

    def _say(self, key: str, **values: object) -> str:
        return say(self.language, key, **values)

    def _label(self, kind: str, value: object) -> str:
        return label(self.language, kind, value)

    def table_rows(self) -> list[dict[str, Any]]:
        rows = self.plan
        if len(rows) > TABLE_ROW_LIMIT:
            rows = rows[~rows["action"].isin(_QUIET_ACTIONS)]
        return [self._row(record) for record in rows.to_dict("records")]

    def _row(self, record: Mapping[Hashable, Any]) -> dict[str, Any]:
        outcome = self.outcomes.get(int(record["magnus_id"]))
        after = record["magnus_active"]
        if outcome is not None and outcome.magnus_after is not None:
            after = outcome.magnus_after
        values = {
            "customer": record["customer"],
            "username": record["username"],
            "contract": _blank(record["contract_ref"]),
            "magnus_before": _blank(record["magnus_active"]),
            "magnus_after": _blank(after),
            "ixc_status": _blank(record["ixc_status"]),
            "ixc_status_internet": _blank(record["ixc_status_internet"]),
            "action": self._label("action", record["action"]),
            "reason": record["reason"],
            "result": self._describe(outcome),
        }
        return {self._say(f"column.{name}"): value for name, value in values.items()}

    @staticmethod
    def read_row(row: dict[str, Any], language: str) -> dict[str, Any]:
        """A row of the decisions table as the code names it: column names, an `Action` and a
        `Result` (or None) with its detail - for programs that read the artifact back."""
        columns = {say(language, f"column.{name}"): name for name in TABLE_COLUMNS}
        decoded = {columns.get(name, name): value for name, value in row.items()}
        actions = {label(language, "action", a): a for a in Action}
        decoded["action"] = actions.get(decoded["action"], decoded["action"])
        shown = str(decoded["result"])
        decoded["result"], decoded["detail"] = None, ""
        for result in sorted(Result, key=lambda r: -len(label(language, "result", r))):
            if shown.startswith(text := label(language, "result", result)):
                decoded["result"], decoded["detail"] = result, shown[len(text) :].lstrip(": ")
                break
        return decoded

    def _describe(self, outcome: ChangeOutcome | None) -> str:
        if outcome is None:
            return ""
        result = self._label("result", outcome.result)
        return f"{result}: {outcome.detail}" if outcome.detail else result

    def markdown(self) -> str:
        say_ = self._say
        lines = [f"# {say_('report.title_dry' if self.dry_run else 'report.title')}", ""]
        lines += [f"**{self.headline()}**", ""]
        if self.stopped_because:
            lines += [f"> {say_('report.stopped', why=self.stopped_because)}", ""]
        for note in (self.limits_note, self.approval_note):
            if note:
                lines += [f"> {note}", ""]
        lines += _bullets(say_("report.approval"), [self.approval] if self.approval else [])
        lines += self._table("report.decisions", "action", self.action_counts())
        if self.outcomes:
            lines += self._table("report.results", "result", self.result_counts())
        if self.write_times is not None:
            lines += _bullets(say_("report.writing"), [self.write_times.describe(self.language)])
        if len(self.plan) > TABLE_ROW_LIMIT:
            shown = len(self.table_rows())
            lines += [say_("report.table_limited", shown=shown, customers=len(self.plan)), ""]
        lines += _bullets(say_("report.problems"), self.problems)
        lines += _bullets(
            say_("report.failed"),
            [
                say_("report.failed_line", magnus_id=o.magnus_id, detail=o.detail)
                for o in self.failed_changes
            ],
        )
        lines += _bullets(
            say_("report.withdrawn"),
            [
                say_("report.failed_line", magnus_id=o.magnus_id, detail=o.detail)
                for o in self.outcomes.values()
                if o.result == Result.WITHDRAWN
            ],
        )
        lines += _bullets(say_("report.unsent"), self.unsent_notifications)
        lines += _bullets(say_("report.unannounced"), self.unannounced_changes)
        lines += _bullets(say_("report.announced_late"), self.announced_late)
        shared = self.plan[self.plan["duplicate_contract"]]
        lines += _bullets(
            say_("report.shared"),
            [
                f"{ref}: {', '.join(group['username'])}"
                for ref, group in shared.groupby("contract_id", sort=True)
            ],
        )
        return "\n".join([*lines, *self._hold_sections()])

    def _held_rows(self) -> pd.DataFrame:
        return self.plan[self.plan["action"].eq(Action.HELD)]

    def _hold_sections(self) -> list[str]:
        held = [
            self._say("report.held_line", customer=customer, username=username, reason=reason)
            for customer, username, reason in self._held_rows()[
                ["customer", "username", "reason"]
            ].itertuples(index=False)
        ]
        return _bullets(self._say("report.held"), held) + _bullets(
            self._say("report.expired_holds"), [expired.note for expired in self.expired_holds]
        )

    def hold_lines(self, most: int = 5) -> list[str]:
        """For the Discord summary: held customers the sync would have changed, expired holds."""
        held = self._held_rows()  # only holds make Held rows, and they add `would_action`
        would_change = held[held["would_action"].isin(list(CHANGES))] if len(held) else held
        lines = [
            self._say(
                "summary.held_line",
                customer=customer or username,
                username=username,
                action=self._label("action", action),
            )
            for customer, username, action in would_change[
                ["customer", "username", "would_action"]
            ].itertuples(index=False)
        ]
        if len(lines) > most:
            lines = [*lines[:most], self._say("summary.held_more", count=len(lines) - most)]
        return lines + [expired.note for expired in self.expired_holds[:most]]

    def _table(self, title: str, kind: str, counts: Mapping[str, int]) -> list[str]:
        rows = [f"| {self._label(kind, name)} | {count} |" for name, count in counts.items()]
        header = f"| | {self._say('report.count')} |"
        return [f"## {self._say(title)}", "", header, "|---|---|", *rows, ""]


def _bullets(title: str, items: Sequence[str]) -> list[str]:
    if not items:
        return []
    return [f"## {title}", "", *(f"- {item}" for item in items), ""]


def _blank(value: Any) -> str:
    return (
        ""
        if value is None or value is pd.NA or (isinstance(value, float) and value != value)
        else str(value)
    )
