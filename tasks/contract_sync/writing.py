"""Writing the changes to Magnus: restores first, blocks on fresh IXC data, one save at a time.

Each change is one `apply-change` task run: it re-reads the customer, decides again
(compare-and-set) and, if the same change still stands, saves it while holding the Magnus
server's save lock (`save_lock`), which every writer shares - so a real MagnusBilling, whose
every save rewrites all SIP peers and reloads Asterisk, never has two saves in flight.

Since saves cost seconds each on a real server, a run can write for a long time. So the
customers who paid (Unblock, Enable) are written before any Block or Disable, and a Block or
Disable is written only from IXC data at most `fresh_seconds` old: the contracts still to be
blocked are read again from IXC in batches as the writing goes on, and a customer who paid
meanwhile is withdrawn, never blocked. The run page shows the progress as it goes.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from prefect import task
from prefect.artifacts import acreate_progress_artifact, aupdate_progress_artifact
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger
from prefect.runtime import flow_run as flow_run_context
from prefect.runtime import task_run as task_run_context
from sqlalchemy.exc import DBAPIError

from blocks.errors import ApiError, excerpt
from contract_sync.decide import HARMFUL
from contract_sync.failures import failure_text
from contract_sync.holds import HoldsUnreadable
from contract_sync.ledger import WriteState
from contract_sync.outcome import ChangeOutcome, Result
from contract_sync.plan import PlannedChange
from contract_sync.recheck import Verdict, recheck
from contract_sync.reconfirm import reconfirm
from contract_sync.texts import label, say
from contract_sync.write_times import WriteTimes, progress_text
from tasks.contract_sync.reading import read_contracts_of
from tasks.contract_sync.recording import hold_on
from tasks.contract_sync.save_lock import SaveTurnNeverCame, one_save_at_a_time
from tasks.contract_sync.systems import Systems
from tasks.retries import retry_options, waiting_before_retry

PROGRESS_EVERY_SECONDS = 2.0  # the progress artifact is updated at most this often
MAX_RECONFIRM_BATCH = 1000  # contract ids re-read at once (one IXC request)
FIRST_RECONFIRM_BATCH = 20  # before any save was timed


def progress_key(flow_name: str) -> str:
    """`contract-sync-writing`, `contract-restore-writing`: each lane its own key, so the
    Artifacts page never shows one lane's progress as the latest of the other's."""
    return f"{flow_name}-writing"


def _write_run_name() -> str:
    """`Bloqueio-76795`: what the change does, to whom, in the operators' language."""
    parameters = task_run_context.parameters
    change, systems = parameters["change"], parameters["systems"]
    return f"{label(systems.language, 'action', change.action)}-{change.username}"


@task(name="apply-change", task_run_name=_write_run_name, cache_policy=NO_CACHE)
async def apply_change(systems: Systems, change: PlannedChange) -> ChangeOutcome:
    """Re-read the customer, re-decide, and save only if the same change still stands.

    The re-read and the save hold the Magnus server's save lock. Retried by Prefect on
    transient errors only (timeouts, resets, 429 after its Retry-After, 5xx, garbled answers);
    a refused signature, a 4xx or a validation error fails at once. Each try re-reads first,
    so a save whose answer was lost is found done and never sent twice.
    """
    policy = systems.magnus_config.retry_policy()
    return await waiting_before_retry(_compare_and_set(systems, change), policy)


async def _compare_and_set(systems: Systems, change: PlannedChange) -> ChangeOutcome:
    """The re-read, the re-decision and the save under the save lock: no other writer of this
    Magnus server (restore lane, ad-hoc run) can save this customer between the check and the
    write."""
    async with one_save_at_a_time(
        systems.magnus_config.base_url,
        UUID(str(task_run_context.id)),
        pause_after=systems.magnus_config.pause_between_saves_seconds,
        language=systems.language,
    ):
        return await _checked_save(systems, change)


async def _checked_save(systems: Systems, change: PlannedChange) -> ChangeOutcome:
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
    started = time.monotonic()
    saved = await systems.magnus.set_active(change.magnus_id, change.target_active)
    save_seconds = time.monotonic() - started
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
    return _outcome(change, Result.APPLIED, "", saved.active, save_seconds)


def _outcome(
    change: PlannedChange,
    result: Result,
    detail: str,
    after: int | None,
    save_seconds: float | None = None,
) -> ChangeOutcome:
    return ChangeOutcome(
        magnus_id=change.magnus_id,
        result=result,
        detail=detail,
        magnus_after=after,
        save_seconds=save_seconds,
    )


def restores_first(
    changes: Sequence[PlannedChange],
) -> tuple[list[PlannedChange], list[PlannedChange]]:
    """(Unblocks and Enables, Blocks and Disables), each in plan order."""
    restores = [change for change in changes if change.action not in HARMFUL]
    harmful = [change for change in changes if change.action in HARMFUL]
    return restores, harmful


@dataclass
class Written:
    """What `apply_changes` did: each change's outcome and how long the writing took."""

    outcomes: dict[int, ChangeOutcome]
    times: WriteTimes | None  # None when there was nothing to write


