"""Asking a person before a mass change: the pause, the form, and the answer.

A run that would block or disable more customers than the guard allows stops before writing and
pauses with a form in the Prefect UI. The form makes the operator choose approve or reject (no
default that silently rejects), shows the counts per action, the harmful changes first and the
deadline; the paused state says why and until when. No answer by the deadline is a rejection
(nothing written), decided by the run itself so that it still publishes its report.

The pause happens in the flow process (not `suspend_flow_run`): the process keeps the run lock
(`run_lock`) while it waits, so no other run of the same Magnus server can start meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

import pydantic
from prefect.client.orchestration import get_client
from prefect.context import FlowRunContext
from prefect.exceptions import NotPausedError
from prefect.flow_runs import aresume_flow_run
from prefect.input import RunInput, keyset_from_paused_state
from prefect.logging import get_run_logger
from prefect.runtime import flow_run as flow_run_context
from prefect.states import Paused
from prefect.utilities.engine import propose_state

from clock import Clock
from reconcile.decide import HARMFUL
from reconcile.guard import GuardLimits, GuardVerdict, assess
from reconcile.messages import count_actions
from reconcile.outcome import Result
from reconcile.plan import PlannedChange, planned_changes
from reconcile.reconfirm import reconfirm
from reconcile.report import RunReport
from reconcile.texts import label, say
from tasks.contract_sync.announcing import post_alert
from tasks.contract_sync.reading import read_contracts_of
from tasks.contract_sync.systems import Systems

PAUSE_KEY = "approval"
# Prefect itself fails a pause that outlives its timeout; the run answers for itself first.
PAUSE_MARGIN_SECONDS = 120
SAMPLE_SIZE = 20


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


def approval_form(language: str) -> type[RunInput]:
    """The form, in the operators' language: a required choice and an optional note."""
    choices = Literal[say(language, "approval.approve"), say(language, "approval.reject")]  # type: ignore[valid-type]
    return pydantic.create_model(
        "ApprovalForm",
        __base__=RunInput,
        decision=(choices, pydantic.Field(title=say(language, "approval.decision_field"))),
        note=(str, pydantic.Field(default="", title=say(language, "approval.note_field"))),
    )


def request_text(
    verdict: GuardVerdict, changes: Sequence[PlannedChange], deadline: datetime, language: str
) -> str:
    """What the form shows above the choice: why, how many of each, the harmful ones first."""
    why = verdict.describe(language)
    counts = "\n".join(
        f"| {label(language, 'action', action)} | {count} |"
        for action, count in count_actions(changes).items()
    )
    ordered = sorted(changes, key=lambda change: change.action not in HARMFUL)
    sample = "\n".join(
        f"| {label(language, 'action', c.action)} | {c.customer} | {c.username} "
        f"| {c.contract_id} | {c.reason} |"
        for c in ordered[:SAMPLE_SIZE]
    )
    header = " | ".join(
        say(language, f"column.{name}")
        for name in ("action", "customer", "username", "contract", "reason")
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
            f"| {header} |",
            "|---|---|---|---|---|",
            sample,
            "",
            say(language, "approval.form_after"),
        ]
    )


async def ask_for_approval(
    verdict: GuardVerdict,
    changes: Sequence[PlannedChange],
    *,
    timeout_seconds: int,
    poll_seconds: float,
    clock: Clock,
    language: str,
) -> Answer:
    """Pause this flow run with the form until an operator answers or the deadline passes."""
    deadline = clock.now() + timedelta(seconds=timeout_seconds)
    form = approval_form(language)
    form._description = request_text(verdict, changes, deadline, language)
    message = say(
        language,
        "approval.paused",
        deadline=format_time(deadline, language),
        why=verdict.describe(language),
    )
    timed_out = {
        "decision": say(language, "approval.reject"),
        "note": say(language, "approval.timed_out_note"),
    }
    answer = await _paused_until_answered(form, message, timeout_seconds, poll_seconds, timed_out)
    if answer is None:
        return Answer(Decision.TIMED_OUT, timed_out["note"], clock.now())
    approved = answer.decision == say(language, "approval.approve")
    decision = Decision.APPROVED if approved else Decision.REJECTED
    return Answer(decision, str(answer.note).strip(), clock.now())


