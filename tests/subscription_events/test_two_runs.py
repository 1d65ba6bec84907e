"""Two runs at once over the same queue (issue 16, item 13).

The `every-minute` and `every-minute-served` deployments (or a run started by hand) each have
their own concurrency limit, so two runs can read the same pending events. Each event is claimed
by one run (`N` -> `W`, a conditional UPDATE only one run wins) before any gateway call; later
events of its chain wait for the run that has it; a claim left by a crashed run is taken back
after `STALE_CLAIM`.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from events_helpers import log_of, row, rows, run_pending
from pydantic import SecretStr
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from blocks.gym_erp.block import GymErpDatabase
from blocks.gym_erp.cards import FernetCardCipher, FernetCardKey
from blocks.gym_erp.database import ClaimLost, ErpDatabase
from blocks.gym_erp.rows import CLAIMED, EventRow, LogEntry
from blocks.gym_erp.schema import create_schema
from blocks.mundipagg.block import Mundipagg
from blocks.mundipagg.client import MundipaggClient
from clock import Clock, ManualTime
from sandbox.gym_demo import GymErp
from sandbox.mundipagg import BASE_PATH, MundipaggSandbox
from sandbox.server import serve
from subscription_events.handlers import Services
from subscription_events.lanes import STALE_CLAIM
from subscription_events.texts import reason


def _queue_a_busy_minute(gym: GymErp, customers: int) -> None:
    """Per customer: a new subscription, its item changed, the billing day, an invoice import."""
    for number in range(1, customers + 1):
        gym.customer(number, f"Aluno {number}")
        gym.card(number, number)
        (item,) = gym.subscription(number, number, number)
        for sigla, target in [("A_N", number), ("IA_E", item), ("A_EDP", number),
                              ("F_AA", number)]:  # fmt: skip
            gym.event(sigla, target)


@pytest.fixture
async def second_run(
    engine: Engine, gateway: MundipaggSandbox, cipher: FernetCardCipher
) -> AsyncIterator[Services]:
    """Another run's services: its own database pool and gateway client, the same systems."""
    client = MundipaggClient(
        f"http://mundipagg.test{BASE_PATH}",
        gateway.secret_key,
        transport=httpx.ASGITransport(app=gateway.app),
    )
    erp = ErpDatabase(create_engine(engine.url), clock=Clock())
    async with client:
        yield Services(erp, client, cipher, Clock())
    erp.dispose()


def _assert_each_event_processed_once(
    engine: Engine, gateway: MundipaggSandbox, customers: int
) -> None:
    logged = Counter(entry["id_evento"] for entry in rows(engine, "rec_log_sync"))
    queued = rows(engine, "util_eventos_mundipagg")
    assert {event["processado"] for event in queued} == {"P"}
    assert logged == Counter({event["id_guid"]: 1 for event in queued})
    assert gateway.writes["subscription/create"] == customers
    assert gateway.writes["item/update"] == customers
    assert gateway.writes["subscription/billing-date"] == customers
    assert gateway.replays == 0  # no event's write was ever sent twice


async def test_two_runs_at_once_process_each_event_once(
    any_database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
    second_run: Services,
) -> None:
    gateway.latency = 0.005  # the runs overlap for real
    _queue_a_busy_minute(gym, customers=6)

    first, second = await asyncio.gather(run_pending(services), run_pending(second_run))

    _assert_each_event_processed_once(engine, gateway, customers=6)
    done_by = Counter(
        guid for results in (first, second) for guid, r in results.items() if r.status == "P"
    )
    assert set(done_by.values()) == {1}
    assert len(done_by) == 24


async def test_only_one_of_two_claims_of_an_event_wins(
    any_database_url: str,
    engine: Engine,
    gym: GymErp,
    services: Services,
    second_run: Services,
) -> None:
    gym.member(1, "Lia Torres")
    guids = [gym.event("CLI_E", 1) for _ in range(20)]
    queued = [EventRow(**e) for e in _event_rows(engine)]

    won = await asyncio.gather(
        *(erp.claim_event(event) for event in queued for erp in (services.erp, second_run.erp))
    )

    assert sum(claim is not None for claim in won) == len(guids)
    assert all((won[2 * n] is None) != (won[2 * n + 1] is None) for n in range(len(guids)))
    assert {event["processado"] for event in _event_rows(engine)} == {CLAIMED}


def _event_rows(engine: Engine) -> list[dict[str, object]]:
    return [
        {k: e[k] for k in EventRow.__dataclass_fields__}
        for e in rows(engine, "util_eventos_mundipagg")
    ]


