"""The answer to "why is customer X like this?": both sides now, the decision, holds, history.

`Explanation` is what was read and decided (by `tasks/contract_sync/explaining.py`, with the
sync's own plan and hold code); this module only puts it into words, in the operators'
language: a markdown artifact for the Prefect UI, or plain text for a terminal, from the same
sections.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from blocks.ixc.models import IxcContract
from blocks.magnusbilling.models import MagnusUser
from contract_sync.decide import CHANGES, Action
from contract_sync.history import HistoryEntry, as_number
from contract_sync.holds import Hold
from contract_sync.outcome import Result
from contract_sync.plan import contract_id
from contract_sync.texts import format_moment, label, say


@dataclass(frozen=True)
class Explanation:
    username: str
    language: str
    zone: ZoneInfo
    asked_at: datetime
    user: MagnusUser | None
    magnus_problem: str | None  # why the customer could not be read (or was not found)
    contract: IxcContract | None
    ixc_problem: str | None  # why the contract could not be read
    decision: dict[str, Any] | None  # the decision table row, holds applied
    holds: list[Hold]  # every hold of the username, newest first
    history: list[HistoryEntry]  # newest first
    history_total: int
    run_links: dict[str, str] = field(default_factory=dict)  # run id -> Prefect UI address

    @property
    def answered(self) -> bool:
        return self.decision is not None

    def summary(self) -> str:
        """One line: the state message of the explain run."""
        if self.decision is None:
            return self._say("explain.unanswered", username=self.username, why=self.magnus_problem)
        return self._say(
            "explain.summary",
            username=self.username,
            action=label(self.language, "action", self.decision["action"]),
            reason=self.decision["reason"],
        )

    def _say(self, key: str, **values: object) -> str:
        return say(self.language, key, **values)

    def _when(self, moment: datetime) -> str:
        return format_moment(moment, self.zone, self.language)

    def sections(self) -> list[Section]:
        return [self._now(), self._decision(), self._holds(), self._history()]

    def _now(self) -> Section:
        section = Section(self._say("explain.now"))
        if self.user is None:
            section.lines.append(self.magnus_problem or "")
            return section
        user = self.user
        section.pairs += [
            (self._say("embed.customer"), user.name or "-"),
            (self._say("explain.magnus_user"), f"{user.username} (id {user.id})"),
            (self._say("explain.magnus_status"), self._status(user.active, user.active_text)),
            (self._say("explain.contract_field"), _or_dash(user.contract_ref)),
            (self._say("explain.ixc"), self._ixc()),
        ]
        return section

    def _ixc(self) -> str:
        if self.ixc_problem:
            return self.ixc_problem
        if self.contract is None:
            asked = contract_id(self.user.contract_ref) if self.user is not None else None
            if asked is not None:
                return self._say("explain.contract_not_found", contract=asked)
            return self._say("explain.no_contract")
        standing = self.decision["ixc_standing"] if self.decision else None
        return self._say(
            "explain.ixc_codes",
            contract=self.contract.id,
            status=self.contract.status or "-",
            internet=self.contract.status_internet or "-",
            standing=label(self.language, "standing", standing) if standing else "-",
        )

    def _status(self, active: int | None, shown: str = "") -> str:
        if active is None:
            return shown or "-"
        if active in range(5):
            return f"{active} - {label(self.language, 'magnus', active)}"
        return str(active)

    def _decision(self) -> Section:
        section = Section(self._say("explain.decision"))
        row = self.decision
        if row is None:
            section.lines.append(self._say("explain.no_decision"))
            return section
        action = Action(row["action"])
        section.pairs.append((self._say("explain.action"), label(self.language, "action", action)))
        would = row.get("would_action")
        if action is Action.HELD and would is not None:
            section.pairs.append(
                (self._say("explain.would"), label(self.language, "action", would))
            )
        if action in CHANGES:
            section.pairs.append(
                (self._say("explain.target"), self._status(as_number(row["target_active"])))
            )
        section.pairs.append((self._say("explain.reason"), str(row["reason"])))
        return section

    def _holds(self) -> Section:
        section = Section(self._say("explain.holds"))
        for hold in self.holds:
            if hold.holds_at(self.asked_at):
                key = "explain.hold_active"
            elif hold.ended_at is None:
                key = "explain.hold_expired"
            else:
                key = "explain.hold_ended"
            section.lines.append(
                self._say(
                    key,
                    hold=hold.describe(self.language, self.zone),
                    when=self._when(hold.ended_at) if hold.ended_at else "",
                    who=hold.ended_by or "",
                    note=hold.ended_note or "-",
                )
            )
        if not self.holds:
            section.lines.append(self._say("explain.no_holds"))
        return section

    def _history(self) -> Section:
        section = Section(self._say("explain.history"))
        if not self.history:
            section.lines.append(self._say("explain.no_history"))
            return section
        columns = ["when", "run", "action", "result", "magnus", "ixc", "reason"]
        section.header = [self._say(f"explain.column.{name}") for name in columns]
        section.rows = [self._entry_row(entry) for entry in self.history]
        section.links = {
            run: url for entry in self.history if (url := self.run_links.get(run := entry.run_id))
        }
        if self.history_total > len(self.history):
            section.lines.append(
                self._say("explain.history_more", shown=len(self.history), total=self.history_total)
            )
        return section

    def _entry_row(self, entry: HistoryEntry) -> list[Cell]:
        action = label(self.language, "action", entry.action)
        if entry.would_action is not None:
            action += f" ({label(self.language, 'action', entry.would_action)})"
        result = label(self.language, "result", entry.result) if entry.result else ""
        if entry.dry_run and entry.result != Result.PLANNED:  # "planned" says dry run itself
            result = f"{result} {self._say('explain.dry')}".strip()
        reason = entry.reason + (f" | {entry.detail}" if entry.detail else "")
        after = "?" if entry.magnus_after is None else str(entry.magnus_after)
        before = "-" if entry.magnus_before is None else str(entry.magnus_before)
        return [
            Cell(self._when(entry.recorded_at)),
            Cell(entry.run_name or entry.run_id[:8], link=entry.run_id),
            Cell(action),
            Cell(result),
            Cell(f"{before} -> {after}"),
            Cell(f"{entry.ixc_status or '-'} / {entry.ixc_status_internet or '-'}"),
            Cell(reason),
        ]

    def markdown(self) -> str:
        title = self._say("explain.title", username=self.username)
        lines = [f"# {title}", "", self._say("explain.asked", when=self._when(self.asked_at)), ""]
        for section in self.sections():
            lines += section.markdown()
        return "\n".join(lines)

    def terminal(self) -> str:
        title = self._say("explain.title", username=self.username)
        lines = [
            title,
            "=" * len(title),
            self._say("explain.asked", when=self._when(self.asked_at)),
        ]
        for section in self.sections():
            lines += ["", *section.terminal()]
        return "\n".join(lines)


@dataclass(frozen=True)
class Cell:
    text: str
    link: str | None = None  # a run id whose address `Section.links` may hold


@dataclass
class Section:
    title: str
    pairs: list[tuple[str, str]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[Cell]] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)

    def markdown(self) -> list[str]:
        out = [f"## {self.title}", ""]
        if self.pairs:
            out += ["| | |", "|---|---|", *(f"| {k} | {_md(v)} |" for k, v in self.pairs), ""]
        if self.header:
            out += [f"| {' | '.join(self.header)} |", "|" + "---|" * len(self.header)]
            out += [f"| {' | '.join(self._md_cell(c) for c in row)} |" for row in self.rows]
            out.append("")
        return out + [f"- {line}" for line in self.lines] + ([""] if self.lines else [])

    def _md_cell(self, cell: Cell) -> str:
        url = self.links.get(cell.link) if cell.link else None
        return f"[{_md(cell.text)}]({url})" if url else _md(cell.text)

    def terminal(self) -> list[str]:
        out = [self.title, "-" * len(self.title)]
        if self.pairs:
            width = max(len(k) for k, _ in self.pairs)
            out += [f"{k.ljust(width)}  {v}" for k, v in self.pairs]
        if self.header:
            out += aligned_table(self.header, [[c.text for c in row] for row in self.rows])
            out += [f"{name}: {url}" for name, url in self._named_links()]
        out += self.lines
        return out

    def _named_links(self) -> list[tuple[str, str]]:
        named = {
            c.text: self.links[c.link] for row in self.rows for c in row if c.link in self.links
        }
        return list(named.items())


def aligned_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A plain-text table; the last column (the reason) is left as long as it is."""
    widths = [max(len(text) for text in column) for column in zip(header, *rows, strict=True)]
    widths[-1] = 0

    def line(cells: Sequence[str]) -> str:
        return "  ".join(text.ljust(width) for text, width in zip(cells, widths, strict=True))

    return [line(header), line(["-" * max(w, 3) for w in widths]), *(line(r) for r in rows)]


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _or_dash(value: str | None) -> str:
    return value if value not in (None, "") else "-"
