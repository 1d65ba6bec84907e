"""A run's holds and history: holds applied to the decision table and checked again before
each write, and the customer history recorded once the outcomes are known.

A hold set while the run waited for approval, or between a write's retries, still stops the
write: it is read fresh right before each one. The history is recorded before the
announcements: this run's entries, and the writes of interrupted runs the notification ledger
knows but that never got recorded (keyed by run and customer, so nothing is doubled). A
history that cannot be recorded never undoes or hides a change: it is a problem in the run
report (the run ends Failed).
"""

from __future__ import annotations

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger
from prefect.runtime import flow_run as flow_run_context
from sqlalchemy.exc import OperationalError

from contract_sync.history import ledger_entry, run_entries
from contract_sync.holds import ExpiredHold, apply_holds
from contract_sync.report import RunReport
from contract_sync.texts import say
from tasks.contract_sync.records import checked_holds
from tasks.contract_sync.systems import Systems


def held_plan(systems: Systems, plan: pd.DataFrame) -> tuple[pd.DataFrame, list[ExpiredHold]]:
    """The decision table with the holds read now applied (`contract_sync.holds.apply_holds`)."""
    if systems.records is None:
        return plan, []
    holds = checked_holds(systems.records, systems.language)
    return apply_holds(plan, holds, systems.clock.now(), systems.language, systems.clock.zone)


def hold_on(systems: Systems, username: str) -> str | None:
    """Why `username` must not be written now (a hold, read fresh), or None."""
    if systems.records is None:
        return None
    hold = systems.records.active_hold(username)
    if hold is None:
        return None
    return say(
        systems.language, "write.held", hold=hold.describe(systems.language, systems.clock.zone)
    )


def _transient_database_error(task: object, task_run: object, state: object) -> bool:
    return isinstance(getattr(state, "data", None), OperationalError)


@task(
    name="record-history",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=2,  # one number: the UI shows a list as "Retry Delay: NaNs"
    retry_condition_fn=_transient_database_error,
)
async def record_run(systems: Systems, report: RunReport) -> int:
    """Upsert this run's entries and the ledger's unrecorded writes; close reported expiries."""
    records = systems.records
    assert records is not None
    scope, now = systems.magnus_config.base_url, systems.clock.now()
    run_name = str(flow_run_context.name or "")
    written = records.record(scope, run_entries(report, systems.run_id, run_name, now))
    ledger = systems.ledger
    if ledger is not None:
        records.record_applied(
            scope,
            [
                ledger_entry(entry.run_id, entry.change, entry.detail, now)
                for entry in ledger.unannounced()
                if entry.run_id != systems.run_id or entry.change.magnus_id not in report.outcomes
            ],
        )
        records.end_expired(
            [expired.hold for expired in report.expired_holds],
            by="contract-sync",
            note=say(systems.language, "hold.expired_note", run=run_name or systems.run_id),
        )
    records.prune()
    return written


async def record_history(systems: Systems, report: RunReport) -> None:
    """Record the run's history; a failure goes into the report's problems, never further."""
    if systems.records is None:
        return
    try:
        state = await record_run(systems, report, return_state=True)  # type: ignore[misc]  # Prefect types an async task's State as not awaited
        error = None if state.is_completed() else await state.aresult(raise_on_failure=False)
    except Exception as unexpected:  # even Prefect failing to run the task hides no change
        error = unexpected
    if error is not None:
        problem = say(systems.language, "history.failed", error=type(error).__name__)
        get_run_logger().error(problem)
        report.problems.append(problem)
