"""Writing the changes to Magnus: one task run per change, compare-and-set, Prefect retries."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger
from prefect.runtime import task_run as task_run_context

from reconcile.failures import failure_text
from reconcile.ledger import WriteState
from reconcile.outcome import ChangeOutcome, Result
from reconcile.plan import PlannedChange
from reconcile.recheck import Verdict, recheck
from reconcile.texts import label, say
from tasks.contract_sync.recording import hold_on
from tasks.contract_sync.systems import Systems
from tasks.retries import retry_options, waiting_before_retry


def _write_run_name() -> str:
    """`Bloqueio-76795`: what the change does, to whom, in the operators' language."""
    parameters = task_run_context.parameters
    change, systems = parameters["change"], parameters["systems"]
    return f"{label(systems.language, 'action', change.action)}-{change.username}"


@task(name="apply-change", task_run_name=_write_run_name, cache_policy=NO_CACHE)
async def apply_change(systems: Systems, change: PlannedChange) -> ChangeOutcome:
    """Re-read the customer, re-decide, and write only if the same change still stands.

    Retried by Prefect on transient errors only (timeouts, resets, 429 after its Retry-After,
    5xx, garbled answers); a refused signature, a 4xx or a validation error fails at once. Each
    try re-reads first, so a save whose answer was lost is found done and never sent twice.
    """
    policy = systems.magnus_config.retry_policy()
    return await waiting_before_retry(_compare_and_set(systems, change), policy)


async def _compare_and_set(systems: Systems, change: PlannedChange) -> ChangeOutcome:
    ledger, run_id, language = systems.ledger, systems.run_id, systems.language
    assert ledger is not None, "a dry run writes nothing"
    block_status = systems.magnus_config.block_status
    current = await systems.magnus.read_user(change.magnus_id)
    check = recheck(change, current, block_status, language)
    key = (run_id, change.magnus_id)
    if check.verdict is Verdict.ALREADY_DONE and ledger.write_sent(run_id, change.magnus_id):
        # Our own save went through but its answer was lost: it is our change.
        ledger.mark([key], WriteState.APPLIED, "confirmed by re-read")
        return _outcome(change, Result.APPLIED, say(language, "write.confirmed"), current.active)
    if check.verdict is Verdict.ALREADY_DONE:
        return _outcome(change, Result.ALREADY_DONE, check.reason, current.active)
    if check.verdict is Verdict.STALE:
        get_run_logger().warning(
            say(systems.language, "log.not_writing", username=change.username, reason=check.reason)
        )
        return _outcome(change, Result.STALE, check.reason, current.active)
    if (held := hold_on(systems, change.username)) is not None:  # set after the plan was made
        return _outcome(change, Result.HELD, held, current.active)
    ledger.writing(run_id, change)
    saved = await systems.magnus.set_active(change.magnus_id, change.target_active)
    ledger.mark([key], WriteState.APPLIED)
    get_run_logger().info(
        say(
            systems.language,
            "log.applied",
            action=label(systems.language, "action", change.action),
            username=change.username,
            before=change.magnus_active,
            after=saved.active,
        )
    )
    return _outcome(change, Result.APPLIED, "", saved.active)


def _outcome(
    change: PlannedChange, result: Result, detail: str, after: int | None
) -> ChangeOutcome:
    return ChangeOutcome(
        magnus_id=change.magnus_id, result=result, detail=detail, magnus_after=after
    )


async def apply_changes(
    systems: Systems, changes: Sequence[PlannedChange], concurrency: int
) -> dict[int, ChangeOutcome]:
    """One task run per change, at most `concurrency` at once; a failure stays in its outcome."""
    limit = asyncio.Semaphore(concurrency)
    writer = apply_change.with_options(**retry_options(systems.magnus_config.retry_policy()))

    async def one(change: PlannedChange) -> ChangeOutcome:
        async with limit:
            state = await writer(systems, change, return_state=True)
        result = await state.aresult(raise_on_failure=False)
        if isinstance(result, ChangeOutcome):
            return result
        detail = failure_text(result, systems.language)
        return ChangeOutcome(magnus_id=change.magnus_id, result=Result.FAILED, detail=detail)

    outcomes = await asyncio.gather(*(one(change) for change in changes))
    return {outcome.magnus_id: outcome for outcome in outcomes}
