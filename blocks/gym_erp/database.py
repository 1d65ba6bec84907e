"""Reads and writes of the ERP tables, in SQLAlchemy Core, for the subscription events (the
queue's own statements are in `queue_sql`).

The methods are async and run their (blocking) database work in a worker thread, so the
gateway calls of other subscriptions keep going meanwhile. Every event ends in ONE transaction:
its row changes, its status and its `rec_log_sync` row are committed together or not at all.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Callable, Collection, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Connection, Table, and_, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from blocks.gym_erp.queue_sql import events_in, held_behind_failure, still_claimed
from blocks.gym_erp.rows import (
    CLAIMED,
    UNKNOWN_CUSTOMER,
    CardRow,
    ChainCodes,
    Change,
    CustomerRow,
    EventRow,
    EventStatus,
    InvoiceImport,
    InvoiceRow,
    ItemRow,
    LogEntry,
    RowUpdate,
    SubscriptionRow,
)
from blocks.gym_erp.schema import (
    cards,
    columns_of,
    customers,
    events,
    invoices,
    metadata,
    subscription_items,
    subscriptions,
    sync_log,
)
from clock import Clock

P = ParamSpec("P")
R = TypeVar("R")

# Stay far below SQL Server's 2,100 parameters per statement.
IN_LIST_CHUNK = 1000
LOG_TEXT_LIMIT = 255
LOG_ID_LIMIT = 100
# Names (never values) in the databases' refusals: SQLite "NOT NULL constraint failed: t.c",
# MySQL/MariaDB "Column 'c' cannot be null" / "Data too long for column 'c'", PostgreSQL
# 'column "c" of relation "t"', SQL Server "truncated in table 'db.dbo.t', column 'c'".
_REFUSED_NAME = (
    re.compile(r"constraint failed: (?P<column>[\w.]+)"),
    re.compile(r"table '(?P<table>[\w.]+)', column '(?P<column>\w+)'"),
    re.compile(r'column "(?P<column>\w+)" of relation "(?P<table>\w+)"'),
    re.compile(r"[Cc]olumn '(?P<column>\w+)'"),
    re.compile(r"(?P<column>value too long for type [\w ]+\(\d+\))"),
)


class ClaimLost(Exception):
    """The event's claim was taken back (stale) while this run worked on it: another run
    processes it, and this run's outcome is not stored."""


def _off_the_event_loop(
    method: Callable[Concatenate[ErpDatabase, P], R],
) -> Callable[Concatenate[ErpDatabase, P], Coroutine[Any, Any, R]]:
    @functools.wraps(method)
    async def in_worker_thread(self: ErpDatabase, *args: P.args, **kwargs: P.kwargs) -> R:
        call = functools.partial(method, self, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._workers, call)

    return in_worker_thread


