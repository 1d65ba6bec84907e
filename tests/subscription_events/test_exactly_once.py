"""Exactly once at the gateway: a crashed or retried event never creates anything twice."""

from __future__ import annotations

from typing import Any

import pytest
from events_helpers import row, rows, run_pending
from sqlalchemy import update
from sqlalchemy.engine import Engine

from blocks.gym_erp.database import ErpDatabase
from blocks.gym_erp.schema import events, subscription_items, subscriptions
from blocks.mundipagg.client import MundipaggClient
from blocks.mundipagg.models import GatewaySubscription, NewSubscription
from clock import ManualTime
from sandbox.faults import FaultKind
from sandbox.gym_demo import GymErp
from sandbox.mundipagg import MundipaggSandbox
from subscription_events.failures import UNKNOWN_OUTCOME
from subscription_events.handlers import Services


class Crash(Exception):
    pass


async def test_crash_after_the_gateway_answered_does_not_duplicate(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gym.member(1, "Lia Torres")
    extra = gym.item(100, "Natação", 1, "45.50")
    created = gym.event("A_N", 100)

    async def crash(*args: object, **kwargs: object) -> None:
        raise Crash("worker died before committing")

    # The gateway creates the subscription; the worker dies before the ERP commit.
    monkeypatch.setattr(ErpDatabase, "finish_event", crash)
    with pytest.raises(Crash):
        await run_pending(services)
    monkeypatch.undo()
    assert row(engine, "util_eventos_mundipagg", id_guid=created)["processado"] == "N"
    assert row(engine, "rec_assinatura", id=100)["id_api"] is None
    assert len(gateway.subscriptions) == 1

    # The next run repeats the event: the idempotency key gets the same subscription back.
    item_added = gym.event("IA_N", extra)
    results = await run_pending(services)

    assert (results[created].status, results[item_added].status) == ("P", "P")
    (subscription_id,) = gateway.subscriptions
    assert row(engine, "rec_assinatura", id=100)["id_api"] == subscription_id
    assert len(gateway.customers) == 1
    assert len(gateway.cards) == 1
    # Found again by its code before anything was sent: not even a replayed key was needed.
    assert (gateway.counts["subscription/create"], gateway.replays) == (1, 0)
    # IA_N saw the item already sent with A_N (it is active in the ERP): nothing added twice.
    assert [i["description"] for i in gateway.subscriptions[subscription_id]["items"]] == [
        "Musculação",
        "Natação",
    ]


async def test_idempotency_keys_come_from_the_event_guid(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    gym.member(1, "Marcos Reis")
    created = gym.event("A_N", 100)
    await run_pending(services)
    keys = list(gateway.answers_by_key)
    assert keys == [f"{created}:subscription"]


async def test_answer_missing_the_card_keeps_the_subscription_id_so_a_retry_creates_nothing(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gym.member(1, "Rui Prado")
    created = gym.event("A_N", 100)
    real_create = MundipaggClient.create_subscription

    async def answer_without_card(
        self: MundipaggClient, subscription: NewSubscription, *, idempotency_key: str
    ) -> GatewaySubscription:
        answer = await real_create(self, subscription, idempotency_key=idempotency_key)
        return answer.model_copy(update={"card": None})

    monkeypatch.setattr(MundipaggClient, "create_subscription", answer_without_card)
    results = await run_pending(services)
    monkeypatch.undo()

    assert results[created].status == "E"
    (subscription_id,) = gateway.subscriptions
    assert subscription_id in results[created].description
    assert "não devolveu o cartão" in results[created].description
    assert row(engine, "rec_assinatura", id=100)["id_api"] == subscription_id
    assert row(engine, "cad_cliente", cod_cli=1)["id_api"] is not None

    # The operator sets the event back to N: nothing is created again at the gateway.
    with engine.begin() as connection:
        connection.execute(update(events).where(events.c.id_guid == created).values(processado="N"))
    again = await run_pending(services)
    assert again[created].status == "P"
    assert len(gateway.subscriptions) == 1
    assert len(gateway.customers) == 1
    # ...and the card the gateway holds is now known, its data wiped.
    card = row(engine, "cad_cliente_cartao", id=10)
    assert card["id_api"] == gateway.subscriptions[subscription_id]["card"]["id"]
    assert card["numero_cartao"] is None


def _answers_lack_the_last_item(monkeypatch: pytest.MonkeyPatch, *calls: str) -> None:
    """These client calls answer the subscription without its last item."""
    for name in calls:
        real = getattr(MundipaggClient, name)

        async def lacking(self: MundipaggClient, *args: Any, _real: Any = real, **kw: Any) -> Any:
            answer: GatewaySubscription = await _real(self, *args, **kw)
            return answer.model_copy(update={"items": answer.items[:-1]})

        monkeypatch.setattr(MundipaggClient, name, lacking)


def _two_items(gym: GymErp) -> int:
    """Customer 1 with card 10 and subscription 100 of two items; the second item's id."""
    gym.customer(1, "Rui Prado")
    gym.card(10, 1)
    _, natacao = gym.subscription(100, 1, 10, [("Musculação", 1, "89.90"), ("Natação", 1, "45.50")])
    return natacao


def _set_back_to_n(engine: Engine, guid: str) -> None:
    with engine.begin() as connection:
        connection.execute(update(events).where(events.c.id_guid == guid).values(processado="N"))


async def test_an_answer_missing_an_item_is_completed_later_and_its_removal_reaches_the_gateway(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The review's reproduction: the item the gym removed stayed billed."""
    natacao = _two_items(gym)
    created = gym.event("A_N", 100)
    _answers_lack_the_last_item(monkeypatch, "create_subscription")
    result = (await run_pending(services))[created]
    monkeypatch.undo()

    assert result.status == "E"
    assert "1 item(ns) sem par no ERP para 2" in result.description
    (subscription_id,) = gateway.subscriptions
    assert row(engine, "rec_assinatura", id=100)["id_api"] == subscription_id
    # The card id is known: it is stored and the card data wiped, whatever else failed.
    card = row(engine, "cad_cliente_cartao", id=10)
    assert card["id_api"] == gateway.subscriptions[subscription_id]["card"]["id"]
    assert (card["numero_cartao"], card["cvc"], card["nome_cartao"], card["cpf"]) == (None,) * 4
    assert [i["id_api"] for i in rows(engine, "rec_assinatura_item", id_assinatura=100)] == [
        None,
        None,
    ]

    removed = gym.event("IA_R", natacao)
    _set_back_to_n(engine, created)
    results = await run_pending(services)

    assert (results[created].status, results[removed].status) == ("P", "P")
    at_gateway = gateway.subscriptions[subscription_id]["items"]
    assert [(i["description"], i["status"]) for i in at_gateway] == [
        ("Musculação", "active"),
        ("Natação", "deleted"),
    ]
    assert [i["id_api"] for i in rows(engine, "rec_assinatura_item", id_assinatura=100)] == [
        item["id"] for item in at_gateway
    ]
    assert gateway.counts["subscription/create"] == 1


async def test_an_item_the_gateway_never_shows_keeps_the_event_e_on_every_reprocessing(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same fault, persisting: the create answer and every later read lack the item."""
    natacao = _two_items(gym)
    created = gym.event("A_N", 100)
    removed = gym.event("IA_R", natacao)
    _answers_lack_the_last_item(monkeypatch, "create_subscription", "subscription")
    for _ in range(3):
        results = await run_pending(services)
        assert (results[created].status, results[removed].status) == ("E", "N")
        assert "sem par no ERP" in results[created].description
        _set_back_to_n(engine, created)

    assert all(i["id_api"] is None for i in rows(engine, "rec_assinatura_item"))
    assert len(gateway.subscriptions) == 1
    assert gateway.counts["subscription/create"] == 1
    assert row(engine, "rec_assinatura_item", id=natacao)["status"] == "A"


async def test_an_answer_lost_after_the_gateway_created_the_subscription_never_creates_a_second_one(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
    frozen_clock: ManualTime,
) -> None:
    """The review's reproduction: reprocessed after the gateway forgot the idempotency key
    (24 h), the old flow created a second subscription - two charges every month."""
    gateway.faults.add(FaultKind.TRUNCATED_JSON, match=r"^POST /core/v5/subscriptions", times=None)
    gym.member(1, "Lia Torres")
    created = gym.event("A_N", 100)

    result = (await run_pending(services))[created]

    assert result.status == "E"
    assert result.description.startswith(f"A_N: {UNKNOWN_OUTCOME}")
    (subscription_id,) = gateway.subscriptions
    assert row(engine, "rec_assinatura", id=100)["id_api"] is None

    frozen_clock.advance(hours=25)
    gateway.faults.clear()
    _set_back_to_n(engine, created)
    result = (await run_pending(services))[created]

    assert result.status == "P", result.description
    assert "encontrada pelo code 100" in result.description
    assert list(gateway.subscriptions) == [subscription_id]
    # The first run's one try only (here events are tried once; the flow's retries are
    # Prefect's, see test_event_retries.py).
    assert gateway.counts["subscription/create"] == 1
    assert row(engine, "rec_assinatura", id=100)["id_api"] == subscription_id
    assert (
        row(engine, "cad_cliente", cod_cli=1)["id_api"]
        == (gateway.subscriptions[subscription_id]["customer"]["id"])
    )
    card = row(engine, "cad_cliente_cartao", id=10)
    assert (card["id_api"], card["numero_cartao"]) == (
        gateway.subscriptions[subscription_id]["card"]["id"],
        None,
    )
    assert row(engine, "rec_assinatura_item", id=1)["id_api"] is not None


async def _lost_subscription(
    engine: Engine, gym: GymErp, gateway: MundipaggSandbox, services: Services
) -> tuple[str, str]:
    """A subscription created at the gateway whose ids the ERP lost; (its gateway id, a new A_N)."""
    gym.member(1, "Lia Torres")
    gym.event("A_N", 100)
    await run_pending(services)
    (subscription_id,) = gateway.subscriptions
    with engine.begin() as connection:
        connection.execute(update(subscriptions).values(id_api=None))
        connection.execute(update(subscription_items).values(id_api=None))
    return subscription_id, gym.event("A_N", 100)


async def test_two_live_subscriptions_with_the_code_stop_the_event_until_one_is_canceled(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    subscription_id, again = await _lost_subscription(engine, gym, gateway, services)
    twin = {**gateway.subscriptions[subscription_id], "id": "sub_twin"}
    gateway.subscriptions["sub_twin"] = twin

    result = (await run_pending(services))[again]

    assert result.status == "E"
    assert f"2 assinaturas ativas com o code 100 no gateway ({subscription_id}, sub_twin)" in (
        result.description
    )
    assert row(engine, "rec_assinatura", id=100)["id_api"] is None

    twin["status"] = "canceled"
    _set_back_to_n(engine, again)
    result = (await run_pending(services))[again]

    assert result.status == "P", result.description
    assert row(engine, "rec_assinatura", id=100)["id_api"] == subscription_id
    assert gateway.counts["subscription/create"] == 1


async def test_a_subscription_with_the_code_that_this_flow_did_not_create_is_not_adopted(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    subscription_id, again = await _lost_subscription(engine, gym, gateway, services)
    gateway.subscriptions[subscription_id]["metadata"] = {"origem": "outro sistema"}

    result = (await run_pending(services))[again]

    assert result.status == "E"
    assert f"a assinatura {subscription_id} do gateway tem o code 100 mas não" in result.description
    assert row(engine, "rec_assinatura", id=100)["id_api"] is None
    assert len(gateway.subscriptions) == 1


async def test_canceled_subscriptions_with_the_code_are_ignored_and_a_new_one_is_created(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    subscription_id, again = await _lost_subscription(engine, gym, gateway, services)
    gateway.subscriptions[subscription_id]["status"] = "canceled"

    result = (await run_pending(services))[again]

    assert result.status == "P", result.description
    assert "1 cancelada(s) com o mesmo code ignorada(s)" in result.description
    (new_id,) = set(gateway.subscriptions) - {subscription_id}
    assert row(engine, "rec_assinatura", id=100)["id_api"] == new_id
