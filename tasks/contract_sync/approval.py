"""Asking a person before a mass change: which changes a run may write now.

A run that would block or disable more customers than the guard allows stops before writing and
pauses with a form in the Prefect UI (`approval_form`, `approval_pause`). The errors webhook
hears when an approval is asked for and when it is answered. After an approval IXC is read
again, and only the changes that still stand are written.
"""

from __future__ import annotations

from datetime import timedelta

from prefect.logging import get_run_logger
from prefect.runtime import flow_run as flow_run_context

from contract_sync.approval import ApprovalRules, Decision, dry_run_note, format_time
from contract_sync.guard import GuardLimits, assess
from contract_sync.messages import count_actions
from contract_sync.outcome import Result
from contract_sync.plan import PlannedChange, planned_changes
from contract_sync.reconfirm import reconfirm
from contract_sync.report import RunReport
from contract_sync.texts import say
from tasks.contract_sync.announcing import post_alert
from tasks.contract_sync.approval_pause import ask_for_approval
from tasks.contract_sync.reading import read_contracts_of
from tasks.contract_sync.systems import Systems


async def approved_changes(
    systems: Systems, report: RunReport, limits: GuardLimits, rules: ApprovalRules
) -> list[PlannedChange]:
    """The changes this run may write now; the report says what became of the others.

    A dry run writes nothing but says whether a real run would need approval. Within the
    guard's limit every change goes ahead. Past it, an unattended run aborts with an alert;
    otherwise the run pauses for an operator, and after an approval IXC is read again and each
    change decided again, so only the changes that still stand are written.
    """
    changes = planned_changes(report.plan)
    language = systems.language
    verdict = assess(report.plan, limits, whole_base=not rules.ad_hoc)
    why = verdict.describe(language)
    if systems.dry_run:
        report.approval_note = dry_run_note(verdict, language)
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
    refusal = answer.refusal(why, rules.timeout_seconds, language)
    if refusal is not None:
        return _stopped(report, changes, refusal)
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
