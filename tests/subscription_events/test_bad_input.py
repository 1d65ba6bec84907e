"""Bad input gets a clear reason and loses nothing: E with the reason, nothing else touched."""

from __future__ import annotations

import pytest
from events_helpers import log_of, row, rows, run_pending, run_pending_retried
from sqlalchemy import update
from sqlalchemy.engine import Engine

from blocks.gym_erp.schema import events
from sandbox.faults import FaultKind
from sandbox.gym_demo import TEST_CARD_NUMBER, GymErp
from sandbox.mundipagg import MundipaggSandbox
from subscription_events.events import EventCode
from subscription_events.failures import UNKNOWN_OUTCOME
from subscription_events.handlers import HANDLERS, Done, EventRun, Services


async def test_bad_erp_data_fails_each_event_with_its_reason(
    any_database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    gym.customer(1, "Gabi Costa")
    gym.card(10, 1)
    gym.subscription(100, 1, None)
    gym.customer(2, "Sem Documento", cpf_cnpj=None)
    gym.card(20, 2)
    gym.subscription(200, 2, 20)
    gym.subscription(300, 1, 10)
    orphan_item = gym.item(999, "Yoga", 1, "30.00")
    expected = {
        gym.event("A_N", 404): "assinatura 404 não existe",
        gym.event("A_N", 100): "assinatura 100 sem cartão",
        gym.event("IA_N", orphan_item): f"item {orphan_item} aponta para a assinatura 999",
        gym.event("A_N", 200): "cliente 2 sem CPF/CNPJ válido",
        gym.event("CLI_E", 77): "cliente 77 não existe",
        gym.event("A_ECT", 300, codaux_1=10): "assinatura 300 ainda não está no gateway",
    }

    results = await run_pending(services)

    for guid, reason in expected.items():
        assert results[guid].status == "E"
        assert reason in results[guid].description
        assert row(engine, "util_eventos_mundipagg", id_guid=guid)["processado"] == "E"
        (log,) = log_of(engine, guid)
        assert log["tipo"] == "E"
        assert reason in log["descricao"]
    assert gateway.writes.total() == 0
    assert all(card["numero_cartao"] for card in rows(engine, "cad_cliente_cartao"))
    assert all(s["id_api"] is None for s in rows(engine, "rec_assinatura"))


async def test_gateway_refusal_keeps_the_card_and_reports_the_gateway_message(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    gym.customer(1, "Hugo Prado")
    gym.card(10, 1, number="4111111111111112")  # fails the Luhn check
    gym.subscription(100, 1, 10)
    guid = gym.event("A_N", 100)

    result = (await run_pending(services))[guid]

    assert result.status == "E"
    assert "gateway recusou" in result.description
    assert "HTTP 400" in result.description
    assert "card.number" in result.description
    assert "4111111111111112" not in result.description
    assert row(engine, "cad_cliente_cartao", id=10)["numero_cartao"] is not None
    assert gateway.subscriptions == {}


@pytest.mark.prefect
@pytest.mark.parametrize(
    "fault",
    [FaultKind.HTTP_503, FaultKind.HTML_200, FaultKind.TRUNCATED_JSON, FaultKind.RATE_LIMIT],
)
async def test_gateway_storm_fails_first_event_and_holds_the_rest(
    prefect_harness: None,
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
    fault: FaultKind,
) -> None:
    gateway.faults.retry_after = 0.01
    gateway.faults.set_rate(1.0, fault)
    gym.member(1, "Iara Luz")
    gym.member(2, "João Paz", card_id=20, subscription_id=200)
    first = [gym.event("A_N", 100), gym.event("A_N", 200)]
    held = [gym.event("A_EDP", 100), gym.event("A_C", 200)]

    results = await run_pending_retried(services)

    for guid in first:
        assert results[guid].status == "E"
        # The lookup by code (a read) never got through: nothing was sent, nothing is unknown.
        assert "gateway indisponível, tentativas esgotadas" in results[guid].description
        assert UNKNOWN_OUTCOME not in results[guid].description
    assert [results[guid].status for guid in held] == ["N", "N"]
    assert gateway.requests == 2 * 3  # three tries per first event, none for the held ones
    assert gateway.counts["subscription/create"] == 0
    assert len(rows(engine, "rec_log_sync")) == 4

    # The storm passes; the operator sets the failed events back to N; nothing is duplicated.
    gateway.faults.clear()
    with engine.begin() as connection:
        connection.execute(update(events).where(events.c.processado == "E").values(processado="N"))
    results = await run_pending(services)
    assert [results[guid].status for guid in first + held] == ["P"] * 4
    assert len(gateway.subscriptions) == 2
    assert len(gateway.customers) == 2


@pytest.mark.parametrize(
    ("fault", "done_at_the_gateway"),
    [
        (FaultKind.HTTP_503, False),  # 503 before the work: unknown to us all the same
        (FaultKind.TRUNCATED_JSON, True),  # the work was done, its answer lost
        (FaultKind.CONNECTION_RESET, False),
    ],
)
async def test_a_write_without_a_confirmed_answer_ends_e_as_unknown(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
    fault: FaultKind,
    done_at_the_gateway: bool,
) -> None:
    gateway.faults.add(fault, match=r"^POST /core/v5/subscriptions", times=None)
    gym.member(1, "Iara Luz")
    created = gym.event("A_N", 100)

    result = (await run_pending(services))[created]

    assert result.status == "E"
    assert result.description.startswith(f"A_N: {UNKNOWN_OUTCOME}")
    assert len(gateway.subscriptions) == (1 if done_at_the_gateway else 0)
    # One try (the flow's retries are Prefect's: test_event_retries.py).
    assert gateway.counts["subscription/create"] == (1 if done_at_the_gateway else 0)
    assert gateway.writes["subscription/create"] == (1 if done_at_the_gateway else 0)


async def test_a_write_refused_with_429_every_time_is_known_undone(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    gateway.faults.add(
        FaultKind.RATE_LIMIT, match=r"^POST /core/v5/subscriptions", times=None, retry_after=0.01
    )
    gym.member(1, "Iara Luz")
    created = gym.event("A_N", 100)

    result = (await run_pending(services))[created]

    assert result.status == "E"
    assert "gateway indisponível, tentativas esgotadas" in result.description
    assert UNKNOWN_OUTCOME not in result.description
    assert gateway.subscriptions == {}


@pytest.mark.prefect
async def test_transient_errors_are_retried_until_the_gateway_answers(
    prefect_harness: None,
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    gateway.faults.add(FaultKind.HTTP_503, match=r"^POST /core/v5/subscriptions", times=1)
    gateway.faults.add(
        FaultKind.RATE_LIMIT, match=r"^POST /core/v5/subscriptions", times=1, retry_after=0.01
    )
    gym.member(1, "Karen Alves")
    guid = gym.event("A_N", 100)

    assert (await run_pending_retried(services))[guid].status == "P"
    assert gateway.counts["subscription/create"] == 1  # faults answer before the route
    assert gateway.requests == 3 * 2  # three tries, each the lookup by code then the creation
    assert len(gateway.subscriptions) == 1


async def test_card_registered_before_a_failure_is_kept_and_wiped(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    gym.member(1, "Lucas Vaz")
    gym.event("A_N", 100)
    await run_pending(services)
    gym.card(11, 1, number="5555555555554444")
    gym.subscription(101, 1, 11)
    failing = gym.event("A_N", 101)
    # The card registration goes through; the subscription then meets a gateway outage.
    gateway.faults.add(FaultKind.HTTP_503, match=r"^POST /core/v5/subscriptions", times=None)

    result = (await run_pending(services))[failing]

    assert result.status == "E"
    assert UNKNOWN_OUTCOME in result.description
    card = row(engine, "cad_cliente_cartao", id=11)
    assert card["id_api"] in gateway.cards
    assert (card["numero_cartao"], card["cvc"], card["ultimos_digitos"]) == (None, None, "4444")
    assert len(gateway.subscriptions) == 1


async def test_card_data_the_gateway_cannot_take_fails_without_showing_it(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    gym.customer(1, "Marta Gil")
    gym.card(10, 1, expiry=(13, 2031))
    gym.subscription(100, 1, 10)
    guid = gym.event("A_N", 100)

    result = (await run_pending(services))[guid]

    assert result.status == "E"
    assert "dados inválidos para o gateway: exp_month" in result.description
    assert TEST_CARD_NUMBER not in result.description
    assert gateway.requests == 0


async def test_a_bug_in_a_handler_fails_the_event_not_the_queue(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(run: EventRun) -> Done:
        raise KeyError("4111111111111111")

    monkeypatch.setitem(HANDLERS, EventCode.CUSTOMER_EDITED, broken)
    gym.member(1, "Nuno Reis")
    failing, after = gym.event("CLI_E", 1), gym.event("A_N", 100)

    results = await run_pending(services)

    assert results[failing].status == "E"
    assert "erro inesperado: KeyError em test_bad_input.py:" in results[failing].description
    assert "4111" not in results[failing].description
    assert results[after].status == "P"


async def test_invoices_canceled_before_a_failure_are_recorded_as_canceled(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    gym.member(1, "Vera Lins")
    gym.event("A_N", 100)
    await run_pending(services)
    subscription_id = row(engine, "rec_assinatura", id=100)["id_api"]
    gateway.add_invoices(subscription_id, 2, status="pending")
    gym.event("F_AA", 100)
    await run_pending(services)
    imported = sorted(rows(engine, "rec_fatura", id_assinatura=100), key=lambda r: r["id"])
    pending = [i for i in imported if i["status"] == "pending"]
    assert len(pending) >= 2
    last = pending[-1]["id_api"]
    gateway.faults.add(FaultKind.HTTP_503, match=f"DELETE [^\\n]*invoices/{last}", times=None)

    canceling = gym.event("F_C", 100)
    results = await run_pending(services)

    assert results[canceling].status == "E"
    assert f"a fatura {pending[-1]['id']}: {UNKNOWN_OUTCOME}" in results[canceling].description
    for invoice in pending[:-1]:
        assert gateway.invoices[invoice["id_api"]]["status"] == "canceled"
        assert row(engine, "rec_fatura", id=invoice["id"])["status"] == "canceled"
    assert row(engine, "rec_fatura", id=pending[-1]["id"])["status"] == "pending"
