"""Money and paging: integer cents at the gateway, Decimal in the ERP, every invoice page read."""

from __future__ import annotations

from decimal import Decimal

import pytest
from events_helpers import row, rows, run_pending
from sqlalchemy.engine import Engine

from sandbox.gym_demo import GymErp
from sandbox.mundipagg import MundipaggSandbox
from subscription_events.handlers import Services
from subscription_events.money import NotWholeCents, from_cents, to_cents


@pytest.mark.parametrize(
    ("reais", "cents"),
    [("89.90", 8990), ("0.29", 29), ("0.57", 57), ("1.15", 115), ("19999.99", 1999999), ("0", 0)],
)
def test_reais_to_cents_is_exact(reais: str, cents: int) -> None:
    # int(float("0.29") * 100) == 28: the cent the old synchronizer lost.
    assert to_cents(Decimal(reais)) == cents
    assert from_cents(cents) == Decimal(reais)


def test_fractions_of_a_cent_are_refused_not_rounded() -> None:
    with pytest.raises(NotWholeCents, match=r"10\.005"):
        to_cents(Decimal("10.005"))


def test_money_column_scale_is_accepted() -> None:
    assert to_cents(Decimal("189.9000")) == 18990


async def test_item_prices_reach_the_gateway_in_exact_cents(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    gym.customer(1, "Nina Paes")
    gym.card(10, 1)
    gym.subscription(
        100, 1, 10, [("Avaliação", 3, "0.29"), ("Spinning", 1, "1.15")], minimum="0.57"
    )
    guid = gym.event("A_N", 100)

    await run_pending(services)

    sent = gateway.subscriptions[row(engine, "rec_assinatura", id=100)["id_api"]]
    assert [item["pricing_scheme"]["price"] for item in sent["items"]] == [29, 115]
    assert sent["minimum_price"] == 57
    (log,) = rows(engine, "rec_log_sync", id_evento=guid)
    assert log["valor"] == Decimal("2.02")


async def test_minimum_price_with_fraction_of_cent_fails_with_reason(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    gym.customer(1, "Otávio Sá")
    gym.card(10, 1)
    gym.subscription(100, 1, 10, minimum="10.005")
    guid = gym.event("A_N", 100)

    result = (await run_pending(services))[guid]

    assert result.status == "E"
    assert "frações de centavo" in result.description
    assert gateway.requests == 0  # refused before any call


async def test_invoice_import_reads_every_page_and_upserts_by_id(
    any_database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    gym.customer(1, "Paula Rios")
    gym.card(10, 1)
    gym.subscription(100, 1, 10, billing_day=5)
    gym.event("A_N", 100)
    await run_pending(services)
    subscription_id = row(engine, "rec_assinatura", id=100)["id_api"]
    # 1 first invoice + 1,049 more = 1,050 invoices: 11 pages of 100, past the old page-9 loop.
    gateway.add_invoices(subscription_id, 1049, amount=1999)
    first_import = gym.event("F_AA", 100)

    result = (await run_pending(services))[first_import]

    assert result.status == "P", result.description
    assert gateway.counts["invoice/list"] == 11
    imported = rows(engine, "rec_fatura", id_assinatura=100)
    assert len(imported) == 1050
    at_gateway = gateway.invoices_of(subscription_id)
    assert {invoice["id_api"] for invoice in imported} == {i["id"] for i in at_gateway}
    expected_total = sum((Decimal(i["amount"]) / 100 for i in at_gateway), Decimal(0))
    assert sum((invoice["valor"] for invoice in imported), Decimal(0)) == expected_total
    assert result.value == expected_total
    assert {invoice["dia_cobranca"] for invoice in imported} == {5}

    # Invoices change at the gateway; the next import updates rows instead of adding them.
    paid = at_gateway[0]["id"]
    gateway.invoices[paid]["status"] = "paid"
    gym.event("F_AA", 100)
    await run_pending(services)
    assert len(rows(engine, "rec_fatura", id_assinatura=100)) == 1050
    assert row(engine, "rec_fatura", id_api=paid)["status"] == "paid"