async def apply_changes(
    systems: Systems,
    changes: Sequence[PlannedChange],
    *,
    ixc_read_at: float,
    fresh_seconds: float,
) -> Written:
    """Write `changes`: restores first, then blocks and disables re-confirmed against IXC.

    `ixc_read_at` (time.monotonic()) is when the plan's IXC data was read; no Block or Disable
    is saved from IXC data older than `fresh_seconds`. A failure stays in its outcome.
    """
    restores, harmful = restores_first(changes)
    progress = await _Progress.start(systems, len(changes))
    outcomes: dict[int, ChangeOutcome] = {}
    for change in restores:
        outcomes[change.magnus_id] = await _written(systems, change)
        await progress.one_more(outcomes[change.magnus_id])
    confirmed: deque[PlannedChange] = deque()
    unconfirmed = deque(harmful)
    confirmed_at = ixc_read_at
    if time.monotonic() - ixc_read_at < fresh_seconds:
        confirmed, unconfirmed = unconfirmed, deque()
    while confirmed or unconfirmed:
        if not confirmed or time.monotonic() - confirmed_at >= fresh_seconds:
            batch_size = _batch_size(progress.seconds_per_change, fresh_seconds)
            pending = [*confirmed, *unconfirmed]
            confirmed_at = time.monotonic()
            standing, withdrawn = await _reconfirmed(systems, pending[:batch_size])
            confirmed, unconfirmed = deque(standing), deque(pending[batch_size:])
            for outcome in withdrawn:
                outcomes[outcome.magnus_id] = outcome
                await progress.one_more(outcome)
            continue
        change = confirmed.popleft()
        outcomes[change.magnus_id] = await _written(systems, change)
        await progress.one_more(outcomes[change.magnus_id])
    await progress.finish()
    return Written(outcomes, progress.times())


async def _written(systems: Systems, change: PlannedChange) -> ChangeOutcome:
    writer = apply_change.with_options(**retry_options(systems.magnus_config.retry_policy()))
    state = await writer(systems, change, return_state=True)  # type: ignore[misc]  # Prefect types an async task's State as not awaited
    result = await state.aresult(raise_on_failure=False)
    if isinstance(result, ChangeOutcome):
        return result
    detail = describe_write_failure(result, systems.language)
    get_run_logger().error(
        say(systems.language, "log.write_failed", username=change.username, why=detail)
    )
    return ChangeOutcome(magnus_id=change.magnus_id, result=Result.FAILED, detail=detail)


async def _reconfirmed(
    systems: Systems, changes: Sequence[PlannedChange]
) -> tuple[list[PlannedChange], list[ChangeOutcome]]:
    """These Blocks/Disables decided again from IXC read now: (still standing, withdrawn)."""
    fresh = await read_contracts_of(systems, sorted({c.contract_id for c in changes}))
    result = reconfirm(
        changes,
        fresh.contracts,
        fresh.failed_ids,
        systems.ixc_config.status_mapping,
        systems.magnus_config.block_status,
        systems.language,
        occasion="write",
    )
    withdrawn = [
        ChangeOutcome(magnus_id=magnus_id, result=Result.WITHDRAWN, detail=why)
        for magnus_id, why in result.withdrawn.items()
    ]
    for change in changes:
        if change.magnus_id in result.withdrawn:
            get_run_logger().warning(
                say(
                    systems.language,
                    "log.not_writing",
                    username=change.username,
                    reason=result.withdrawn[change.magnus_id],
                )
            )
    return result.standing, withdrawn


def _batch_size(seconds_per_change: float | None, fresh_seconds: float) -> int:
    """How many Blocks/Disables to re-read at once: about as many as can be written while
    the reading is fresh (a few more, so a batch is not re-read for want of one)."""
    if seconds_per_change is None or seconds_per_change <= 0:
        return FIRST_RECONFIRM_BATCH
    fitting = math.ceil(fresh_seconds / seconds_per_change * 1.2)
    return max(1, min(MAX_RECONFIRM_BATCH, fitting))


def describe_write_failure(error: object, language: str) -> str:
    """What failed and what to do, in the operators' language, with no secret in it."""
    if isinstance(error, ApiError):
        return failure_text(error, language)
    if isinstance(error, HoldsUnreadable):
        return error.in_language(language).describe()  # says what to do
    if isinstance(error, SaveTurnNeverCame):
        return say(language, "write.failed_save_lock", name=error.name, seconds=round(error.waited))
    if isinstance(error, DBAPIError | sqlite3.Error):
        cause = getattr(error, "orig", None) or error
        first_line = (str(cause).splitlines() or [""])[0]
        return say(
            language,
            "write.failed_database",
            kind=type(cause).__name__,
            why=excerpt(first_line, 120),
        )
    return say(language, "write.failed_unexpected", kind=type(error).__name__)


class _Progress:
    """The run page's progress artifact for the write phase: done/total and the time left."""

    def __init__(self, systems: Systems, total: int, artifact: UUID | None) -> None:
        self.language = systems.language
        self.total = total
        self.artifact = artifact
        self.done = 0
        self.started = time.monotonic()
        self.shown_at = self.started
        self.saves: list[float] = []

    @classmethod
    async def start(cls, systems: Systems, total: int) -> _Progress:
        artifact = None
        if total:
            artifact = await acreate_progress_artifact(
                0.0,
                key=progress_key(flow_run_context.flow_name),
                description=progress_text(0, total, 0.0, systems.language),
            )
        return cls(systems, total, artifact)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def seconds_per_change(self) -> float | None:
        return self.elapsed / self.done if self.done else None

    async def one_more(self, outcome: ChangeOutcome) -> None:
        self.done += 1
        if outcome.save_seconds is not None:
            self.saves.append(outcome.save_seconds)
        if time.monotonic() - self.shown_at >= PROGRESS_EVERY_SECONDS:
            await self._show()

    async def finish(self) -> None:
        if self.artifact is not None:
            await self._show()

    async def _show(self) -> None:
        assert self.artifact is not None
        self.shown_at = time.monotonic()
        await aupdate_progress_artifact(
            self.artifact,
            100.0 * self.done / self.total,
            description=progress_text(self.done, self.total, self.elapsed, self.language),
        )

    def times(self) -> WriteTimes | None:
        return WriteTimes(list(self.saves), self.elapsed) if self.total else None