class ErpDatabase:
    """The ERP's tables over `engine`, with its own worker threads (one per pooled connection):
    a statement waiting for a lock holds one of them, not the event loop nor anyone else's.

    The times it writes (`dt_processado`, `rec_log_sync.dt_evento`) are `clock`'s wall time: the
    provider's local time, as the ERP keeps its own.
    """

    def __init__(self, engine: Engine, *, clock: Clock, workers: int = 5) -> None:
        self.engine = engine
        self.clock = clock
        self._workers = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gym-erp")

    def dispose(self) -> None:
        self._workers.shutdown()
        self.engine.dispose()

    @_off_the_event_loop
    def pending_events(self, limit: int, chains: ChainCodes) -> list[EventRow]:
        """The oldest `limit` unprocessed events (`dt_evento`, then the code's place in
        `chains.same_instant_order`, then `id_guid`) that are not held behind an older `E` of
        their chain.

        Held events are left out in the query itself, so however many pile up behind a failure
        they never fill the window and starve newer events of other chains.
        """
        query = events_in("N", chains).where(~held_behind_failure(events, chains)).limit(limit)
        return self._rows(query, EventRow)

    @_off_the_event_loop
    def held_events(self, limit: int, chains: ChainCodes) -> tuple[list[EventRow], int]:
        """(the oldest `limit` pending events held behind an older `E` of their chain, how many
        are held in all)."""
        held = held_behind_failure(events, chains)
        with self.engine.connect() as connection:
            total = connection.execute(
                select(func.count()).select_from(events).where(events.c.processado == "N", held)
            ).scalar_one()
            rows = connection.execute(events_in("N", chains).where(held).limit(limit))
            return [EventRow(**row._mapping) for row in rows], int(total)

    @_off_the_event_loop
    def blocking_events(self, chains: ChainCodes) -> list[EventRow]:
        """Events marked `E` or claimed by a run (`CLAIMED`): they hold back the later events
        of their chain."""
        return self._rows(events_in(("E", CLAIMED), chains), EventRow)

    @_off_the_event_loop
    def claim_event(self, event: EventRow) -> datetime | None:
        """Claim the pending event for this run before any gateway call: `N` becomes `CLAIMED`
        in one conditional UPDATE that only one run can win (committed at once). The claim's
        time, kept in `dt_processado` and to the second (every database stores it exactly), is
        what the run finishes it with; None when another run has it or it is no longer `N`."""
        claimed_at = self.clock.wall_time().replace(microsecond=0)
        with self.engine.begin() as connection:
            taken = connection.execute(
                update(events)
                .where(events.c.id_guid == event.id_guid, events.c.processado == "N")
                .values(processado=CLAIMED, dt_processado=claimed_at)
            )
        return claimed_at if taken.rowcount == 1 else None

    @_off_the_event_loop
    def release_claim(self, event: EventRow, claimed_at: datetime) -> None:
        """This run's claim back to `N` (the run stops before the event's end)."""
        with self.engine.begin() as connection:
            connection.execute(
                update(events)
                .where(still_claimed(event, claimed_at))
                .values(processado="N", dt_processado=None)
            )

    @_off_the_event_loop
    def take_back_stale_claims(self, older_than: timedelta) -> int:
        """Claims older than `older_than` back to `N`: their run crashed (a live run finishes an
        event far sooner). How many."""
        cutoff = self.clock.wall_time() - older_than
        with self.engine.begin() as connection:
            taken = connection.execute(
                update(events)
                .where(events.c.processado == CLAIMED, events.c.dt_processado < cutoff)
                .values(processado="N", dt_processado=None)
            )
        return int(taken.rowcount)

    @_off_the_event_loop
    def subscription_owners(self, subscription_ids: Collection[int]) -> dict[int, int]:
        """Customer (`id_cliente`) of each subscription that exists."""
        with self.engine.connect() as connection:
            return _pairs(
                connection, subscriptions.c.id, subscriptions.c.id_cliente, subscription_ids
            )

    @_off_the_event_loop
    def item_subscriptions(self, item_ids: Collection[int]) -> dict[int, int]:
        """Subscription (`id_assinatura`) of each item that exists."""
        with self.engine.connect() as connection:
            return _pairs(
                connection, subscription_items.c.id, subscription_items.c.id_assinatura, item_ids
            )

    @_off_the_event_loop
    def customer(self, cod_cli: int) -> CustomerRow | None:
        return self._one(customers, customers.c.cod_cli == cod_cli, CustomerRow)

    @_off_the_event_loop
    def card(self, card_id: int) -> CardRow | None:
        return self._one(cards, cards.c.id == card_id, CardRow)

    @_off_the_event_loop
    def subscription(self, subscription_id: int) -> SubscriptionRow | None:
        return self._one(subscriptions, subscriptions.c.id == subscription_id, SubscriptionRow)

    @_off_the_event_loop
    def item(self, item_id: int) -> ItemRow | None:
        return self._one(subscription_items, subscription_items.c.id == item_id, ItemRow)

    @_off_the_event_loop
    def active_items(self, subscription_id: int) -> list[ItemRow]:
        query = (
            select(*columns_of(subscription_items, ItemRow))
            .where(
                and_(
                    subscription_items.c.id_assinatura == subscription_id,
                    subscription_items.c.status == "A",
                )
            )
            .order_by(subscription_items.c.id)
        )
        return self._rows(query, ItemRow)

    @_off_the_event_loop
    def invoice(self, invoice_id: int) -> InvoiceRow | None:
        return self._one(invoices, invoices.c.id == invoice_id, InvoiceRow)

    @_off_the_event_loop
    def pending_invoices(self, subscription_id: int) -> list[InvoiceRow]:
        query = (
            select(*columns_of(invoices, InvoiceRow))
            .where(
                and_(invoices.c.id_assinatura == subscription_id, invoices.c.status == "pending")
            )
            .order_by(invoices.c.id)
        )
        return self._rows(query, InvoiceRow)

    @_off_the_event_loop
    def apply(self, changes: Sequence[Change]) -> None:
        """Commit changes that must survive even if the event later fails (a registered card)."""
        with self.engine.begin() as connection:
            for change in changes:
                _apply(connection, change)

    @_off_the_event_loop
    def finish_event(
        self,
        event: EventRow,
        status: EventStatus,
        log: LogEntry,
        changes: Sequence[Change] = (),
        *,
        claimed_at: datetime | None = None,
    ) -> None:
        """Apply the event's changes, set its status and log it - all in one transaction.

        `P` and `E` finish this run's claim (`claimed_at`); `ClaimLost` (nothing stored) when
        the claim was taken back meanwhile. Status `N` leaves the event pending and only logs
        why (held behind a failed one).
        """
        now = self.clock.wall_time()
        with self.engine.begin() as connection:
            if status != "N":
                if claimed_at is None:
                    raise ValueError("an event is finished only under its claim")
                # Status first: a write as the first statement takes the write lock at once.
                finished = connection.execute(
                    update(events)
                    .where(still_claimed(event, claimed_at))
                    .values(processado=status, dt_processado=now)
                )
                if finished.rowcount != 1:
                    raise ClaimLost(event.id_guid)
            for change in changes:
                _apply(connection, change)
            connection.execute(
                insert(sync_log).values(
                    dt_evento=now,
                    tipo=log.kind,
                    descricao=_fit(log.description, LOG_TEXT_LIMIT),
                    cliente=_fit(log.customer or UNKNOWN_CUSTOMER, LOG_TEXT_LIMIT),
                    id_api=_fit(log.id_api, LOG_ID_LIMIT) if log.id_api else None,
                    valor=log.value,
                    id_evento=event.id_guid,
                    sigla=event.sigla[:8],
                )
            )

    def _rows(self, query: Any, row_type: type[R]) -> list[R]:
        with self.engine.connect() as connection:
            return [row_type(**row._mapping) for row in connection.execute(query)]

    def _one(self, table: Table, where: Any, row_type: type[R]) -> R | None:
        rows = self._rows(select(*columns_of(table, row_type)).where(where), row_type)
        return rows[0] if rows else None


