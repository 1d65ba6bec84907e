"""Events written in the same instant (issue 16, item 12).

SQL Server's `datetime` ticks every 3.33 ms and the ERP writes the events of one action together,
so they tie on `dt_evento`; their `id_guid` is a random newid(). Whatever order the guids fall
in, a subscription is created before its items, an item added before it is changed or removed,
and the cancellation goes last - in the read window and in the plan alike.
"""

from __future__ import annotations

import itertools

import pytest
from events_helpers import row, rows, run_pending
from sqlalchemy import update
from sqlalchemy.engine import Engine

from blocks.gym_erp.schema import events, subscription_items
from sandbox.gym_demo import GymErp
from sandbox.mundipagg import MundipaggSandbox
from subscription_events.handlers import Services
from subscription_events.lanes import read_queue


def _tied(engine: Engine, written: list[tuple[str, str]], guid_order: tuple[int, ...]) -> None:
    """Give the `written` events (code, guid) one instant, and guids that sort them in
    `guid_order` (positions in `written`), as random newid()s may."""
    instant = row(engine, "util_eventos_mundipagg", id_guid=written[0][1])["dt_evento"]
    with engine.begin() as connection:
        for rank, position in enumerate(guid_order):
            _, guid = written[position]
            connection.execute(
                update(events)
                .where(events.c.id_guid == guid)
                .values(id_guid=f"{rank:02d}-{guid}", dt_evento=instant)
            )


def _guid(engine: Engine, sigla: str) -> str:
    (found,) = [e["id_guid"] for e in rows(engine, "util_eventos_mundipagg") if e["sigla"] == sigla]
    return str(found)


@pytest.mark.parametrize("guid_order", list(itertools.permutations(range(4))))
async def test_a_subscription_and_its_item_written_together_end_right_in_any_guid_order(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
    guid_order: tuple[int, ...],
) -> None:
    """A_N, then an item added, changed and removed, all in one instant: the item must end
    removed at the gateway (never billed while the ERP has it inactive), every event P."""
    gym.member(1, "Lia Torres")
    natacao = gym.item(100, "Natação", 1, "45.50")
    written = [(sigla, gym.event(sigla, target)) for sigla, target in
               [("A_N", 100), ("IA_N", natacao), ("IA_E", natacao), ("IA_R", natacao)]]  # fmt: skip
    _tied(engine, written, guid_order)

    queue = await read_queue(services.erp, 10)
    results = await run_pending(services)

    assert [event.sigla for event in queue.runnable] == ["A_N", "IA_N", "IA_E", "IA_R"]
    assert {result.sigla: result.status for result in results.values()} == dict.fromkeys(
        ["A_N", "IA_N", "IA_E", "IA_R"], "P"
    ), [r.description for r in results.values()]
    (subscription,) = gateway.subscriptions.values()
    assert [(i["description"], i["status"]) for i in subscription["items"]] == [
        ("Musculação", "active"),
        ("Natação", "deleted"),
    ]
    assert row(engine, "rec_assinatura_item", id=natacao)["status"] == "I"


@pytest.mark.parametrize("guid_order", [(0, 1), (1, 0)])
async def test_an_item_added_and_removed_together_is_never_left_billed(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
    guid_order: tuple[int, ...],
) -> None:
    gym.member(1, "Lia Torres")
    gym.event("A_N", 100)
    await run_pending(services)
    natacao = gym.item(100, "Natação", 1, "45.50")
    written = [("IA_N", gym.event("IA_N", natacao)), ("IA_R", gym.event("IA_R", natacao))]
    _tied(engine, written, guid_order)

    results = await run_pending(services)

    assert [result.status for result in results.values()] == ["P", "P"]
    live = [i for i in next(iter(gateway.subscriptions.values()))["items"]]
    assert [(i["description"], i["status"]) for i in live] == [
        ("Musculação", "active"),
        ("Natação", "deleted"),
    ]
    assert row(engine, "rec_assinatura_item", id=natacao)["status"] == "I"


@pytest.mark.parametrize("guid_order", [(0, 1), (1, 0)])
async def test_a_failed_creation_holds_the_item_written_with_it_in_any_guid_order(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
    guid_order: tuple[int, ...],
) -> None:
    """The A_N fails (no card): the item added with it waits behind it, on this run and the
    next ones, instead of failing itself and holding the A_N back once the A_N is fixed."""
    gym.customer(1, "Lia Torres")
    gym.card(10, 1)
    gym.subscription(100, 1, None)
    natacao = gym.item(100, "Natação", 1, "45.50")
    written = [("A_N", gym.event("A_N", 100)), ("IA_N", gym.event("IA_N", natacao))]
    _tied(engine, written, guid_order)
    created, added = _guid(engine, "A_N"), _guid(engine, "IA_N")

    results = await run_pending(services)
    assert (results[created].status, results[added].status) == ("E", "N")
    assert (await run_pending(services))[added].status == "N"  # the next minute: still waiting
    assert row(engine, "util_eventos_mundipagg", id_guid=added)["processado"] == "N"
    with engine.begin() as connection:
        connection.execute(update(events.metadata.tables["rec_assinatura"]).values(id_cartao=10))
        connection.execute(update(events).where(events.c.id_guid == created).values(processado="N"))
    results = await run_pending(services)

    assert (results[created].status, results[added].status) == ("P", "P")
    (subscription,) = gateway.subscriptions.values()
    assert [i["description"] for i in subscription["items"]] == ["Musculação", "Natação"]


async def test_an_item_added_after_its_removal_ran_is_not_sent(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    """An IA_N re-checks the item as IA_E does: inactive in the ERP, nothing is added."""
    gym.member(1, "Lia Torres")
    gym.event("A_N", 100)
    await run_pending(services)
    natacao = gym.item(100, "Natação", 1, "45.50")
    with engine.begin() as connection:
        connection.execute(
            update(subscription_items).where(subscription_items.c.id == natacao).values(status="I")
        )
    added = gym.event("IA_N", natacao)

    result = (await run_pending(services))[added]

    assert result.status == "P"
    assert "inativo no ERP (status I); nada enviado" in result.description
    assert gateway.counts["item/add"] == 0


async def test_every_database_reads_one_instant_in_dependency_order(
    any_database_url: str, engine: Engine, gym: GymErp, services: Services
) -> None:
    gym.member(1, "Lia Torres")
    natacao = gym.item(100, "Natação", 1, "45.50")
    written = [(sigla, gym.event(sigla, target)) for sigla, target in
               [("A_N", 100), ("IA_N", natacao), ("IA_E", natacao), ("IA_R", natacao),
                ("A_C", 100)]]  # fmt: skip
    _tied(engine, written, (4, 3, 2, 1, 0))

    queue = await read_queue(services.erp, 10)
    window = await read_queue(services.erp, 2)

    assert [event.sigla for event in queue.runnable] == ["A_N", "IA_N", "IA_E", "IA_R", "A_C"]
    assert [event.sigla for event in window.runnable] == ["A_N", "IA_N"]
