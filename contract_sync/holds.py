"""Holds: customers the sync never changes automatically, whatever IXC says.

An internal line, a partner, a customer with a negotiated debt: operators put a hold on the
Magnus username (with a reason, who, when and an optional expiry) and every run shows the
customer as `Held`, with the hold's reason and what the sync would have done without it. A
hold that has expired stops holding by itself, and the run says so.

Holds are kept in the records database (`contract_sync/records/store.py`, which says why a table and
not a Prefect Variable or block). This module holds the rules: what a valid hold is, when it
holds, and what it does to a run's decision table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import pandas as pd
from pydantic import AwareDatetime, BaseModel, ConfigDict, StringConstraints, ValidationError

from contract_sync.decide import Action
from contract_sync.texts import DEFAULT_LANGUAGE, format_moment, label, say

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
_VALUE_SHOWN = 40  # characters of a malformed value quoted in the error


class Hold(BaseModel):
    """One hold, as stored. `ended_*` is set when an operator removed it, or when a run found
    it expired and reported that."""

    model_config = ConfigDict(frozen=True)

    id: int
    username: Text
    reason: Text
    created_by: Text
    created_at: AwareDatetime
    expires_at: AwareDatetime | None = None
    ended_at: AwareDatetime | None = None
    ended_by: str | None = None
    ended_note: str = ""

    def holds_at(self, moment: datetime) -> bool:
        return self.ended_at is None and (self.expires_at is None or moment < self.expires_at)

    def describe(self, language: str, zone: ZoneInfo) -> str:
        """ "dívida negociada (por maria em 05/12/2026 10:00 (-03), até 31/12/2026 ...)"."""
        return say(
            language,
            "hold.describe",
            reason=self.reason,
            who=self.created_by,
            since=format_moment(self.created_at, zone, language),
            until=self.until(language, zone),
        )

    def until(self, language: str, zone: ZoneInfo) -> str:
        if self.expires_at is None:
            return say(language, "hold.no_expiry")
        local = self.expires_at.astimezone(zone)
        if local.time() == time():  # set as a day: it lasts through the day before midnight
            last_day = local.date() - timedelta(days=1)
            pattern = "%Y-%m-%d" if language == "en" else "%d/%m/%Y"
            return say(language, "hold.through", day=f"{last_day:{pattern}}")
        return say(language, "hold.until", until=format_moment(self.expires_at, zone, language))


@dataclass(frozen=True)
class HoldProblem:
    """Why one stored hold is unusable (for the error that stops the run)."""

    hold_id: object
    username: object
    field: str
    value: object


class HoldsUnreadable(Exception):
    """The stored holds cannot all be read: a run must stop before it writes anything, since
    "no holds" would be a guess that may change a customer an operator protected."""

    def __init__(self, problems: Sequence[HoldProblem], language: str = DEFAULT_LANGUAGE) -> None:
        self.problems = list(problems)
        self.language = language
        super().__init__(self.describe())

    def in_language(self, language: str) -> HoldsUnreadable:
        return HoldsUnreadable(self.problems, language)

    def describe(self) -> str:
        lines = [
            say(
                self.language,
                "holds.bad_row",
                id=problem.hold_id,
                username=_shown(problem.username),
                field=problem.field,
                value=_shown(problem.value),
            )
            for problem in self.problems[:5]
        ]
        return say(self.language, "holds.unreadable", problems="; ".join(lines))


def parse_holds(rows: Iterable[dict[str, Any]]) -> list[Hold]:
    """Every stored row as a `Hold`; `HoldsUnreadable` naming each bad row if any is invalid."""
    holds: list[Hold] = []
    problems: list[HoldProblem] = []
    for row in rows:
        try:
            holds.append(Hold.model_validate(row))
        except ValidationError as error:
            problems += [
                HoldProblem(
                    row.get("id"),
                    row.get("username"),
                    ".".join(str(part) for part in detail["loc"]),
                    detail.get("input"),
                )
                for detail in error.errors()
            ]
    if problems:
        raise HoldsUnreadable(problems)
    return holds


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _VALUE_SHOWN else text[: _VALUE_SHOWN - 1] + "…"


_DAY_FIRST = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2}))?")


def expiry_from_text(text: str, zone: ZoneInfo) -> datetime:
    """An operator's expiry, in the provider's zone: `31/12/2026`, `2026-12-31` (the hold lasts
    through that day), `31/12/2026 18:00` or `2026-12-31 18:00` (until that minute)."""
    value = text.strip()
    day_first = _DAY_FIRST.fullmatch(value)
    try:
        if day_first:
            day, month, year, hour, minute = day_first.groups()
            iso = f"{year}-{int(month):02d}-{int(day):02d}"
            value = f"{iso} {int(hour):02d}:{minute}" if hour else iso
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date: use 31/12/2026, 31/12/2026 18:00 or 2026-12-31"
        ) from None
    if parsed.tzinfo is not None:
        return parsed
    if len(value) <= len("2026-12-31"):  # a day: the hold lasts through it
        end_of_day = datetime.combine(parsed.date() + timedelta(days=1), time())
        return end_of_day.replace(tzinfo=zone)
    return parsed.replace(tzinfo=zone)


@dataclass(frozen=True)
class ExpiredHold:
    """A hold of a customer in this run that no longer holds, with the line the report shows."""

    hold: Hold
    note: str


def apply_holds(
    plan: pd.DataFrame,
    holds: Sequence[Hold],
    now: datetime,
    language: str,
    zone: ZoneInfo,
) -> tuple[pd.DataFrame, list[ExpiredHold]]:
    """The plan with every managed customer under a hold made `Held`, and the expired holds.

    A held row keeps what the sync would have done in `would_action` (the reason says it too,
    with the hold's reason, who and until when) and loses its target, so nothing downstream -
    the guard, the counts, the writes - can take it for a change.
    """
    plan = plan.copy()
    plan["would_action"] = pd.Series([None] * len(plan), index=plan.index, dtype="object")
    active = {hold.username: hold for hold in holds if hold.holds_at(now)}
    held = plan["username"].isin(list(active)) & plan["action"].ne(Action.NOT_MANAGED)
    if held.any():
        rows = plan.loc[held, ["username", "action", "reason"]]
        plan.loc[held, "would_action"] = rows["action"]
        plan.loc[held, "reason"] = [
            say(
                language,
                "hold.reason",
                hold=active[username].describe(language, zone),
                action=label(language, "action", action),
                why=why,
            )
            for username, action, why in rows.itertuples(index=False)
        ]
        plan.loc[held, "action"] = Action.HELD
        plan.loc[held, "target_active"] = pd.NA
    in_plan = set(plan["username"])
    expired = [
        ExpiredHold(
            hold,
            say(
                language,
                "hold.expired",
                username=hold.username,
                hold=hold.describe(language, zone),
            ),
        )
        for hold in holds
        if hold.ended_at is None and not hold.holds_at(now) and hold.username in in_plan
    ]
    return plan, expired
