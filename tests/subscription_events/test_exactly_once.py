"""Exactly once at the gateway: a crashed or retried event never creates anything twice."""

from __future__ import annotations

import pytest
from events_helpers import row, run_pending
from sqlalchemy import update
from sqlalchemy.engine import Engine

from blocks.gym_erp.database import ErpDatabase
from blocks.gym_erp.schema import events
from blocks.mundipagg.client import MundipaggClient
from sandbox.gym_demo import GymErp
from sandbox.mundipagg import MundipaggSandbox
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

    async def answer_without_card(self, subscription, *, idempotency_key):  # type: ignore[no-untyped-def]
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
