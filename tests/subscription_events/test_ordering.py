"""Order and failure semantics: a failed event holds back its subscription's later events only."""

from __future__ import annotations

from events_helpers import log_of, row, rows, run_pending
from sqlalchemy import update
from sqlalchemy.engine import Engine

from blocks.gym_erp.schema import events, subscriptions
from sandbox.gym_demo import GymErp
from sandbox.mundipagg import MundipaggSandbox
from subscription_events.handlers import Services
from subscription_events.lanes import read_queue


async def test_failed_event_holds_back_its_subscription_until_fixed(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    gym.customer(1, "Diego Melo")
    gym.card(10, 1)
    gym.subscription(100, 1, None)  # no card yet: A_N must fail
    extra = gym.item(100, "Natação", 1, "45.50")
    gym.subscription(200, 1, 10)  # same customer, another subscription: not held back
    failing = gym.event("A_N", 100)
    other = gym.event("A_N", 200)
    held = [gym.event("IA_N", extra), gym.event("A_EDP", 100)]

    results = await run_pending(services)

    assert results[failing].status == "E"
    assert "sem cartão" in results[failing].description
    assert results[other].status == "P"
    for guid in held:
        assert results[guid].status == "N"
        assert failing in results[guid].description
        assert row(engine, "util_eventos_mundipagg", id_guid=guid)["processado"] == "N"
        (log,) = log_of(engine, guid)
        assert (log["tipo"], log["cliente"]) == ("N", "Diego Melo")
    assert len(gateway.subscriptions) == 1

    # The next run (every minute) must not run them out of order, nor log them again.
    results = await run_pending(services)
    assert [results[guid].status for guid in held] == ["N", "N"]
    assert [len(log_of(engine, guid)) for guid in held] == [1, 1]
    assert len(gateway.subscriptions) == 1

    # Someone fixes the subscription and sets the failed event back to N: all run, in order.
    with engine.begin() as connection:
        connection.execute(
            update(subscriptions).where(subscriptions.c.id == 100).values(id_cartao=10)
        )
        connection.execute(update(events).where(events.c.id_guid == failing).values(processado="N"))
    results = await run_pending(services)
    assert [results[guid].status for guid in (failing, *held)] == ["P", "P", "P"]
    sent_items = gateway.subscriptions[row(engine, "rec_assinatura", id=100)["id_api"]]["items"]
    assert [item["description"] for item in sent_items] == ["Musculação", "Natação"]
    assert rows(engine, "util_eventos_mundipagg", processado="N") == []


async def test_events_run_oldest_first_whatever_the_insert_order(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    gym.member(1, "Elisa Reis")
    created = gym.event("A_N", 100)
    canceled = gym.event("A_C", 100)
    # Written later, but dated before the cancellation: must run before it.
    billing_day = gym.event("A_EDP", 100)
    with engine.begin() as connection:
        first = row(engine, "util_eventos_mundipagg", id_guid=created)["dt_evento"]
        connection.execute(
            update(events)
            .where(events.c.id_guid == billing_day)
            .values(dt_evento=first.replace(microsecond=500_000))
        )

    results = await run_pending(services)

    assert [results[guid].status for guid in (created, billing_day, canceled)] == ["P", "P", "P"]
    order = [
        entry["sigla"] for entry in sorted(rows(engine, "rec_log_sync"), key=lambda e: e["id"])
    ]
    assert order == ["A_N", "A_EDP", "A_C"]


async def test_unknown_code_fails_with_reason_and_holds_nobody(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    gym.member(1, "Fábio Nunes")
    unknown = gym.event("A_XYZ", 100)
    not_a_number = gym.event("A_C", "12ab")
    created = gym.event("A_N", 100)

    results = await run_pending(services)

    assert results[unknown].status == "E"
    assert "sigla desconhecida 'A_XYZ'" in results[unknown].description
    assert results[not_a_number].status == "E"
    assert "id_tabela '12ab'" in results[not_a_number].description
    assert results[created].status == "P"
    assert log_of(engine, unknown)[0]["descricao"].startswith("A_XYZ: sigla desconhecida")


async def test_held_events_never_fill_the_read_window(
    any_database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    """The review's reproduction: with 3 held events and max_events=3, an unrelated customer's
    new subscription stayed N forever while every run ended Completed."""
    gym.customer(1, "Diego Melo")
    gym.subscription(100, 1, None)  # no card: A_N fails
    extra = gym.item(100, "Natação", 1, "45.50")
    failing = gym.event("A_N", 100)
    gym.customer(2, "Eva Ramos")
    gym.event("CLI_E", 2)  # customer chain: fails below, holds the next CLI_E of customer 2
    held = [gym.event("IA_N", extra), gym.event("A_EDP", 100), gym.event("F_AA", 100)]
    held.append(gym.event("CLI_E", 2))
    gym.member(3, "Ivo Lima", card_id=30, subscription_id=300)
    unrelated = gym.event("A_N", 300)
    with engine.begin() as connection:
        connection.execute(
            update(events).where(events.c.sigla == "CLI_E").where(events.c.id_guid != held[-1])
            .values(processado="E")
        )  # fmt: skip
    assert (await run_pending(services, limit=1))[failing].status == "E"

    queue = await read_queue(services.erp, 3)
    results = await run_pending(services, limit=3)

    assert [event.id_guid for event in queue.runnable] == [unrelated]
    assert (sorted(e.id_guid for e in queue.held), queue.held_total) == (sorted(held), 4)
    assert results[unrelated].status == "P"
    assert [results[guid].status for guid in held] == ["N"] * 4
    assert row(engine, "util_eventos_mundipagg", id_guid=unrelated)["processado"] == "P"


async def test_events_with_ids_that_are_not_numbers_are_never_held_in_the_query(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    """Each such event is its own chain (it fails alone): the query must agree, not leave it out."""
    first = gym.event("A_C", "12ab")
    await run_pending(services)
    second = gym.event("A_C", "12ab")
    spaced_out = gym.event("A_C", " 7 ")

    queue = await read_queue(services.erp, 10)

    assert [event.id_guid for event in queue.runnable] == [second, spaced_out]
    assert queue.held_total == 0
    assert row(engine, "util_eventos_mundipagg", id_guid=first)["processado"] == "E"
