"""Every event code end to end: ERP on SQLite, PostgreSQL and MariaDB, gateway = sandbox."""

from __future__ import annotations

from decimal import Decimal

import httpx
from events_helpers import log_of, row, rows, run_pending
from pydantic import SecretStr
from sqlalchemy import Table, update
from sqlalchemy.engine import Engine

from blocks.gym_erp.cards import FernetCardCipher
from blocks.gym_erp.database import ErpDatabase
from blocks.gym_erp.schema import customers, subscription_items, subscriptions
from blocks.mundipagg.block import Mundipagg
from blocks.mundipagg.client import MundipaggClient
from clock import Clock
from sandbox.gym_demo import GymErp
from sandbox.mundipagg import LEGACY_BASE_PATH, MundipaggSandbox
from subscription_events.handlers import Services


def _set(engine: Engine, table: Table, row_id: int, **values: object) -> None:
    (key,) = table.primary_key.columns
    with engine.begin() as connection:
        connection.execute(update(table).where(key == row_id).values(**values))


async def test_new_subscription_registers_customer_card_and_items(
    any_database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    gym.customer(1, "Ana Souza")
    gym.card(10, 1)
    musculacao, natacao = gym.subscription(
        100, 1, 10, [("Musculação", 1, "89.90"), ("Natação", 2, "45.50")], billing_day=15
    )
    guid = gym.event("A_N", 100)

    results = await run_pending(services)

    assert results[guid].status == "P", results[guid].description
    subscription = row(engine, "rec_assinatura", id=100)
    at_gateway = gateway.subscriptions[subscription["id_api"]]
    customer = row(engine, "cad_cliente", cod_cli=1)
    assert at_gateway["customer"]["id"] == customer["id_api"]
    assert gateway.customers[customer["id_api"]]["document"] == "52998224725"
    assert at_gateway["billing_day"] == 15
    assert [
        (i["description"], i["quantity"], i["pricing_scheme"]["price"]) for i in at_gateway["items"]
    ] == [
        ("Musculação", 1, 8990),
        ("Natação", 2, 4550),
    ]
    assert (
        row(engine, "rec_assinatura_item", id=musculacao)["id_api"] == at_gateway["items"][0]["id"]
    )
    assert row(engine, "rec_assinatura_item", id=natacao)["id_api"] == at_gateway["items"][1]["id"]
    card = row(engine, "cad_cliente_cartao", id=10)
    assert card["id_api"] == at_gateway["card"]["id"]
    assert (card["bandeira"], card["ultimos_digitos"]) == ("Visa", "1111")
    assert (card["numero_cartao"], card["cvc"], card["nome_cartao"], card["cpf"]) == (None,) * 4
    (log,) = log_of(engine, guid)
    assert (log["tipo"], log["cliente"], log["id_api"]) == (
        "P",
        "Ana Souza",
        subscription["id_api"],
    )
    assert log["valor"] == Decimal("180.90")
    assert row(engine, "util_eventos_mundipagg", id_guid=guid)["processado"] == "P"


async def test_every_event_code_end_to_end(
    any_database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    gym.customer(1, "Bruno Lima")
    gym.card(10, 1)
    musculacao, pilates = gym.subscription(
        100, 1, 10, [("Musculação", 1, "89.90"), ("Pilates", 1, "60.00")], billing_day=10
    )
    created = gym.event("A_N", 100)
    assert (await run_pending(services))[created].status == "P"
    subscription_id = row(engine, "rec_assinatura", id=100)["id_api"]

    # The gym's staff change things in the ERP, which queues the matching events.
    _set(engine, customers, 1, email="bruno@novo.example", celular="21 99999-0000")
    natacao = gym.item(100, "Natação", 2, "45.50")
    _set(engine, subscription_items, musculacao, valor=Decimal("99.90"), quant=2)
    gym.card(11, 1, number="5555555555554444", cvv="123")
    _set(engine, subscriptions, 100, dia_cobranca=25, id_cartao=11)
    second_phase = [
        gym.event("CLI_E", 1),
        gym.event("IA_N", natacao),
        gym.event("IA_E", musculacao),
        gym.event("IA_R", pilates),
        gym.event("A_ECT", 100, codaux_1=11),
        gym.event("A_EDP", 100),
        gym.event("F_AA", 100),
    ]
    results = await run_pending(services)
    assert {guid: results[guid].status for guid in second_phase} == dict.fromkeys(
        second_phase, "P"
    ), [results[guid].description for guid in second_phase]

    at_gateway = gateway.subscriptions[subscription_id]
    customer_at_gateway = gateway.customers[row(engine, "cad_cliente", cod_cli=1)["id_api"]]
    assert customer_at_gateway["email"] == "bruno@novo.example"
    assert customer_at_gateway["phones"]["mobile_phone"] == {
        "country_code": "55",
        "area_code": "21",
        "number": "999990000",
    }
    items = {item["description"]: item for item in at_gateway["items"]}
    assert (items["Musculação"]["quantity"], items["Musculação"]["pricing_scheme"]["price"]) == (
        2,
        9990,
    )
    assert items["Pilates"]["status"] == "deleted"
    assert row(engine, "rec_assinatura_item", id=pilates)["status"] == "I"
    assert items["Natação"]["id"] == row(engine, "rec_assinatura_item", id=natacao)["id_api"]
    new_card = row(engine, "cad_cliente_cartao", id=11)
    assert at_gateway["card"]["id"] == new_card["id_api"]
    assert (new_card["bandeira"], new_card["ultimos_digitos"]) == ("Mastercard", "4444")
    # Midnight of the 25th in São Paulo, as an RFC 3339 date-time (the gateway answers in UTC).
    assert at_gateway["next_billing_at"] == "2026-11-25T03:00:00Z"
    (invoice,) = rows(engine, "rec_fatura", id_assinatura=100)
    first_invoice = gateway.invoices[invoice["id_api"]]
    assert invoice["valor"] == Decimal(first_invoice["amount"]) / 100
    assert (invoice["status"], invoice["cod_cli"]) == ("pending", 1)

    canceled_invoice = gym.event("F_C", 100, codaux_1=invoice["id"])
    canceled = gym.event("A_C", 100)
    results = await run_pending(services)
    assert (results[canceled_invoice].status, results[canceled].status) == ("P", "P")
    assert gateway.invoices[invoice["id_api"]]["status"] == "canceled"
    assert row(engine, "rec_fatura", id=invoice["id"])["status"] == "canceled"
    assert row(engine, "rec_fatura", id=invoice["id"])["dt_cancelamento"] is not None
    assert gateway.subscriptions[subscription_id]["status"] == "canceled"
    assert row(engine, "rec_assinatura", id=100)["status"] == "C"
    logged = rows(engine, "rec_log_sync")
    assert len(logged) == 10
    assert {entry["tipo"] for entry in logged} == {"P"}
    assert {entry["sigla"] for entry in logged} == {
        "A_N", "CLI_E", "IA_N", "IA_E", "IA_R", "A_ECT", "A_EDP", "F_AA", "F_C", "A_C",
    }  # fmt: skip
    assert rows(engine, "util_eventos_mundipagg", processado="N") == []


async def test_card_registered_once_then_sent_by_id(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    gym.member(1, "Carla Dias")
    gym.event("A_N", 100)
    await run_pending(services)
    gym.card(11, 1)
    gym.subscription(101, 1, 11)
    gym.subscription(102, 1, 11)
    second, third = gym.event("A_N", 101), gym.event("A_N", 102)

    results = await run_pending(services)

    assert (results[second].status, results[third].status) == ("P", "P")
    card_id = row(engine, "cad_cliente_cartao", id=11)["id_api"]
    assert gateway.counts["card/create"] == 1
    assert len(gateway.cards) == 2
    assert len(gateway.customers) == 1
    subscriptions_at_gateway = [
        gateway.subscriptions[row(engine, "rec_assinatura", id=i)["id_api"]] for i in (101, 102)
    ]
    assert [s["card"]["id"] for s in subscriptions_at_gateway] == [card_id, card_id]
    assert row(engine, "cad_cliente_cartao", id=11)["numero_cartao"] is None


async def test_invoice_statuses_the_document_does_not_list_are_kept_and_reported(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    gym.member(1, "Davi Melo")
    gym.event("A_N", 100)
    await run_pending(services)
    subscription_id = row(engine, "rec_assinatura", id=100)["id_api"]
    odd = gateway.add_invoices(subscription_id, 2, status="chargedback")
    imported = gym.event("F_AA", 100)

    result = (await run_pending(services))[imported]

    assert result.status == "P", result.description
    assert "3 fatura(s) importada(s); status desconhecido 'chargedback' em 2" in (
        result.description
    )
    assert {row(engine, "rec_fatura", id_api=i)["status"] for i in odd} == {"chargedback"}


async def test_a_change_to_an_inactive_item_sends_nothing(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    """Sending it (with the status v5 requires) would make a removed item billed again."""
    (item,) = gym.member(1, "Elza Dias")
    gym.event("A_N", 100)
    gym.event("IA_R", item)
    await run_pending(services)
    changed = gym.event("IA_E", item)

    result = (await run_pending(services))[changed]

    assert result.status == "P"
    assert "inativo no ERP" in result.description
    assert gateway.counts["item/update"] == 0
    (at_gateway,) = gateway.subscriptions[row(engine, "rec_assinatura", id=100)["id_api"]]["items"]
    assert at_gateway["status"] == "deleted"


async def test_the_legacy_mundipagg_api_takes_the_same_calls(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    cipher: FernetCardCipher,
) -> None:
    (item,) = gym.member(1, "Fábio Reis")
    guids = [gym.event(sigla, target) for sigla, target in
             [("A_N", 100), ("IA_E", item), ("A_EDP", 100), ("F_AA", 100)]]  # fmt: skip
    legacy = MundipaggClient(
        f"http://mundipagg.test{LEGACY_BASE_PATH}",
        gateway.secret_key,
        transport=httpx.ASGITransport(app=gateway.app),
    )
    erp = ErpDatabase(engine, clock=Clock())
    async with legacy:
        results = await run_pending(Services(erp, legacy, cipher, Clock()))
    erp.dispose()

    assert [results[guid].status for guid in guids] == ["P"] * 4, [
        results[guid].description for guid in guids
    ]
    assert gateway.writes == {
        "subscription/create": 1,
        "item/update": 1,
        "subscription/billing-date": 1,
    }
    assert gateway.counts["invoice/list"] == 1


def test_the_block_defaults_to_pagar_me_core_v5_and_names_the_legacy_api() -> None:
    block = Mundipagg(secret_key=SecretStr("sk_test_x"))

    assert block.base_url == "https://api.pagar.me/core/v5"
    assert "https://api.mundipagg.com/core/v1" in block._description
    assert "sk_test_" in block._description
