"""Running the events: plan the lanes, run one event to its end, run a lane in order.

An event is claimed once, tried (`attempt`) and its outcome committed once. With `Retrying`, a
transient gateway error with tries left leaves the event claimed and is raised out of the lane:
the caller (a Prefect task retry) runs the lane again from that event, whose next try makes the
same calls with the same idempotency keys. A lane's later events wait for it: a retry never lets
a later event of the customer overtake it.
"""

from __future__ import annotations

import contextlib
import functools
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError

from blocks.errors import ApiError, RetryAfterTooLong, TransientApiError
from blocks.gym_erp.cards import CardDataUnreadable
from blocks.gym_erp.database import ClaimLost, ErpDatabase, refusal
from blocks.gym_erp.rows import CLAIMED, Change, EventRow, EventStatus, LogEntry
from blocks.mundipagg.client import UnconfirmedWrite
from blocks.mundipagg.models import field_problems
from subscription_events.events import (
    CHAINS,
    Lane,
    References,
    event_code,
    plan_lanes,
    referenced_ids,
)
from subscription_events.failures import UNKNOWN_OUTCOME, EventFailed
from subscription_events.handlers import HANDLERS, Done, EventRun, Services
from subscription_events.money import NotWholeCents

# Held events read (for the run report) besides the ones to run; all of them are counted.
HELD_SHOWN = 200

# A claim this old belongs to a run that crashed (or was cancelled between two tries of the
# event): a live run finishes one event (its gateway calls, its tries and the waits between them)
# in minutes. Well inside the gateway's 24 h idempotency window, so the event taken back repeats
# its calls with the same keys and changes nothing twice.
STALE_CLAIM = timedelta(minutes=30)

# An ERP row the database will not take (a NOT NULL, a unique key, a value too long): retrying
# the same commit every minute would fail the same way.
ERP_DATA_ERRORS = (IntegrityError, DataError)


@dataclass(frozen=True)
class EventResult:
    """How one event ended in this run (P, E, or N = still pending, with why)."""

    id_guid: str
    sigla: str
    dt_evento: datetime
    chain: str
    status: EventStatus
    # Why, as written to `rec_log_sync` (in Portuguese, for the gym's staff); empty for an event
    # waiting for another run, which writes nothing there (`other_run_has` says why).
    description: str
    customer: str | None  # the customer's name; None when not known
    id_api: str | None
    value: Decimal
    # Held in this run behind an event of its chain that failed in this run (not since before).
    newly_held: bool = False
    # The event (`<sigla> <id_guid>`: this one or an earlier one of its chain) that another run
    # is processing, which this one waits for.
    other_run_has: str | None = None


@dataclass(frozen=True)
class Outcome:
    """How one try at an event ended: P, or E with the reason (and what to store all the same)."""

    status: EventStatus
    description: str
    changes: Sequence[Change] = ()


# Waits before another try at the event after a transient gateway error (a 429's Retry-After
# included), given the event, how many of its tries failed and the error; raises
# `RetryAfterTooLong` when the gateway asks for longer than is waited.
BeforeRetry = Callable[[EventRow, int, TransientApiError], Awaitable[None]]


@dataclass(frozen=True)
class Retrying:
    """How an event is tried again after a transient gateway error: up to `attempts` tries."""

    attempts: int
    before_retry: BeforeRetry


@dataclass
class Claimed:
    """The event this run claimed and is trying: its claim and `EventRun` outlast a retry."""

    run: EventRun
    claimed_at: datetime
    tries: int = 0


@dataclass
class LaneProgress:
    """How far a lane got - kept between the tries of its events: each event's result, the
    chains that failed here or that another run has, and the event being tried."""

    results: list[EventResult] = field(default_factory=list)
    # chain -> (its event that failed in this run, that event's customer)
    failed_here: dict[str, tuple[EventRow, str | None]] = field(default_factory=dict)
    # chain -> its event another run is processing
    elsewhere: dict[str, EventRow] = field(default_factory=dict)
    trying: Claimed | None = None


@dataclass(frozen=True)
class Queue:
    """What a run reads: the oldest pending events it may run, and those held behind an older
    failure (the first `HELD_SHOWN` of them, and how many there are)."""

    runnable: list[EventRow]
    held: list[EventRow]
    held_total: int

    @property
    def events(self) -> list[EventRow]:
        return [*self.runnable, *self.held]


async def take_back_stale_claims(erp: ErpDatabase) -> int:
    """Events claimed by a run that crashed (claims older than `STALE_CLAIM`) back to `N`."""
    return await erp.take_back_stale_claims(STALE_CLAIM)


