"""The event codes the ERP writes, and how pending events are ordered and grouped.

Ordering rules:
- a *chain* is what must stay in order: one subscription (its A_*, F_* and item events), or one
  customer (CLI_E). When an event fails, the later events of its chain stay pending until
  someone fixes the failed one (set it back to `N` to retry it).
- a *lane* is what runs sequentially: all chains of one customer, so two new subscriptions of
  a new customer never both create that customer at the gateway. Lanes run concurrently.
An event whose target row does not exist still gets a chain (from the ids it names), so it
fails alone without holding anyone else back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from blocks.gym_erp.rows import ChainCodes, EventRow


class EventCode(StrEnum):
    NEW_SUBSCRIPTION = "A_N"
    CHANGE_CARD = "A_ECT"
    CHANGE_BILLING_DAY = "A_EDP"
    CANCEL_SUBSCRIPTION = "A_C"
    CUSTOMER_EDITED = "CLI_E"
    ITEM_ADDED = "IA_N"
    ITEM_CHANGED = "IA_E"
    ITEM_REMOVED = "IA_R"
    IMPORT_INVOICES = "F_AA"
    CANCEL_INVOICE = "F_C"


SUBSCRIPTION_CODES = frozenset(
    {
        EventCode.NEW_SUBSCRIPTION,
        EventCode.CHANGE_CARD,
        EventCode.CHANGE_BILLING_DAY,
        EventCode.CANCEL_SUBSCRIPTION,
        EventCode.IMPORT_INVOICES,
        EventCode.CANCEL_INVOICE,
    }
)
ITEM_CODES = frozenset({EventCode.ITEM_ADDED, EventCode.ITEM_CHANGED, EventCode.ITEM_REMOVED})
# Events of one instant run in the order their effects depend on: the ERP writes events of one
# action together, SQL Server's `datetime` ticks every 3.33 ms and the event table has no column
# that keeps the insertion order (its `id_guid` is a random newid()). So a subscription goes
# before its items, an item is added before it is changed or removed, and the cancellation goes
# last; `id_guid` only separates events of one code.
SAME_INSTANT_ORDER = (
    EventCode.NEW_SUBSCRIPTION,
    EventCode.CUSTOMER_EDITED,
    EventCode.CHANGE_CARD,
    EventCode.CHANGE_BILLING_DAY,
    EventCode.ITEM_ADDED,
    EventCode.ITEM_CHANGED,
    EventCode.ITEM_REMOVED,
    EventCode.IMPORT_INVOICES,
    EventCode.CANCEL_INVOICE,
    EventCode.CANCEL_SUBSCRIPTION,
)
# The same chains and order, for the database to read the queue in it and to leave held events
# out of the read window.
CHAINS = ChainCodes(
    subscription=frozenset(map(str, SUBSCRIPTION_CODES)),
    item=frozenset(map(str, ITEM_CODES)),
    customer=frozenset({str(EventCode.CUSTOMER_EDITED)}),
    same_instant_order=tuple(map(str, SAME_INSTANT_ORDER)),
)


def event_code(event: EventRow) -> EventCode | None:
    """The event's code, or None when the ERP wrote one we do not know."""
    try:
        return EventCode(event.sigla.strip().upper())
    except ValueError:
        return None


def parse_id(text: str | None) -> int | None:
    """An id column written as text (`id_tabela`, `codaux_1`) as the integer it should be."""
    cleaned = (text or "").strip()
    return int(cleaned) if cleaned.isascii() and cleaned.isdigit() else None


@dataclass(frozen=True)
class PlannedEvent:
    event: EventRow
    chain: str
    # An earlier event of the same chain that is marked E: this one must wait for it.
    held_by: EventRow | None = None
    # An earlier event of the same chain that another run is processing (claimed): this one
    # waits for that run, without a log row.
    in_flight: EventRow | None = None


@dataclass
class Lane:
    key: str
    events: list[PlannedEvent] = field(default_factory=list)


@dataclass(frozen=True)
class References:
    """What the ERP says the events point at: needed to know their chain and lane."""

    subscription_owner: Mapping[int, int]
    item_subscription: Mapping[int, int]


def referenced_ids(events: Iterable[EventRow]) -> tuple[set[int], set[int]]:
    """(subscription ids, item ids) named by the events, to look their owners up in bulk."""
    subscription_ids: set[int] = set()
    item_ids: set[int] = set()
    for event in events:
        code, row_id = event_code(event), parse_id(event.id_tabela)
        if row_id is None:
            continue
        if code in SUBSCRIPTION_CODES:
            subscription_ids.add(row_id)
        elif code in ITEM_CODES:
            item_ids.add(row_id)
    return subscription_ids, item_ids


def chain_of(event: EventRow, references: References) -> str:
    code, row_id = event_code(event), parse_id(event.id_tabela)
    if code is None or row_id is None:
        return f"evento:{event.id_guid}"
    if code is EventCode.CUSTOMER_EDITED:
        return f"cliente:{row_id}"
    if code in ITEM_CODES:
        subscription_id = references.item_subscription.get(row_id)
        return f"item:{row_id}" if subscription_id is None else f"assinatura:{subscription_id}"
    return f"assinatura:{row_id}"


def lane_of(chain: str, references: References) -> str:
    kind, _, key = chain.partition(":")
    if kind == "assinatura" and int(key) in references.subscription_owner:
        return f"cliente:{references.subscription_owner[int(key)]}"
    return chain


def plan_lanes(
    pending: Sequence[EventRow],
    failed: Sequence[EventRow],
    references: References,
    in_flight: Sequence[EventRow] = (),
) -> list[Lane]:
    """Group the pending events into lanes in `queue_order`, noting which must wait: behind an
    older failed event of their chain, or an older one another run is processing (claimed).

    Lanes come out largest first, so the longest sequential work starts earliest.
    """
    first_failure = _first_by_chain(failed, references)
    first_in_flight = _first_by_chain(in_flight, references)
    lanes: dict[str, Lane] = {}
    for event in sorted(pending, key=queue_order):
        chain = chain_of(event, references)
        held_by = _if_before(first_failure.get(chain), event)
        busy = None if held_by else _if_before(first_in_flight.get(chain), event)
        key = lane_of(chain, references)
        lanes.setdefault(key, Lane(key)).events.append(PlannedEvent(event, chain, held_by, busy))
    return sorted(lanes.values(), key=lambda lane: -len(lane.events))


def _first_by_chain(events: Sequence[EventRow], references: References) -> dict[str, EventRow]:
    first: dict[str, EventRow] = {}
    for event in sorted(events, key=queue_order):
        first.setdefault(chain_of(event, references), event)
    return first


def _if_before(earlier: EventRow | None, event: EventRow) -> EventRow | None:
    return earlier if earlier is not None and queue_order(earlier) < queue_order(event) else None


def queue_order(event: EventRow) -> tuple[object, int, str]:
    """Oldest first; events of one instant in `SAME_INSTANT_ORDER` (unknown codes last)."""
    code = event_code(event)
    rank = SAME_INSTANT_ORDER.index(code) if code is not None else len(SAME_INSTANT_ORDER)
    return (event.dt_evento, rank, event.id_guid)
