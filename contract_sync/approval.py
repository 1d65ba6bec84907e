"""When a run must ask before a mass change, and the answer: approved, rejected or timed out.

A run that would block or disable more customers than the guard allows asks an operator first
(tasks/contract_sync/approval.py); no answer by the deadline is a rejection (nothing written).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from contract_sync.guard import GuardVerdict
from contract_sync.texts import say


class Decision(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    TIMED_OUT = "timed_out"


@dataclass(frozen=True)
class Answer:
    """How the approval ended, for the run report."""

    decision: Decision
    note: str
    at: datetime

    @property
    def approved(self) -> bool:
        return self.decision is Decision.APPROVED

    def describe(self, language: str) -> str:
        return say(
            language,
            "report.approval_line",
            decision=say(language, f"approval.{self.decision}"),
            who=say(language, "approval.operator"),
            when=format_time(self.at, language),
            note=self.note or say(language, "approval.no_note"),
        )

    def refusal(self, why: str, timeout_seconds: int, language: str) -> str | None:
        """Why nothing is written after this answer (`why`: the guard's verdict, said); None
        when it approves."""
        if self.decision is Decision.TIMED_OUT:
            return say(language, "approval.stopped_timeout", why=why, seconds=timeout_seconds)
        if self.decision is Decision.REJECTED:
            note = self.note or say(language, "approval.no_note")
            return say(language, "approval.stopped_rejected", why=why, note=note)
        return None


def format_time(moment: datetime, language: str) -> str:
    pattern = "%Y-%m-%d %H:%M" if language == "en" else "%d/%m/%Y %H:%M"
    return f"{moment:{pattern}} ({moment.tzname()})"


@dataclass(frozen=True)
class ApprovalRules:
    """How a run asks (its guard's limits are kept apart: see contract_sync/limits.py)."""

    ad_hoc: bool  # chosen usernames only: judged by the absolute limit
    unattended: bool  # abort with an alert instead of pausing
    timeout_seconds: int
    poll_seconds: float
    alert: bool  # tell the errors webhook


def dry_run_note(verdict: GuardVerdict, language: str) -> str:
    """What a dry run's report says about the approval a real run would need."""
    key = (
        "report.would_need_approval" if verdict.needs_approval else "report.would_not_need_approval"
    )
    return say(language, key, why=verdict.describe(language))
