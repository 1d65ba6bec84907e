"""The approval form in the Prefect UI, in the operators' language.

The form makes the operator choose approve or reject (its default, "escolha", is neither: a form
sent without a choice pauses the run again, saying so in the operators' language - Prefect's own
check of a required field answers in English), shows the counts per action and the first
changes, harmful ones first, and the deadline.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

import pydantic
from prefect.input import RunInput

from contract_sync.approval import format_time
from contract_sync.decide import Action
from contract_sync.guard import GuardVerdict
from contract_sync.messages import count_actions
from contract_sync.plan import PlannedChange
from contract_sync.texts import label, say

SAMPLE_SIZE = 20
# How the form lists actions: the harmful ones, which the approval is about, first.
FORM_ORDER = (Action.BLOCK, Action.DISABLE, Action.UNBLOCK, Action.ENABLE)


def approval_form(language: str) -> type[RunInput]:
    """The form, in the operators' language: a choice (preset to "escolha") and a note."""
    choices: Any = Literal[
        say(language, "approval.choose"),
        say(language, "approval.approve"),
        say(language, "approval.reject"),
    ]
    return pydantic.create_model(
        "ApprovalForm",
        __base__=RunInput,
        decision=(
            choices,
            pydantic.Field(
                default=say(language, "approval.choose"),
                title=say(language, "approval.decision_field"),
                description=say(language, "approval.decision_help"),
            ),
        ),
        note=(str, pydantic.Field(default="", title=say(language, "approval.note_field"))),
    )


def _form_position(action: Action) -> int:
    return FORM_ORDER.index(action) if action in FORM_ORDER else len(FORM_ORDER)


def request_text(
    verdict: GuardVerdict, changes: Sequence[PlannedChange], deadline: datetime, language: str
) -> str:
    """What the form shows above the choice: why, how many of each, the harmful ones first."""
    why = verdict.describe(language)
    counted = count_actions(changes)
    counts = "\n".join(
        f"| {label(language, 'action', action)} | {counted[action]} |"
        for action in sorted(counted, key=_form_position)
    )
    ordered = sorted(changes, key=lambda change: _form_position(change.action))
    # A list, not a table: the form is narrow, and a wide table hides its right-hand columns.
    sample = "\n".join(
        "- "
        + say(
            language,
            "approval.form_sample_line",
            action=label(language, "action", c.action),
            customer=c.customer or c.username,
            username=c.username,
            contract=c.contract_id,
            reason=c.reason,
        )
        for c in ordered[:SAMPLE_SIZE]
    )
    return "\n".join(
        [
            f"### {say(language, 'approval.form_title')}",
            "",
            say(
                language,
                "approval.form_intro",
                why=why,
                total=len(changes),
                deadline=format_time(deadline, language),
            ),
            "",
            f"**{say(language, 'approval.form_counts')}**",
            "",
            f"| {say(language, 'column.action')} | {say(language, 'report.count')} |",
            "|---|---|",
            counts,
            "",
            f"**{say(language, 'approval.form_sample', shown=min(SAMPLE_SIZE, len(changes)))}**",
            "",
            sample,
            "",
            say(language, "approval.form_after"),
        ]
    )
