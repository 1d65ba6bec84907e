"""Ordering and grouping as plain functions, and the next billing date of A_EDP."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from blocks.gym_erp.rows import EventRow
from subscription_events.billing_dates import next_billing_date
from subscription_events.events import References, plan_lanes, referenced_ids

REFERENCES = References(subscription_owner={100: 1, 101: 1, 200: 2}, item_subscription={7: 100})


def event(guid: str, sigla: str, id_tabela: str, minute: int, status: str = "N") -> EventRow:
    return EventRow(guid, datetime(2026, 11, 22, 8, minute), status, sigla, id_tabela, None, None)


def test_lanes_group_a_customers_subscriptions_and_keep_age_order() -> None:
    pending = [
        event("e", "IA_N", "7", 5),
        event("b", "A_N", "200", 1),
        event("a2", "A_N", "101", 1),
        event("a1", "A_N", "100", 1),
        event("c", "CLI_E", "1", 3),
    ]

    lanes = {lane.key: lane for lane in plan_lanes(pending, [], REFERENCES)}

    assert [p.event.id_guid for p in lanes["cliente:1"].events] == ["a1", "a2", "c", "e"]
    assert [p.chain for p in lanes["cliente:1"].events] == [
        "assinatura:100", "assinatura:101", "cliente:1", "assinatura:100",
    ]  # fmt: skip
    assert [p.event.id_guid for p in lanes["cliente:2"].events] == ["b"]
    assert list(lanes) == ["cliente:1", "cliente:2"]  # the longest lane starts first


def test_events_naming_missing_rows_or_unknown_codes_fail_alone() -> None:
    pending = [
        event("missing", "A_N", "999", 1),
        event("orphan", "IA_E", "8", 2),
        event("unknown", "ZZ", "100", 3),
        event("garbage", "A_C", "x1", 4),
    ]

    chains = {
        p.event.id_guid: p.chain
        for lane in plan_lanes(pending, [], REFERENCES)
        for p in lane.events
    }

    assert chains == {
        "missing": "assinatura:999",
        "orphan": "item:8",
        "unknown": "evento:unknown",
        "garbage": "evento:garbage",
    }


def test_an_older_failure_holds_later_events_of_its_subscription_only() -> None:
    failed = [event("old-failure", "A_N", "100", 0, status="E")]
    pending = [
        event("held", "IA_N", "7", 2),
        event("free", "A_N", "101", 3),
        event("same-instant", "A_EDP", "100", 0),
    ]
    # `same-instant` is as old as the failure and sorts first on its guid: the A_N of the same
    # instant goes first all the same (a subscription before what changes it), so it is held.
    planned = {
        p.event.id_guid: p for lane in plan_lanes(pending, failed, REFERENCES) for p in lane.events
    }

    assert planned["held"].held_by == failed[0]
    assert planned["free"].held_by is None
    assert planned["same-instant"].held_by == failed[0]


def test_referenced_ids_split_subscriptions_and_items() -> None:
    found = referenced_ids(
        [event("a", "A_N", "100", 0), event("b", "IA_R", "7", 0), event("c", "CLI_E", "1", 0),
         event("d", "F_C", "200", 0), event("e", "A_C", "nope", 0)]
    )  # fmt: skip
    assert found == ({100, 200}, {7})


@pytest.mark.parametrize(
    ("today", "day", "expected"),
    [
        (date(2026, 11, 22), 25, date(2026, 11, 25)),
        (date(2026, 11, 22), 22, date(2026, 12, 22)),
        (date(2026, 11, 22), 5, date(2026, 12, 5)),
        (date(2026, 12, 20), 10, date(2027, 1, 10)),
        (date(2027, 1, 31), 31, date(2027, 2, 28)),
        (date(2028, 1, 31), 30, date(2028, 2, 29)),
        (date(2026, 4, 15), 31, date(2026, 4, 30)),
    ],
)
def test_next_billing_date(today: date, day: int, expected: date) -> None:
    assert next_billing_date(today, day) == expected


def test_billing_day_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="32"):
        next_billing_date(date(2026, 1, 1), 32)