async def _paused_until_answered(
    form: type[RunInput],
    message: str,
    timeout_seconds: int,
    poll_seconds: float,
    timed_out: dict[str, str],
) -> Any | None:
    """The operator's answer, or None when none came before the deadline.

    Like Prefect's `pause_flow_run`, but the Paused state carries `message` (why, until when),
    and at the deadline the run resumes itself with a rejection - unless an operator answered
    in the same instant, whose answer then stands.
    """
    context = FlowRunContext.get()
    if context is None:
        raise RuntimeError("only a flow run can wait for approval")
    run_id = context.flow_run.id
    proposed = Paused(
        timeout_seconds=timeout_seconds + PAUSE_MARGIN_SECONDS,
        pause_key=PAUSE_KEY,
        message=message,
    )
    keyset = keyset_from_paused_state(proposed)
    proposed.state_details.run_input_keyset = keyset
    async with get_client() as client:
        state = await propose_state(client, proposed, flow_run_id=run_id)
        if not state.is_paused():
            raise RuntimeError(f"the run could not pause for approval (state {state.type})")
        await form.asave(keyset)
        give_up_at = time.monotonic() + timeout_seconds
        while (remaining := give_up_at - time.monotonic()) > 0:
            await asyncio.sleep(min(poll_seconds, remaining))
            run = await client.read_flow_run(run_id)
            if run.state is not None and run.state.is_running():
                return await form.aload(keyset)
    with contextlib.suppress(NotPausedError):
        await aresume_flow_run(run_id, run_input=timed_out)
        return None
    return await form.aload(keyset)  # the operator answered as time ran out


@dataclass(frozen=True)
class ApprovalRules:
    """When a run must ask, and how: the run's guard parameters."""

    limits: GuardLimits
    ad_hoc: bool  # chosen usernames only: judged by the absolute limit
    unattended: bool  # abort with an alert instead of pausing
    timeout_seconds: int
    poll_seconds: float
    alert: bool  # tell the errors webhook


async def approved_changes(
    systems: Systems, report: RunReport, rules: ApprovalRules
) -> list[PlannedChange]:
    """The changes this run may write now; the report says what became of the others.

    A dry run writes nothing but says whether a real run would need approval. Within the
    guard's limit every change goes ahead. Past it, an unattended run aborts with an alert;
    otherwise the run pauses for an operator, and after an approval IXC is read again and each
    change decided again, so only the changes that still stand are written.
    """
    changes = planned_changes(report.plan)
    language = systems.language
    verdict = assess(report.plan, rules.limits, whole_base=not rules.ad_hoc)
    why = verdict.describe(language)
    if systems.ledger is None:
        report.approval_note = say(
            language,
            "report.would_need_approval"
            if verdict.needs_approval
            else "report.would_not_need_approval",
            why=why,
        )
        report.record(changes, Result.PLANNED, "")
        return []
    if not verdict.needs_approval:
        return changes
    alert = systems.discord if rules.alert else None
    if rules.unattended:
        if alert is not None:
            await post_alert(
                alert,
                say(language, "alert.aborted"),
                [why],
                counts=count_actions(changes),
                flow_run_id=flow_run_context.id,
            )
        return _stopped(report, changes, say(language, "approval.stopped_unattended", why=why))
    if alert is not None:
        deadline = systems.clock.now() + timedelta(seconds=rules.timeout_seconds)
        await post_alert(
            alert,
            say(language, "alert.needs_approval"),
            [why, say(language, "alert.deadline", deadline=format_time(deadline, language))],
            counts=count_actions(changes),
            flow_run_id=flow_run_context.id,
        )
    get_run_logger().warning(say(language, "log.pausing", why=why))
    answer = await ask_for_approval(
        verdict,
        changes,
        timeout_seconds=rules.timeout_seconds,
        poll_seconds=rules.poll_seconds,
        clock=systems.clock,
        language=language,
    )
    report.approval = answer.describe(language)
    if answer.decision is Decision.TIMED_OUT:
        stopped = say(language, "approval.stopped_timeout", why=why, seconds=rules.timeout_seconds)
        return _stopped(report, changes, stopped)
    if answer.decision is Decision.REJECTED:
        note = answer.note or say(language, "approval.no_note")
        return _stopped(
            report, changes, say(language, "approval.stopped_rejected", why=why, note=note)
        )
    get_run_logger().warning(say(language, "log.approved", note=answer.note or "-"))
    return await _still_standing(systems, changes, report)


def _stopped(report: RunReport, changes: list[PlannedChange], why: str) -> list[PlannedChange]:
    report.stopped_because = why
    report.record(changes, Result.NOT_ATTEMPTED, why)
    return []


async def _still_standing(
    systems: Systems, approved: list[PlannedChange], report: RunReport
) -> list[PlannedChange]:
    """Read IXC again for the approved changes and keep those the fresh data still calls for."""
    fresh = await read_contracts_of(systems, sorted({c.contract_id for c in approved}))
    result = reconfirm(
        approved,
        fresh.contracts,
        fresh.failed_ids,
        systems.ixc_config.status_mapping,
        systems.magnus_config.block_status,
        systems.language,
    )
    for change in approved:
        if change.magnus_id in result.withdrawn:
            report.record([change], Result.WITHDRAWN, result.withdrawn[change.magnus_id])
    return result.standing
