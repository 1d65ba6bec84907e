"""A_EDP, the billing-day change, against the gateway's cycle (issue 16, item 14).

Pagar.me charges a subscription's next cycle at its `next_billing_at`, whatever was paid, and
`PATCH /subscriptions/{id}/billing-date` moves that date. The first date on the new day after
today can fall inside the cycle the customer has just paid: the customer would be charged twice
for one cycle. The next charge is never before the gateway's `next_billing_at`.
Dates are relative to the tests' frozen clock (any calendar day, any --days of clock_moved).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from events_helpers import run_pending
from sqlalchemy import update
from sqlalchemy.engine import Engine

from blocks.gym_erp.schema import subscriptions
from clock import Clock
from sandbox.gym_demo import GymErp
from sandbox.mundipagg import MundipaggSandbox
from subscription_events.billing_dates import next_billing_date
from subscription_events.handlers import Services


def _local_date(gateway_time: str) -> date:
    return datetime.fromisoformat(gateway_time).astimezone(Clock().zone).date()


async def _paid_this_cycle(
    engine: Engine, gym: GymErp, gateway: MundipaggSandbox, services: Services, new_day: int
) -> tuple[dict[str, object], date]:
    """A subscription created and charged today (its cycle paid), the ERP's billing day then
    changed to `new_day`; (the gateway's subscription, when its next cycle is charged)."""
    gym.member(1, "Lia Torres")
    gym.event("A_N", 100)
    await run_pending(services)
    (subscription_id,) = gateway.subscriptions
    gateway.bill_cycle(subscription_id)
    subscription = gateway.subscriptions[subscription_id]
    paid_until = _local_date(str(subscription["next_billing_at"]))
    with engine.begin() as connection:
        connection.execute(update(subscriptions).values(dia_cobranca=new_day))
    return subscription, paid_until


async def test_a_new_day_just_after_the_paid_one_waits_for_the_paid_cycle_to_end(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    today = Clock().today()
    soon = today + timedelta(days=3)
    subscription, paid_until = await _paid_this_cycle(
        engine, gym, gateway, services, new_day=soon.day
    )
    assert paid_until > soon  # the old rule's date falls inside the paid cycle
    changed = gym.event("A_EDP", 100)

    result = (await run_pending(services))[changed]

    assert result.status == "P", result.description
    next_charge = _local_date(str(subscription["next_billing_at"]))
    assert next_charge != soon
    assert paid_until <= next_charge < paid_until + timedelta(days=32)
    assert next_charge == next_billing_date(today, soon.day, paid_until)
    assert f"próxima cobrança em {next_charge:%d/%m/%Y}" in result.description
    # One charge per cycle: the paid one, then nothing before the new date.
    assert [i["status"] for i in gateway.invoices_of(str(subscription["id"]))] == [
        "pending",
        "paid",
    ]


async def test_a_new_day_after_the_paid_cycle_keeps_the_first_date_on_that_day(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    today = Clock().today()
    subscription, paid_until = await _paid_this_cycle(
        engine, gym, gateway, services, new_day=(today + timedelta(days=40)).day
    )
    changed = gym.event("A_EDP", 100)

    result = (await run_pending(services))[changed]

    assert result.status == "P", result.description
    next_charge = _local_date(str(subscription["next_billing_at"]))
    assert paid_until <= next_charge < paid_until + timedelta(days=32)


async def test_without_the_gateways_next_billing_date_nothing_is_moved(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    subscription, _ = await _paid_this_cycle(engine, gym, gateway, services, new_day=5)
    before = subscription["next_billing_at"]
    subscription["next_billing_at"] = None
    changed = gym.event("A_EDP", 100)

    result = (await run_pending(services))[changed]

    assert result.status == "E"
    assert "não informou a próxima cobrança" in result.description
    assert gateway.writes["subscription/billing-date"] == 0
    assert before is not None


@pytest.mark.parametrize(
    ("today", "day", "paid_until", "expected"),
    [
        (date(2026, 11, 22), 25, date(2026, 12, 10), date(2026, 12, 25)),  # 10th paid, -> 25th
        (date(2026, 11, 22), 5, date(2026, 12, 10), date(2027, 1, 5)),
        (date(2026, 11, 22), 10, date(2026, 12, 10), date(2026, 12, 10)),  # the same day: kept
        (date(2026, 11, 22), 25, date(2026, 11, 1), date(2026, 11, 25)),  # overdue: after today
        (date(2027, 1, 20), 31, date(2027, 2, 5), date(2027, 2, 28)),
    ],
)
def test_next_billing_date_never_before_the_paid_cycle_ends(
    today: date, day: int, paid_until: date, expected: date
) -> None:
    assert next_billing_date(today, day, paid_until) == expected
