"""An ERP row the database will not take ends that event E with a reason that fits the column,
and the queue moves on (it used to leave the event N, retried and refused every minute)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from events_helpers import log_of, row, run_pending
from sqlalchemy import Column, MetaData, Table, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError, IntegrityError

from blocks.gym_erp.database import LOG_TEXT_LIMIT, _fit, refusal
from blocks.gym_erp.schema import cards, customers, events
from sandbox.gym_demo import GymErp
from sandbox.mundipagg import MundipaggSandbox
from subscription_events.failures import UNKNOWN_OUTCOME
from subscription_events.handlers import Services

# The seed's cad_cliente_cartao: the encrypted columns are NOT NULL there, so the wipe after the
# gateway registered a card is refused (the README asks the ERP to make them NULL-able).
SEED_NOT_NULL = {"numero_cartao", "nome_cartao", "cpf", "cvc"}


@pytest.fixture
def seed_card_table(engine: Engine) -> Iterator[None]:
    """cad_cliente_cartao as the seed defines it, for one test; the project's one after."""
    seed = Table(
        cards.name,
        MetaData(),
        *(
            Column(c.name, c.type, primary_key=c.primary_key, nullable=c.name not in SEED_NOT_NULL)
            for c in cards.columns
        ),
    )
    cards.drop(engine)
    seed.create(engine)
    yield
    seed.drop(engine)
    cards.create(engine)


async def test_a_row_the_erp_refuses_ends_the_event_e_and_the_queue_moves_on(
    any_database_url: str,
    engine: Engine,
    seed_card_table: None,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    gym.member(1, "Ana Souza")
    refused = gym.event("A_N", 100)
    gym.customer(2, "Bruno Lima")
    after = gym.event("CLI_E", 2)

    statuses: dict[str, str] = {}
    for attempt in range(2):  # the refusal persists: reprocessing ends the same way
        results = await run_pending(services)
        statuses |= {guid: result.status for guid, result in results.items()}

        assert results[refused].status == "E"
        (log,) = log_of(engine, refused)[attempt:]
        assert log["tipo"] == "E"
        assert "o banco do ERP recusou gravar o resultado" in log["descricao"]
        assert "numero_cartao" in log["descricao"]
        # First the subscription was created (its answer unsaved), then found by its code.
        assert (UNKNOWN_OUTCOME in log["descricao"]) is (attempt == 0)
        assert next(iter(gateway.subscriptions)) in log["descricao"]
        assert len(log["descricao"].encode()) <= LOG_TEXT_LIMIT
        assert row(engine, "util_eventos_mundipagg", id_guid=refused)["processado"] == "E"
        with engine.begin() as connection:
            connection.execute(
                update(events).where(events.c.id_guid == refused).values(processado="N")
            )

    assert statuses[after] == "P"
    # Found again by its code on the second pass: one subscription at the gateway.
    assert len(gateway.subscriptions) == 1
    assert row(engine, "rec_assinatura", id=100)["id_api"] is None
    assert row(engine, "cad_cliente_cartao", id=10)["numero_cartao"] is not None


async def test_a_card_registration_the_erp_refuses_ends_the_event_e(
    any_database_url: str,
    engine: Engine,
    seed_card_table: None,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    """A known customer's new card is registered and committed before the subscription."""
    gym.member(1, "Ana Souza")
    gateway.customers["cus_known"] = {"id": "cus_known", "name": "Ana Souza"}
    with engine.begin() as connection:
        connection.execute(update(customers).values(id_api="cus_known"))
    refused = gym.event("A_N", 100)
    gym.customer(2, "Bruno Lima")
    after = gym.event("CLI_E", 2)

    results = await run_pending(services)

    assert (results[refused].status, results[after].status) == ("E", "P")
    assert "o banco do ERP recusou gravar o resultado" in results[refused].description
    assert UNKNOWN_OUTCOME in results[refused].description
    assert len(gateway.cards) == 1
    assert gateway.subscriptions == {}


class _DriverError(Exception):
    pass


@pytest.mark.parametrize(
    ("message", "named"),
    [
        (
            "NOT NULL constraint failed: cad_cliente_cartao.numero_cartao",
            "cad_cliente_cartao.numero_cartao",
        ),
        ("(1048, \"Column 'numero_cartao' cannot be null\")", "numero_cartao"),
        ("(1406, \"Data too long for column 'descricao' at row 1\")", "descricao"),
        (
            "String or binary data would be truncated in table 'gym.dbo.rec_log_sync', column "
            "'descricao'. Truncated value: '4111111111111111 Ana Souza'.",
            "gym.dbo.rec_log_sync.descricao",
        ),
        (
            'null value in column "cvc" of relation "cad_cliente_cartao" violates not-null '
            "constraint\nDETAIL:  Failing row contains (10, 1, 4111111111111111, 737).",
            "cad_cliente_cartao.cvc",
        ),
        ("value too long for type character varying(255)", "character varying(255)"),
        ("4111111111111111 737 something else entirely", None),
    ],
)  # fmt: skip
@pytest.mark.parametrize("kind", [IntegrityError, DataError])
def test_the_reason_names_the_column_never_the_values(
    message: str, named: str | None, kind: type[IntegrityError]
) -> None:
    reason = refusal(kind("INSERT ...", {"cvc": "737"}, _DriverError(message)))

    assert reason.startswith("_DriverError")
    if named:
        assert reason.endswith(named)
    for value in ("4111", "737", "Ana"):
        assert value not in reason


def test_a_long_portuguese_reason_fits_a_varchar_255_counted_in_bytes() -> None:
    reason = "A_N: " + "não há cartão válido; " * 40
    fitted = _fit(reason, LOG_TEXT_LIMIT)
    assert len(fitted.encode()) <= LOG_TEXT_LIMIT
    assert fitted.endswith("…")
    assert reason.startswith(fitted[:-1])