async def read_queue(erp: ErpDatabase, limit: int) -> Queue:
    runnable = await erp.pending_events(limit, CHAINS)
    held, held_total = await erp.held_events(HELD_SHOWN, CHAINS)
    return Queue(runnable, held, held_total)


async def plan_pending(erp: ErpDatabase, pending: Sequence[EventRow]) -> list[Lane]:
    """Lanes for the pending events, with what the ERP says they point at, what failed and what
    other runs are processing (read after the pending events: an event claimed or finished
    meanwhile is seen as such)."""
    blocking = await erp.blocking_events(CHAINS)
    failed = [event for event in blocking if event.processado != CLAIMED]
    in_flight = [event for event in blocking if event.processado == CLAIMED]
    subscription_ids, item_ids = referenced_ids([*pending, *blocking])
    item_subscription = await erp.item_subscriptions(item_ids)
    owners = await erp.subscription_owners(subscription_ids | set(item_subscription.values()))
    return plan_lanes(pending, failed, References(owners, item_subscription), in_flight)


async def _process_event(
    event: EventRow,
    chain: str,
    services: Services,
    progress: LaneProgress,
    retrying: Retrying | None,
) -> EventResult | None:
    """Claim the event (unless a retry finds it claimed), try it and commit its outcome, P or
    E, with a `rec_log_sync` row; None when another run has it (its claim, or taken back from
    this run as stale). A transient gateway error with tries left is raised, the claim kept.

    A run that stops midway (the ERP down, a cancellation) gives its claim back, so the event
    is `N` for the next run; a run that cannot (it crashed) leaves it to `STALE_CLAIM`."""
    if progress.trying is None:
        claimed_at = await services.erp.claim_event(event)
        if claimed_at is None:
            return None
        progress.trying = Claimed(EventRun(event, services), claimed_at)
    claimed = progress.trying
    claimed.tries += 1
    retry = None
    if retrying is not None and claimed.tries < retrying.attempts:
        retry = functools.partial(retrying.before_retry, event, claimed.tries)
    try:
        outcome = await _attempt(claimed.run, retry)
        result: EventResult | None = await _commit(claimed, chain, outcome)
    except TransientApiError:
        raise  # another try follows, under the same claim
    except ClaimLost:
        result = None
    except BaseException:
        progress.trying = None
        with contextlib.suppress(Exception):
            await services.erp.release_claim(event, claimed.claimed_at)
        raise
    progress.trying = None
    return result


async def _attempt(
    run: EventRun, before_retry: Callable[[TransientApiError], Awaitable[None]] | None = None
) -> Outcome:
    """One try at the event: P, or E with the reason in the operator's words.

    With `before_retry` (another try follows), a transient gateway error - also one that stopped
    the event midway - is raised instead, once `before_retry` has waited what it asks for. An
    ERP failure is raised: the event stays N for the next run.
    """
    try:
        done = await _handled(run)
    except Exception as failure:
        retry_on = _transient_cause(failure)
        if isinstance(retry_on, UnconfirmedWrite):
            run.unconfirmed = True  # every later try's failure leaves the outcome unknown
        if retry_on is None or before_retry is None:
            return _failed(run, failure)
        return await _retried(run, retry_on, before_retry)
    return Outcome("P", done.description, done.changes)


async def _retried(
    run: EventRun,
    error: TransientApiError,
    before_retry: Callable[[TransientApiError], Awaitable[None]],
) -> Outcome:
    """Wait before another try, then raise `error` for it; E when the gateway asked for a
    longer wait than is waited."""
    try:
        await before_retry(error)
    except RetryAfterTooLong as too_long:
        return _failed(run, too_long)
    raise error


async def _handled(run: EventRun) -> Done:
    code = event_code(run.event)
    if code is None:
        raise EventFailed(
            f"sigla desconhecida '{run.event.sigla}': nenhum processamento definido para ela"
        )
    return await HANDLERS[code](run)


def _transient_cause(failure: Exception) -> TransientApiError | None:
    """The transient gateway error that stopped the event, if one did: another try may pass."""
    cause = failure.gateway_error if isinstance(failure, EventFailed) else failure
    return cause if isinstance(cause, TransientApiError) else None