async def test_later_events_wait_while_another_run_has_their_chain(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
    second_run: Services,
) -> None:
    gym.member(1, "Lia Torres")
    created, billing_day = gym.event("A_N", 100), gym.event("A_EDP", 100)
    (in_flight, _) = [EventRow(**e) for e in _event_rows(engine)]
    claimed_at = await second_run.erp.claim_event(in_flight)  # the other run is on the A_N
    assert claimed_at is not None

    results = await run_pending(services)

    assert results[billing_day].status == "N"
    assert results[billing_day].other_run_has == f"A_N {in_flight.id_guid}"
    assert reason("en", results[billing_day]) == (
        f"A_EDP: waiting for another run, which is processing A_N {in_flight.id_guid}"
    )
    assert created not in results
    assert log_of(engine, billing_day) == []  # the run that has the chain logs, not this one
    assert gateway.writes == Counter()
    assert row(engine, "util_eventos_mundipagg", id_guid=billing_day)["processado"] == "N"


async def test_a_claim_left_by_a_crashed_run_is_taken_back_after_a_while(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
    second_run: Services,
    frozen_clock: ManualTime,
) -> None:
    gym.member(1, "Lia Torres")
    created = gym.event("A_N", 100)
    (event,) = [EventRow(**e) for e in _event_rows(engine)]
    assert await second_run.erp.claim_event(event) is not None  # ...and that run dies

    assert created not in await run_pending(services)
    frozen_clock.advance(seconds=STALE_CLAIM.total_seconds() - 60)
    assert created not in await run_pending(services)
    frozen_clock.advance(seconds=120)
    results = await run_pending(services)

    assert results[created].status == "P", results[created].description
    assert [entry["tipo"] for entry in log_of(engine, created)] == ["P"]
    assert gateway.writes["subscription/create"] == 1


async def test_a_run_whose_claim_was_taken_back_stores_nothing(
    any_database_url: str,
    engine: Engine,
    gym: GymErp,
    services: Services,
    second_run: Services,
    frozen_clock: ManualTime,
) -> None:
    """A run slower than `STALE_CLAIM` on one event: another run took the event back and
    finished it; the slow run's outcome is refused, so there is one log row."""
    gym.member(1, "Lia Torres")
    created = gym.event("CLI_E", 1)
    (event,) = [EventRow(**e) for e in _event_rows(engine)]
    slow = await services.erp.claim_event(event)
    assert slow is not None
    frozen_clock.advance(seconds=STALE_CLAIM.total_seconds() + 1)
    assert await second_run.erp.take_back_stale_claims(STALE_CLAIM) == 1
    fresh = await second_run.erp.claim_event(event)
    assert fresh is not None
    await second_run.erp.finish_event(
        event, "P", LogEntry("P", "CLI_E: ok", "Lia"), claimed_at=fresh
    )

    with pytest.raises(ClaimLost):
        await services.erp.finish_event(
            event, "E", LogEntry("E", "CLI_E: tarde", "Lia"), claimed_at=slow
        )

    assert [entry["tipo"] for entry in log_of(engine, created)] == ["P"]
    assert row(engine, "util_eventos_mundipagg", id_guid=created)["processado"] == "P"


@pytest.mark.prefect
async def test_two_flow_runs_at_once_process_each_event_once(
    prefect_harness: None, tmp_path: Path
) -> None:
    from flows.subscription_events import subscription_events

    key = Fernet.generate_key().decode()
    url = f"sqlite:///{tmp_path / 'gym.db'}"
    engine = create_engine(url)
    create_schema(engine)
    _queue_a_busy_minute(GymErp(engine, FernetCardKey(key=SecretStr(key)).cipher()), customers=6)
    gateway = MundipaggSandbox(latency=0.01)

    with serve(gateway.app) as sandbox_url:
        await GymErpDatabase(url=SecretStr(url)).save("events-twice", overwrite=True)
        await FernetCardKey(key=SecretStr(key)).save("events-twice", overwrite=True)
        await Mundipagg(
            base_url=sandbox_url + BASE_PATH,
            secret_key=SecretStr(gateway.secret_key),
            retry_base_seconds=0.01,
        ).save("events-twice", overwrite=True)
        blocks = dict.fromkeys(
            ["erp_block", "mundipagg_block", "card_key_block", "discord_block"], "events-twice"
        )
        reports = await asyncio.gather(subscription_events(**blocks), subscription_events(**blocks))

    _assert_each_event_processed_once(engine, gateway, customers=6)
    processed = Counter(r.id_guid for report in reports for r in report.results if r.status == "P")
    assert len(processed) == 24 and set(processed.values()) == {1}
    engine.dispose()
