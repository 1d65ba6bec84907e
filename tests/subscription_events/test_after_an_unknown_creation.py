"""A cancellation or an item removal after an A_N whose outcome was unknown (issue 16, item 11).

The A_N ends `E` ("resultado desconhecido"); the gym skips it, as the README allows, and cancels.
The subscription may be at the gateway all the same, charging: A_C and IA_R look it up by its
code before they conclude it never got there.
"""

from __future__ import annotations

from events_helpers import row, rows, run_pending
from sqlalchemy import update
from sqlalchemy.engine import Engine

from blocks.gym_erp.schema import events
from clock import ManualTime
from sandbox.faults import FaultKind
from sandbox.gym_demo import GymErp
from sandbox.mundipagg import MundipaggSandbox
from subscription_events.failures import UNKNOWN_OUTCOME
from subscription_events.handlers import Services


def _mark(engine: Engine, guid: str, letter: str) -> None:
    with engine.begin() as connection:
        connection.execute(update(events).where(events.c.id_guid == guid).values(processado=letter))


async def _created_but_unknown(
    engine: Engine, gym: GymErp, gateway: MundipaggSandbox, services: Services
) -> str:
    """Subscription 100 (two items) created at the gateway, its answer lost every time: the A_N
    ends E, the gym skips it (letter S). The gateway's subscription id."""
    gym.customer(1, "Lia Torres")
    gym.card(10, 1)
    gym.subscription(100, 1, 10, [("Musculação", 1, "89.90"), ("Natação", 1, "45.50")])
    gateway.faults.add(FaultKind.TRUNCATED_JSON, match=r"^POST /core/v5/subscriptions", times=None)
    created = gym.event("A_N", 100)
    result = (await run_pending(services))[created]
    assert result.status == "E"
    assert result.description.startswith(f"A_N: {UNKNOWN_OUTCOME}")
    gateway.faults.clear()
    _mark(engine, created, "S")
    (subscription_id,) = gateway.subscriptions
    assert row(engine, "rec_assinatura", id=100)["id_api"] is None
    return subscription_id


async def test_a_cancellation_after_an_unknown_creation_cancels_it_at_the_gateway(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
    frozen_clock: ManualTime,
) -> None:
    subscription_id = await _created_but_unknown(engine, gym, gateway, services)
    frozen_clock.advance(hours=25)  # the gateway has forgotten the A_N's idempotency key
    canceled = gym.event("A_C", 100)

    result = (await run_pending(services))[canceled]

    assert result.status == "P", result.description
    assert "cancelada no gateway (encontrada pelo code 100)" in result.description
    assert result.id_api == subscription_id
    assert gateway.subscriptions[subscription_id]["status"] == "canceled"
    assert [i["status"] for i in gateway.invoices.values()] == ["canceled"]
    stored = row(engine, "rec_assinatura", id=100)
    assert (stored["status"], stored["id_api"]) == ("C", subscription_id)
    assert len(gateway.subscriptions) == 1


async def test_a_cancellation_of_a_subscription_never_at_the_gateway_cancels_nothing(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    gym.customer(1, "Lia Torres")
    gym.subscription(100, 1, None)  # no card: the A_N fails before any gateway call
    created = gym.event("A_N", 100)
    assert (await run_pending(services))[created].status == "E"
    _mark(engine, created, "S")
    canceled = gym.event("A_C", 100)

    result = (await run_pending(services))[canceled]

    assert result.status == "P", result.description
    assert "não estava no gateway (nenhuma ativa com o code 100)" in result.description
    assert gateway.counts["subscription/list"] == 1
    assert gateway.counts["subscription/cancel"] == 0
    assert row(engine, "rec_assinatura", id=100)["status"] == "C"


async def test_a_cancellation_never_cancels_a_subscription_this_flow_did_not_create(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    subscription_id = await _created_but_unknown(engine, gym, gateway, services)
    gateway.subscriptions[subscription_id]["metadata"] = {"origem": "outro sistema"}
    canceled = gym.event("A_C", 100)

    result = (await run_pending(services))[canceled]

    assert result.status == "E"
    assert "não foi criada para a assinatura 100 do ERP" in result.description
    assert result.description.endswith("nada cancelado")
    assert gateway.subscriptions[subscription_id]["status"] == "active"
    assert row(engine, "rec_assinatura", id=100)["status"] == "A"


async def test_an_item_removal_after_an_unknown_creation_removes_it_at_the_gateway(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    subscription_id = await _created_but_unknown(engine, gym, gateway, services)
    musculacao, natacao = (i["id"] for i in rows(engine, "rec_assinatura_item"))
    removed = gym.event("IA_R", natacao)

    result = (await run_pending(services))[removed]

    assert result.status == "P", result.description
    at_gateway = gateway.subscriptions[subscription_id]["items"]
    assert [(i["description"], i["status"]) for i in at_gateway] == [
        ("Musculação", "active"),
        ("Natação", "deleted"),
    ]
    assert result.id_api == at_gateway[1]["id"]
    stored = row(engine, "rec_assinatura_item", id=natacao)
    assert (stored["status"], stored["id_api"]) == ("I", at_gateway[1]["id"])
    # What the pairing found is stored: a later A_N set back to N completes, creates nothing.
    assert row(engine, "rec_assinatura_item", id=musculacao)["id_api"] == at_gateway[0]["id"]
    assert row(engine, "rec_assinatura", id=100)["id_api"] == subscription_id


async def test_an_item_removal_the_gateway_cannot_pair_removes_nothing(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    subscription_id = await _created_but_unknown(engine, gym, gateway, services)
    gateway.subscriptions[subscription_id]["items"].pop()  # the gateway shows one item of two
    natacao = rows(engine, "rec_assinatura_item")[1]["id"]
    removed = gym.event("IA_R", natacao)

    result = (await run_pending(services))[removed]

    assert result.status == "E"
    assert "não foi possível saber qual item" in result.description
    assert result.description.endswith("nada removido")
    assert gateway.counts["item/remove"] == 0
    assert row(engine, "rec_assinatura_item", id=natacao)["status"] == "A"
    assert row(engine, "rec_assinatura", id=100)["id_api"] is None


async def test_an_item_removal_after_a_creation_missing_its_items_removes_it_at_the_gateway(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    """The subscription's id is known (the A_N kept it) but not the items'; the A_N skipped."""
    subscription_id = await _created_but_unknown(engine, gym, gateway, services)
    with engine.begin() as connection:
        connection.execute(
            update(events.metadata.tables["rec_assinatura"]).values(id_api=subscription_id)
        )
    natacao = rows(engine, "rec_assinatura_item")[1]["id"]
    removed = gym.event("IA_R", natacao)

    result = (await run_pending(services))[removed]

    assert result.status == "P", result.description
    assert gateway.subscriptions[subscription_id]["items"][1]["status"] == "deleted"
    assert gateway.counts["subscription/list"] == 1  # only the A_N's: the id was known
    assert row(engine, "rec_assinatura_item", id=natacao)["status"] == "I"
