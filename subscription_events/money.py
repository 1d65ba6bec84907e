"""Reais in the database (`Decimal`), integer cents at the gateway - never float, never `//`."""

from __future__ import annotations

from decimal import Decimal

CENT = Decimal("0.01")


class NotWholeCents(ValueError):
    """An amount with fractions of a cent: refusing it beats rounding someone's money."""


def to_cents(amount: Decimal) -> int:
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise NotWholeCents(f"valor R$ {amount} tem frações de centavo")
    return int(cents)


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) * CENT).quantize(CENT)
