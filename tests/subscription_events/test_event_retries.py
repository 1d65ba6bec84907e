"""Retries are Prefect's: each customer's events are one `process-customer-events` task run,
retried on an event's transient gateway error (AwaitingRetry, then Retrying, in its state
history) from that event on, every try with the event's same idempotency keys. A fault that
outlasts the event's tries ends it E with the reason; nothing is created twice; a later event of
the customer waits for the retried one."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from cryptography.fernet import Fernet
from events_helpers import log_of, row, rows
from prefect.client.schemas.objects import State, TaskRun
from prefect_runs import finished_task_runs, state_history
from pydantic import SecretStr
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from blocks.gym_erp.block import GymErpDatabase
from blocks.gym_erp.cards import FernetCardKey
from blocks.gym_erp.schema import create_schema
from blocks.mundipagg.block import Mundipagg
from flows.subscription_events import subscription_events
from sandbox.faults import FaultKind
from sandbox.gym_demo import GymErp
from sandbox.mundipagg import BASE_PATH, MundipaggSandbox
from sandbox.server import serve
from subscription_events.failures import UNKNOWN_OUTCOME
from subscription_events.report import EventsRunReport

pytestmark = pytest.mark.prefect

ATTEMPTS = 4  # tries per event (the Mundipagg block's `attempts`)
CREATE = r"^POST /core/v5/subscriptions\n"


@dataclass
class Gym:
    engine: Engine
    erp: GymErp
    url: str
    key: str
    gateway: MundipaggSandbox


@pytest.fixture
def gym(prefect_harness: None, tmp_path: Path) -> Iterator[Gym]:
    key = Fernet.generate_key().decode()
    url = f"sqlite:///{tmp_path / 'gym.db'}"
    engine = create_engine(url)
    create_schema(engine)
    yield Gym(engine, GymErp(engine, FernetCardKey(key=SecretStr(key)).cipher()), url, key,
              MundipaggSandbox())  # fmt: skip
    engine.dispose()


async def run_flow(gym: Gym, name: str) -> tuple[EventsRunReport, UUID]:
    """One flow run over the served sandbox, fast retries; (its report, its flow run id)."""
    with serve(gym.gateway.app) as sandbox_url:
        await GymErpDatabase(url=SecretStr(gym.url)).save(name, overwrite=True)
        await FernetCardKey(key=SecretStr(gym.key)).save(name, overwrite=True)
        await Mundipagg(
            base_url=sandbox_url + BASE_PATH,
            secret_key=SecretStr(gym.gateway.secret_key),
            attempts=ATTEMPTS,
            retry_base_seconds=0.01,
        ).save(name, overwrite=True)
        state = await subscription_events(
            erp_block=name,
            mundipagg_block=name,
            card_key_block=name,
            discord_block=name,  # never saved: a failure's notice is only logged as unsent
            return_state=True,
        )
    assert state.is_completed(), state.message
    return await state.result(), state.state_details.flow_run_id


async def lane_task_run(flow_run_id: UUID, customer: int = 1) -> TaskRun:
    """The customer's finished task run (`eventos-cliente:<cod_cli>`)."""
    (task_run,) = await finished_task_runs(flow_run_id, f"eventos-cliente:{customer}".__eq__)
    return task_run


def names(states: list[State[Any]]) -> list[str]:
    return [state.name for state in states]


async def test_a_fault_for_n_tries_is_n_prefect_retries_and_the_event_ends_processed(
    gym: Gym,
) -> None:
    gym.erp.member(1, "Ana Lima")
    created = gym.erp.event("A_N", 100)
    faults = 2
    gym.gateway.faults.add(FaultKind.HTTP_503, match=CREATE, times=faults)

    report, flow_run_id = await run_flow(gym, "retries-n")

    (result,) = report.results
    assert result.status == "P", result.description
    task_run = await lane_task_run(flow_run_id)
    assert task_run.run_count == faults + 1 and task_run.state.is_completed()
    states = names(await state_history(task_run))
    assert states.count("AwaitingRetry") == faults and states.count("Retrying") == faults
    assert states.index("AwaitingRetry") < states.index("Retrying") < states.index("Completed")
    assert len(gym.gateway.subscriptions) == 1
    assert gym.gateway.writes["subscription/create"] == 1
    assert [entry["tipo"] for entry in log_of(gym.engine, created)] == ["P"]


