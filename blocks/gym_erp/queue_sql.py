"""The event queue's SQL: the read window in queue order, the held-behind-a-failure test and
the claim's condition, as SQLAlchemy Core expressions every database (SQL Server included) runs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    cast,
    exists,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.sql.expression import FromClause

from blocks.gym_erp.rows import CLAIMED, ChainCodes, EventRow
from blocks.gym_erp.schema import columns_of, events, subscription_items


def still_claimed(event: EventRow, claimed_at: datetime) -> ColumnElement[bool]:
    """The event, still under the claim taken at `claimed_at`."""
    return and_(
        events.c.id_guid == event.id_guid,
        events.c.processado == CLAIMED,
        events.c.dt_processado == claimed_at,
    )


def events_in(status: str | tuple[str, ...], chains: ChainCodes) -> Select[Any]:
    """Events with this `processado`, oldest first; those of one instant in the order of
    `chains.same_instant_order` (a random `id_guid` must not decide whether an item is
    removed before it is added)."""
    code = func.upper(func.ltrim(func.rtrim(events.c.sigla)))
    order = chains.same_instant_order
    rank = case(
        *(
            (code == _constant(f"'{sigla}'"), _constant(str(place)))
            for place, sigla in enumerate(order)
        ),
        else_=_constant(str(len(order))),
    )
    return (
        select(*columns_of(events, EventRow))
        .where(
            events.c.processado == status
            if isinstance(status, str)
            else events.c.processado.in_(status)
        )
        .order_by(events.c.dt_evento, rank, events.c.id_guid)
    )


def held_behind_failure(pending: FromClause, chains: ChainCodes) -> ColumnElement[bool]:
    """Whether the `pending` event has an older `E` in its chain.

    Only what certainly is one chain counts here: ids of 1 to 9 digits (read as numbers, as
    `subscription_events.events` reads them) and strictly older failures. Where this says "not
    held" but the plan holds the event all the same (a failure in the very same instant, a
    longer id, a tab around the code), the event is read and the plan holds it, as it always
    did: the query never leaves out an event that the plan would run.
    """
    failed = events.alias("failed")
    pending_subscription, pending_customer = _chain_of(pending, chains)
    failed_subscription, failed_customer = _chain_of(failed, chains)
    return exists(
        select(failed.c.id_guid).where(
            failed.c.processado == "E",
            failed.c.dt_evento < pending.c.dt_evento,
            or_(
                failed_subscription == pending_subscription,
                failed_customer == pending_customer,
            ),
        )
    )


def _chain_of(
    event: FromClause, chains: ChainCodes
) -> tuple[ColumnElement[int], ColumnElement[int]]:
    """(subscription, customer) whose chain the event is in; NULL where it names neither.

    An item event is in its item's subscription chain; the item is found by its primary key.
    """
    code = func.upper(func.ltrim(func.rtrim(event.c.sigla)))
    number = _plain_number(event.c.id_tabela)
    item = subscription_items.alias()
    item_subscription = (
        select(item.c.id_assinatura).where(item.c.id == number).correlate(event).scalar_subquery()
    )
    subscription = case(
        (code.in_(sorted(chains.subscription)), number),
        (code.in_(sorted(chains.item)), item_subscription),
    )
    customer = case((code.in_(sorted(chains.customer)), number))
    return subscription, customer


def _plain_number(text: ColumnElement[str]) -> ColumnElement[int]:
    """`text` as an integer when it is 1 to 9 digits (spaces around allowed), else NULL.

    Written with REPLACE, which every database has, so that nothing but digits reaches the
    CAST (PostgreSQL and SQL Server fail the whole query on a CAST of 'abc').
    """
    trimmed = func.ltrim(func.rtrim(text))
    without_digits = trimmed
    for digit in "0123456789":
        without_digits = func.replace(without_digits, _constant(f"'{digit}'"), _EMPTY)
    is_plain_number = and_(
        func.length(trimmed).between(_constant("1"), _constant("9")), without_digits == _EMPTY
    )
    return case((is_plain_number, cast(trimmed, Integer)))


def _constant(sql: str) -> ColumnElement[Any]:
    """A constant written into the statement, not a parameter (SQL Server allows 2,100)."""
    return literal_column(sql)


_EMPTY = _constant("''")
