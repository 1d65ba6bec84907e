"""Asking a person before a mass change: the pause, the form, and the answer.

A run that would block or disable more customers than the guard allows stops before writing and
pauses with a form in the Prefect UI. The form makes the operator choose approve or reject (its
default, "escolha", is neither: a form sent without a choice pauses the run again, saying so in
the operators' language - Prefect's own check of a required field answers in English), shows
the counts per action and the first changes, harmful ones first, and the deadline; the paused
state and the run's log say why and until when. No answer by the deadline is a rejection
(nothing written), decided by the run itself so that it still publishes its report. The errors
webhook hears when an approval is asked for and when it is answered.

The pause happens in the flow process (not `suspend_flow_run`): the process keeps the run lock
(`run_lock`) while it waits, so no other run of the same Magnus server can start meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal
from uuid import UUID

import pydantic
from prefect.client.orchestration import PrefectClient, get_client
from prefect.context import FlowRunContext
from prefect.exceptions import NotPausedError
from prefect.flow_runs import aresume_flow_run
from prefect.input import RunInput, keyset_from_paused_state
from prefect.input.run_input import Keyset
from prefect.logging import get_run_logger
from prefect.runtime import flow_run as flow_run_context
from prefect.states import Paused
from prefect.utilities.engine import propose_state

from clock import Clock
from contract_sync.decide import Action
from contract_sync.guard import GuardLimits, GuardVerdict, assess
from contract_sync.messages import count_actions
from contract_sync.outcome import Result
from contract_sync.plan import PlannedChange, planned_changes
from contract_sync.reconfirm import reconfirm
from contract_sync.report import RunReport
from contract_sync.texts import label, say
from tasks.contract_sync.announcing import post_alert
from tasks.contract_sync.reading import read_contracts_of
from tasks.contract_sync.systems import Systems

PAUSE_KEY = "approval"
# Prefect itself fails a pause that outlives its timeout; the run answers for itself first.
PAUSE_MARGIN_SECONDS = 120
SAMPLE_SIZE = 20
# How the form lists actions: the harmful ones, which the approval is about, first.
FORM_ORDER = (Action.BLOCK, Action.DISABLE, Action.UNBLOCK, Action.ENABLE)


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
    """The form, in the operators' language: a choice (preset to "escolha") and a note."""
    choices = Literal[  # type: ignore[valid-type]
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
    get_run_logger().warning(message)
    timed_out = {
        "decision": say(language, "approval.reject"),
        "note": say(language, "approval.timed_out_note"),
    }
    answer = await _paused_until_answered(
        form,
        message,
        timeout_seconds,
        poll_seconds,
        timed_out,
        Undecided(say(language, "approval.choose"), say(language, "approval.undecided")),
    )
    if answer is None:
        return Answer(Decision.TIMED_OUT, timed_out["note"], clock.now())
    approved = answer.decision == say(language, "approval.approve")
    decision = Decision.APPROVED if approved else Decision.REJECTED
    return Answer(decision, str(answer.note).strip(), clock.now())


@dataclass(frozen=True)
class Undecided:
    """The form's preset choice, which answers nothing, and what the run says when sent it."""

    choice: str
    message: str


async def _paused_until_answered(
    form: type[RunInput],
    message: str,
    timeout_seconds: int,
    poll_seconds: float,
    timed_out: dict[str, str],
    undecided: Undecided,
) -> Any | None:
    """The operator's answer, or None when none came before the deadline.

    Like Prefect's `pause_flow_run`, but the Paused state carries `message` (why, until when),
    a form sent without a choice pauses the run again (a pause key is used once) saying so,
    and at the deadline the run resumes itself with a rejection - unless an operator answered
    in the same instant, whose answer then stands.
    """
    context = FlowRunContext.get()
    if context is None:
        raise RuntimeError("only a flow run can wait for approval")
    run_id = context.flow_run.id
    give_up_at = time.monotonic() + timeout_seconds
    async with get_client() as client:
        for pause in itertools.count():
            shown = message if pause == 0 else f"{undecided.message} {message}"
            if pause:
                get_run_logger().warning(shown)
            keyset = await _pause(client, run_id, form, shown, pause, give_up_at)
            answer = await _answer_until(client, run_id, form, keyset, poll_seconds, give_up_at)
            if answer is None:
                with contextlib.suppress(NotPausedError):
                    await aresume_flow_run(run_id, run_input=timed_out)
                    return None
                answer = await form.aload(keyset)  # the operator answered as time ran out
                return None if answer.decision == undecided.choice else answer
            if answer.decision != undecided.choice:
                return answer
    raise AssertionError("unreachable")


async def _pause(
    client: PrefectClient,
    run_id: UUID,
    form: type[RunInput],
    message: str,
    pause: int,
    give_up_at: float,
) -> Keyset:
    """Pause the run (its `pause`-th time) with the form; the keyset its answer is saved under."""
    proposed = Paused(
        timeout_seconds=max(0.0, give_up_at - time.monotonic()) + PAUSE_MARGIN_SECONDS,
        pause_key=PAUSE_KEY if pause == 0 else f"{PAUSE_KEY}-{pause + 1}",
        message=message,
    )
    keyset = keyset_from_paused_state(proposed)
    proposed.state_details.run_input_keyset = keyset
    state = await propose_state(client, proposed, flow_run_id=run_id)
    if not state.is_paused():
        raise RuntimeError(f"the run could not pause for approval (state {state.type})")
    await form.asave(keyset)
    return keyset


async def _answer_until(
    client: PrefectClient,
    run_id: UUID,
    form: type[RunInput],
    keyset: Keyset,
    poll_seconds: float,
    give_up_at: float,
) -> Any | None:
    """The form's answer once the run is resumed; None if it is still paused at `give_up_at`."""
    while (remaining := give_up_at - time.monotonic()) > 0:
        await asyncio.sleep(min(poll_seconds, remaining))
        run = await client.read_flow_run(run_id)
        if run.state is not None and run.state.is_running():
            return await form.aload(keyset)
    return None


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
    answer = await ask_for_approval(
        verdict,
        changes,
        timeout_seconds=rules.timeout_seconds,
        poll_seconds=rules.poll_seconds,
        clock=systems.clock,
        language=language,
    )
    report.approval = answer.describe(language)
    if alert is not None and answer.decision is not Decision.TIMED_OUT:  # a timeout fails the run
        await post_alert(
            alert,
            say(
                language,
                "alert.approval_answered",
                decision=say(language, f"approval.{answer.decision}"),
            ),
            [answer.describe(language)],
            counts=count_actions(changes),
            flow_run_id=flow_run_context.id,
        )
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