async def test_a_retried_write_repeats_the_same_idempotency_key_and_adds_nothing_twice(
    gym: Gym,
) -> None:
    (item,) = gym.erp.member(1, "Bia Rocha")
    gym.erp.event("A_N", 100)
    await run_flow(gym, "retries-key-setup")
    extra = gym.erp.item(100, "Pilates", 1, "60.00")
    added = gym.erp.event("IA_N", extra)
    # The gateway adds the item, then the answer is lost: the try fails unconfirmed.
    gym.gateway.faults.add(FaultKind.TRUNCATED_JSON, match=r"^POST [^\n]*/items\n", times=1)

    report, flow_run_id = await run_flow(gym, "retries-key")

    (result,) = report.results
    assert result.status == "P", result.description
    assert (await lane_task_run(flow_run_id)).run_count == 2
    assert gym.gateway.counts["item/add"] == 2  # both tries reached the gateway ...
    assert gym.gateway.writes["item/add"] == 1  # ... which added the item once
    assert gym.gateway.replays == 1  # and answered the second with the first's result
    assert f"{added}:item" in gym.gateway.answers_by_key
    (subscription,) = gym.gateway.subscriptions.values()
    assert len(subscription["items"]) == 2
    assert row(gym.engine, "rec_assinatura_item", id=extra)["id_api"] is not None
    assert row(gym.engine, "rec_assinatura_item", id=item)["id_api"] is not None


async def test_an_answer_lost_after_the_creation_is_found_by_code_on_the_retry(gym: Gym) -> None:
    gym.erp.member(1, "Caio Neri")
    created = gym.erp.event("A_N", 100)
    gym.gateway.faults.add(FaultKind.TRUNCATED_JSON, match=CREATE, times=None)

    report, flow_run_id = await run_flow(gym, "retries-lost")

    (result,) = report.results
    assert result.id_guid == created
    assert result.status == "P", result.description
    assert "encontrada pelo code 100" in result.description
    assert (await lane_task_run(flow_run_id)).run_count == 2
    assert gym.gateway.counts["subscription/create"] == 1
    (subscription_id,) = gym.gateway.subscriptions
    assert row(gym.engine, "rec_assinatura", id=100)["id_api"] == subscription_id


async def test_each_event_of_a_customer_has_its_own_tries(gym: Gym) -> None:
    (item,) = gym.erp.member(1, "Iris Dias")
    created, changed = gym.erp.event("A_N", 100), gym.erp.event("IA_E", item)
    gym.gateway.faults.add(FaultKind.HTTP_503, match=CREATE, times=ATTEMPTS - 1)
    gym.gateway.faults.add(FaultKind.HTTP_503, match=r"^PUT [^\n]*/items/", times=ATTEMPTS - 1)

    report, flow_run_id = await run_flow(gym, "retries-each")

    statuses = {result.id_guid: result.status for result in report.results}
    assert statuses == {created: "P", changed: "P"}
    task_run = await lane_task_run(flow_run_id)
    assert task_run.run_count == 2 * (ATTEMPTS - 1) + 1 and task_run.state.is_completed()
    assert gym.gateway.writes["subscription/create"] == 1
    assert gym.gateway.writes["item/update"] == 1


async def test_a_fault_beyond_the_retries_ends_the_event_failed_with_the_reason(
    gym: Gym,
) -> None:
    gym.erp.member(1, "Davi Prado")
    created = gym.erp.event("A_N", 100)
    held = gym.erp.event("A_EDP", 100)
    gym.gateway.faults.add(FaultKind.HTTP_503, match=CREATE, times=None)

    report, flow_run_id = await run_flow(gym, "retries-beyond")

    statuses = {result.id_guid: result for result in report.results}
    assert statuses[created].status == "E"
    assert statuses[created].description.startswith(f"A_N: {UNKNOWN_OUTCOME}")
    assert "HTTP 503" in statuses[created].description
    assert statuses[held].status == "N"
    task_run = await lane_task_run(flow_run_id)
    # The last try records the event's outcome: the task run ends Completed, its event E.
    assert task_run.run_count == ATTEMPTS and task_run.state.is_completed()
    assert names(await state_history(task_run)).count("AwaitingRetry") == ATTEMPTS - 1
    assert gym.gateway.subscriptions == {}
    assert row(gym.engine, "util_eventos_mundipagg", id_guid=created)["processado"] == "E"
    (log,) = log_of(gym.engine, created)
    assert (log["tipo"], log["cliente"]) == ("E", "Davi Prado")
    assert log["descricao"] == statuses[created].description


