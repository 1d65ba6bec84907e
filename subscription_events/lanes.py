"""Running the events: plan the lanes, run one event to its end, run a lane in order."""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError

from blocks.errors import ApiError
from blocks.gym_erp.cards import CardDataUnreadable
from blocks.gym_erp.database import ClaimLost, ErpDatabase, refusal
from blocks.gym_erp.rows import CLAIMED, Change, EventRow, EventStatus, LogEntry
from blocks.mundipagg.models import field_problems
from subscription_events.events import (
    CHAINS,
    Lane,
    References,
    event_code,
    plan_lanes,
    referenced_ids,
)
from subscription_events.failures import UNKNOWN_OUTCOME, EventFailed, gateway_problem
from subscription_events.handlers import HANDLERS, UNKNOWN_CUSTOMER, EventRun, Services
from subscription_events.money import NotWholeCents

# Held events read (for the run report) besides the ones to run; all of them are counted.
HELD_SHOWN = 200

# A claim this old belongs to a run that crashed: a live run finishes one event (its gateway calls
# and their retries) in minutes. Well inside the gateway's 24 h idempotency window, so the event
# taken back repeats its calls with the same keys and changes nothing twice.
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
    description: str
    customer: str
    id_api: str | None
    value: Decimal
    # Held in this run behind an event of its chain that failed in this run (not since before).
    newly_held: bool = False


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


async def process_event(event: EventRow, chain: str, services: Services) -> EventResult | None:
    """Claim the event, run its handler and commit its outcome, P or E, with a `rec_log_sync`
    row; None when another run has it (its claim, or taken back from this run as stale).

    A run that stops midway (the ERP down, a cancellation) gives its claim back, so the event
    is `N` for the next run; a run that cannot (it crashed) leaves it to `STALE_CLAIM`."""
    claimed_at = await services.erp.claim_event(event)
    if claimed_at is None:
        return None
    try:
        return await _process_claimed(event, chain, services, claimed_at)
    except ClaimLost:
        return None
    except BaseException:
        with contextlib.suppress(Exception):
            await services.erp.release_claim(event, claimed_at)
        raise


async def _process_claimed(
    event: EventRow, chain: str, services: Services, claimed_at: datetime
) -> EventResult:
    run = EventRun(event, services)
    code = event_code(event)
    changes: Sequence[Change] = ()
    try:
        if code is None:
            raise EventFailed(
                f"sigla desconhecida '{event.sigla}': nenhum processamento definido para ela"
            )
        done = await HANDLERS[code](run)
        status: EventStatus = "P"
        description = done.description
        changes = done.changes
    except EventFailed as problem:
        status, description, changes = "E", str(problem), problem.keep
    except (CardDataUnreadable, NotWholeCents) as problem:
        status, description = "E", str(problem)
    except ApiError as error:
        status, description = "E", gateway_problem(error)
    except ValidationError as invalid:
        status, description = "E", f"dados inválidos para o gateway: {field_problems(invalid)}"
    except ERP_DATA_ERRORS as refused:  # the card registration's own commit
        status, description = "E", _not_stored(refused, run)
    except SQLAlchemyError:
        raise  # the ERP itself failed: the event stays N for the next run
    except Exception as unexpected:  # a bug must not stall the queue, nor leak data in a message
        status, description = "E", f"erro inesperado: {_where(unexpected)}"
    log = LogEntry(status, f"{event.sigla}: {description}", run.customer, run.id_api, run.value)
    try:
        await services.erp.finish_event(event, status, log, changes, claimed_at=claimed_at)
    except ERP_DATA_ERRORS as refused:
        # The outcome's rows cannot be stored: the event ends E with only its log row.
        log = replace(log, kind="E", description=f"{event.sigla}: {_not_stored(refused, run)}")
        await services.erp.finish_event(event, "E", log, claimed_at=claimed_at)
    return _result(event, chain, log)


async def process_lane(lane: Lane, services: Services) -> list[EventResult]:
    """The lane's events in order; after a failure, that chain's later events stay pending, and
    so do those after an event another run is processing (without a log row: that run logs)."""
    results: list[EventResult] = []
    failed_here: dict[str, tuple[EventRow, str]] = {}  # chain -> (failed event, its customer)
    elsewhere: dict[str, EventRow] = {}  # chain -> its event another run is processing
    for planned in lane.events:
        event, chain = planned.event, planned.chain
        busy_with = planned.in_flight or elsewhere.get(chain)
        if planned.held_by is not None:
            # Held since an earlier run, which logged it: only the run report repeats it.
            results.append(_result(event, chain, _held(event, planned.held_by, UNKNOWN_CUSTOMER)))
        elif busy_with is not None:
            results.append(_result(event, chain, _in_other_run(event, busy_with)))
        elif chain in failed_here:
            log = _held(event, *failed_here[chain])
            await services.erp.finish_event(event, "N", log)
            results.append(replace(_result(event, chain, log), newly_held=True))
        else:
            result = await process_event(event, chain, services)
            if result is None:
                elsewhere[chain] = event
                results.append(_result(event, chain, _in_other_run(event, event)))
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


def _held(event: EventRow, failed: EventRow, customer: str) -> LogEntry:
    return LogEntry(
        "N",
        f"{event.sigla}: aguardando o evento anterior {failed.sigla} {failed.id_guid}, que falhou "
        "(corrija-o e volte-o para N para reprocessar)",
        customer,
    )


def _in_other_run(event: EventRow, busy: EventRow) -> LogEntry:
    """Why the event waits for another run (never written to `rec_log_sync`)."""
    which = "o evento" if busy is event else f"o evento anterior {busy.sigla} {busy.id_guid}"
    return LogEntry("N", f"{event.sigla}: {which} está com outra execução", UNKNOWN_CUSTOMER)


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