def count_rows(engine: Engine, table_name: str, **equal_to: Any) -> int:
    """How many rows of a table match; for the demo, tests and benchmark summaries."""
    table = metadata.tables[table_name]
    query = select(func.count()).select_from(table)
    for column, value in equal_to.items():
        query = query.where(table.c[column] == value)
    with engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


def card_registered(
    card_id: int, *, id_api: str, brand: str | None, last_four_digits: str | None
) -> RowUpdate:
    """The gateway holds the card now: keep its id, brand and last four; wipe the rest."""
    return RowUpdate(
        cards.name,
        card_id,
        {
            "id_api": id_api,
            "bandeira": brand,
            "ultimos_digitos": last_four_digits,
            "numero_cartao": None,
            "nome_cartao": None,
            "cpf": None,
            "cvc": None,
        },
    )


def _apply(connection: Connection, change: Change) -> None:
    match change:
        case RowUpdate(table=name, row_id=row_id, values=values):
            table = metadata.tables[name]
            (key,) = table.primary_key.columns
            connection.execute(update(table).where(key == row_id).values(**values))
        case InvoiceImport(rows=rows):
            known = _pairs(
                connection, invoices.c.id_api, invoices.c.id, [r["id_api"] for r in rows]
            )
            new = [row for row in rows if row["id_api"] not in known]
            if new:
                connection.execute(insert(invoices), new)
            for row in rows:
                if row["id_api"] in known:
                    connection.execute(
                        update(invoices).where(invoices.c.id == known[row["id_api"]]).values(**row)
                    )


def _pairs(connection: Connection, key: Any, value: Any, wanted: Collection[Any]) -> dict[Any, Any]:
    """{key: value} of the rows whose `key` is one of `wanted`."""
    ordered = sorted(set(wanted))
    found: dict[Any, Any] = {}
    for start in range(0, len(ordered), IN_LIST_CHUNK):
        chunk = ordered[start : start + IN_LIST_CHUNK]
        found.update(
            dict(connection.execute(select(key, value).where(key.in_(chunk))).tuples().all())
        )
    return found


def _fit(text: str, limit: int) -> str:
    """`text` in at most `limit` bytes of UTF-8 - so also in `limit` characters: a varchar(255)
    counts bytes on SQL Server with a UTF-8 collation, characters elsewhere."""
    encoded = text.encode()
    if len(encoded) <= limit:
        return text
    ellipsis = "…"
    room = limit - len(ellipsis.encode())
    return encoded[:room].decode(errors="ignore") + ellipsis


def refusal(error: DBAPIError) -> str:
    """What the database refused to store, by kind and column or constraint, never by value:
    its own messages may quote the row (PostgreSQL's DETAIL, SQL Server's truncated value)."""
    original = error.orig
    kind = type(original).__name__ if original is not None else type(error).__name__
    diagnosis = getattr(original, "diag", None)  # psycopg's structured error fields
    table = getattr(diagnosis, "table_name", None)
    column = getattr(diagnosis, "column_name", None) or getattr(diagnosis, "constraint_name", None)
    if column is None:
        found = next(filter(None, (p.search(str(original)) for p in _REFUSED_NAME)), None)
        if found is not None:
            table, column = found.groupdict().get("table"), found["column"]
    where = ".".join(name for name in (table, column) if name)
    return f"{kind} em {where}" if where else kind