async def test_a_write_unconfirmed_in_one_try_stays_unknown_when_later_tries_get_429(
    gym: Gym,
) -> None:
    gym.erp.member(1, "Eva Lins")
    created = gym.erp.event("A_N", 100)
    gym.gateway.faults.add(FaultKind.HTTP_503, match=CREATE, times=1)
    gym.gateway.faults.add(FaultKind.RATE_LIMIT, match=CREATE, times=None, retry_after=0.01)

    report, flow_run_id = await run_flow(gym, "retries-unknown")

    (result,) = report.results
    assert result.id_guid == created
    assert result.status == "E"
    assert result.description.startswith(f"A_N: {UNKNOWN_OUTCOME}")
    assert (await lane_task_run(flow_run_id)).run_count == ATTEMPTS


async def test_a_rate_limited_try_waits_its_retry_after_before_the_retry(
    gym: Gym, caplog: pytest.LogCaptureFixture
) -> None:
    gym.erp.member(1, "Fábio Reis")
    created = gym.erp.event("A_N", 100)
    gym.gateway.faults.add(FaultKind.RATE_LIMIT, match=CREATE, times=1, retry_after=1.5)

    report, flow_run_id = await run_flow(gym, "retries-429")

    assert {result.id_guid: result.status for result in report.results} == {created: "P"}
    states = await state_history(await lane_task_run(flow_run_id))
    first_running = next(state for state in states if state.name == "Running")
    retrying = next(state for state in states if state.name == "Retrying")
    assert (retrying.timestamp - first_running.timestamp).total_seconds() >= 1.5
    # Said once, in the run's language (pt-BR: its Discord block is missing).
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING
                  and r.name == "prefect.task_runs"]  # fmt: skip
    assert warning == (
        f"A_N {created}: tentativa 1 de {ATTEMPTS} falhou no gateway (mundipagg: limite de "
        "requisições (HTTP 429, esperar 1.5 s)); o evento será tentado de novo"
    )


async def test_a_later_event_of_the_customer_waits_for_the_retried_one(gym: Gym) -> None:
    (item,) = gym.erp.member(1, "Gil Souza")
    created = gym.erp.event("A_N", 100)
    changed = gym.erp.event("IA_E", item)
    moved = gym.erp.event("A_EDP", 100)
    gym.gateway.faults.add(FaultKind.HTTP_503, match=CREATE, times=2)

    report, flow_run_id = await run_flow(gym, "retries-order")

    assert [r.status for r in report.results] == ["P"] * 3, [r.description for r in report.results]
    assert (await lane_task_run(flow_run_id)).run_count == 3
    # Logged (and committed) in queue order: the retried creation first.
    logged = [log_of(gym.engine, guid)[0]["id"] for guid in (created, changed, moved)]
    assert logged == sorted(logged)


async def test_invoices_canceled_before_a_transient_fault_are_canceled_once_on_the_retry(
    gym: Gym,
) -> None:
    gym.erp.member(1, "Hana Melo")
    gym.erp.event("A_N", 100)
    await run_flow(gym, "retries-invoices-setup")
    subscription_id = row(gym.engine, "rec_assinatura", id=100)["id_api"]
    last = gym.gateway.add_invoices(subscription_id, 2, status="pending")[-1]
    gym.erp.event("F_AA", 100)
    await run_flow(gym, "retries-invoices-import")
    pending = [i["id_api"] for i in rows(gym.engine, "rec_fatura", status="pending")]
    assert len(pending) >= 2 and last in pending
    canceling = gym.erp.event("F_C", 100)
    gym.gateway.faults.add(FaultKind.HTTP_503, match=f"DELETE [^\\n]*invoices/{last}", times=1)

    report, flow_run_id = await run_flow(gym, "retries-invoices")

    (result,) = report.results
    assert result.id_guid == canceling
    assert result.status == "P", result.description
    assert (await lane_task_run(flow_run_id)).run_count == 2
    assert gym.gateway.writes["invoice/cancel"] == len(pending)  # each invoice once
    for invoice in pending:
        assert gym.gateway.invoices[invoice]["status"] == "canceled"
        assert row(gym.engine, "rec_fatura", id_api=invoice)["status"] == "canceled"
