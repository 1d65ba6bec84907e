"""When a run must ask before a mass change, and the answer: approved, rejected or timed out.

A run that would block or disable more customers than the guard allows asks an operator first
(tasks/contract_sync/approval.py); no answer by the deadline is a rejection (nothing written).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from contract_sync.guard import GuardLimits
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


def format_time(moment: datetime, language: str) -> str:
    pattern = "%Y-%m-%d %H:%M" if language == "en" else "%d/%m/%Y %H:%M"
    return f"{moment:{pattern}} ({moment.tzname()})"


@dataclass(frozen=True)
class ApprovalRules:
    """When a run must ask, and how: the run's guard parameters."""

    limits: GuardLimits
    ad_hoc: bool  # chosen usernames only: judged by the absolute limit
    unattended: bool  # abort with an alert instead of pausing
    timeout_seconds: int
    poll_seconds: float
    alert: bool  # tell the errors webhook
