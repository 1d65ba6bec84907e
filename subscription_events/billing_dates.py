"""When the next charge happens after the customer changes the billing day (event A_EDP)."""

from __future__ import annotations

import calendar
from datetime import date


def next_billing_date(today: date, billing_day: int) -> date:
    """The first date after `today` falling on `billing_day`.

    Months shorter than the billing day charge on their last day (day 31 -> 28/29 Feb, 30 Apr).
    """
    if not 1 <= billing_day <= 31:
        raise ValueError(f"dia de cobrança {billing_day} fora de 1..31")
    year, month = today.year, today.month
    while True:
        candidate = date(year, month, min(billing_day, calendar.monthrange(year, month)[1]))
        if candidate > today:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
