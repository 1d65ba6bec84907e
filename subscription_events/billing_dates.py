"""When the next charge happens after the customer changes the billing day (event A_EDP), and
how a business date goes to the gateway."""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def next_billing_date(today: date, billing_day: int, paid_until: date | None = None) -> date:
    """The first date after `today` falling on `billing_day`, and not before `paid_until`.

    `paid_until` is when the gateway would charge next (its `next_billing_at`): the end of the
    cycle the customer has paid. `next_billing_at` is when the gateway charges the next cycle,
    whatever was paid: a date before it bills the paid cycle's days again (paid on the 10th,
    moved to the 25th on the 22nd: charged on the 10th and the 25th). The days between the paid
    cycle's end and the new date are not charged (the gateway does not prorate).
    Months shorter than the billing day charge on their last day (day 31 -> 28/29 Feb, 30 Apr).
    """
    if not 1 <= billing_day <= 31:
        raise ValueError(f"dia de cobrança {billing_day} fora de 1..31")
    after = today if paid_until is None else max(today, paid_until - timedelta(days=1))
    year, month = after.year, after.month
    while True:
        candidate = date(year, month, min(billing_day, calendar.monthrange(year, month)[1]))
        if candidate > after:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def start_of_day(day: date, zone: ZoneInfo) -> datetime:
    """`day`'s first instant where the gym is: the RFC 3339 date-time the gateway's SDKs send.

    Midnight with the gym's offset (2026-11-25T00:00:00-03:00) is 25 November both in the gym's
    zone and in UTC (03:00Z), so whichever one the gateway takes the date in, it is the same day;
    midnight UTC would be the 24th in São Paulo.
    """
    return datetime.combine(day, time(), tzinfo=zone)