def _failed(run: EventRun, failure: Exception) -> Outcome:
    """The E outcome of the event stopped by `failure`; an ERP failure is raised again."""
    if isinstance(failure, EventFailed):
        return Outcome("E", str(failure), failure.keep)
    if isinstance(failure, CardDataUnreadable | NotWholeCents):
        return Outcome("E", str(failure))
    if isinstance(failure, ApiError):
        return Outcome("E", run.gateway_problem(failure))
    if isinstance(failure, ValidationError):
        return Outcome("E", f"dados inválidos para o gateway: {field_problems(failure)}")
    if isinstance(failure, ERP_DATA_ERRORS):  # the card registration's own commit
        return Outcome("E", _not_stored(failure, run))
    if isinstance(failure, SQLAlchemyError):
        raise failure  # the ERP itself failed: the event stays N for the next run
    # A bug must not stall the queue, nor leak data in a message.
    return Outcome("E", f"erro inesperado: {_where(failure)}")


async def _commit(claimed: Claimed, chain: str, outcome: Outcome) -> EventResult:
    run = claimed.run
    event, erp = run.event, run.services.erp
    description = f"{event.sigla}: {outcome.description}"
    log = LogEntry(outcome.status, description, run.customer, run.id_api, run.value)
    try:
        await erp.finish_event(
            event, outcome.status, log, outcome.changes, claimed_at=claimed.claimed_at
        )
    except ERP_DATA_ERRORS as refused:
        # The outcome's rows cannot be stored: the event ends E with only its log row.
        log = replace(log, kind="E", description=f"{event.sigla}: {_not_stored(refused, run)}")
        await erp.finish_event(event, "E", log, claimed_at=claimed.claimed_at)
    return _result(event, chain, log)


async def process_lane(
    lane: Lane,
    services: Services,
    retrying: Retrying | None = None,
    *,
    progress: LaneProgress | None = None,
) -> list[EventResult]:
    """The lane's events in order, from where `progress` stopped; after a failure, that chain's
    later events stay pending, and so do those after an event another run is processing
    (without a log row: that run logs). Each event is tried once, or as `retrying` says: a
    transient gateway error with tries left is raised, and the lane is run again with the same
    `progress` to try that event again."""
    progress = progress if progress is not None else LaneProgress()
    results, failed_here, elsewhere = progress.results, progress.failed_here, progress.elsewhere
    for planned in lane.events[len(results) :]:
        event, chain = planned.event, planned.chain
        busy_with = planned.in_flight or elsewhere.get(chain)
        if planned.held_by is not None:
            # Held since an earlier run, which logged it: only the run report repeats it.
            results.append(_result(event, chain, _held(event, planned.held_by, None)))
        elif busy_with is not None:
            results.append(_in_other_run(event, chain, busy_with))
        elif chain in failed_here:
            log = _held(event, *failed_here[chain])
            await services.erp.finish_event(event, "N", log)
            results.append(replace(_result(event, chain, log), newly_held=True))
        else:
            result = await _process_event(event, chain, services, progress, retrying)
            if result is None:
                elsewhere[chain] = event
                results.append(_in_other_run(event, chain, event))
                continue
            if result.status == "E":
                failed_here[chain] = (event, result.customer)
            results.append(result)
    return results


def _not_stored(refused: IntegrityError | DataError, run: EventRun) -> str:
    """Why the ERP kept nothing of this event, and whether the gateway has it all the same."""
    reason = f"o banco do ERP recusou gravar o resultado ({refusal(refused)})"
    at_gateway = f" ({run.id_api})" if run.id_api else ""
    if run.writes:
        return f"{reason}; o gateway pode já ter feito o pedido{at_gateway}: {UNKNOWN_OUTCOME}"
    return f"{reason}; no gateway{at_gateway}" if at_gateway else reason


def _where(error: Exception) -> str:
    """The error's type and where it was raised; its message may carry card or customer data."""
    frames = traceback.extract_tb(error.__traceback__)
    place = f" em {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"{type(error).__name__}{place}"


def _held(event: EventRow, failed: EventRow, customer: str | None) -> LogEntry:
    return LogEntry(
        "N",
        f"{event.sigla}: aguardando o evento anterior {failed.sigla} {failed.id_guid}, que falhou "
        "(corrija-o e volte-o para N para reprocessar)",
        customer,
    )


def _in_other_run(event: EventRow, chain: str, busy: EventRow) -> EventResult:
    """The event waits for `busy` (itself or an earlier event of its chain), which another run is
    processing; nothing is written to `rec_log_sync` (that run writes)."""
    waiting = _result(event, chain, LogEntry("N", "", None))
    return replace(waiting, other_run_has=f"{busy.sigla} {busy.id_guid}")


def _result(event: EventRow, chain: str, log: LogEntry) -> EventResult:
    return EventResult(
        id_guid=event.id_guid,
        sigla=event.sigla,
        dt_evento=event.dt_evento,
        chain=chain,
        status=log.kind,
        description=log.description,
        customer=log.customer,
        id_api=log.id_api,
        value=log.value,
    )
