"""SQL Server, the gym's production database, without a SQL Server: every statement the flow runs
is compiled with SQLAlchemy's mssql dialect, and the tables' DDL is checked against the seed.

No SQL Server is available on the dev or CI machines (see the README); what differs from the
tested databases is checked here: `TOP` instead of `LIMIT`, no `OUTPUT` (SQL Server refuses it
on tables with triggers), no locking hints, `newid()` as the default of `id_guid`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from events_helpers import row, run_pending
from sqlalchemy import Select, create_mock_engine, event, update
from sqlalchemy.dialects import mssql
from sqlalchemy.engine import Engine
from sqlalchemy.sql import ClauseElement

from blocks.gym_erp.schema import metadata, subscription_items, subscriptions
from sandbox.gym_demo import GymErp
from sandbox.mundipagg import MundipaggSandbox
from subscription_events.handlers import Services

# The seed's script for the one table it gives one for (ERP integration document).
SEED_EVENTS_SCRIPT = """
CREATE TABLE [dbo].[util_eventos_mundipagg](
[dt_evento] [datetime] NOT NULL,
[processado] [char](1) NOT NULL,
[sigla] [varchar](8) NOT NULL,
[id_tabela] [varchar](30) NOT NULL,
[codaux_1] [varchar](30) NULL,
[codaux_2] [varchar](30) NULL,
[id_guid] [varchar](60) NOT NULL
) ON [PRIMARY]
GO
ALTER TABLE [dbo].[util_eventos_mundipagg] ADD DEFAULT (newid()) FOR [id_guid]
"""
LOCKING_HINTS = re.compile(r"\b(NOLOCK|READPAST|UPDLOCK|HOLDLOCK|ROWLOCK|TABLOCK)\b|WITH \(")


def sql_server() -> mssql.dialect:
    """The dialect as it is on a SQL Server 2019 connection (DATE exists since 2008)."""
    dialect = mssql.dialect()
    dialect.server_version_info = (15, 0, 2000)
    dialect._setup_version_attributes()
    return dialect


def compiled(statement: ClauseElement) -> str:
    return str(statement.compile(dialect=sql_server()))


@contextmanager
def captured(engine: Engine, into: list[ClauseElement]) -> Iterator[None]:
    """Every Core statement run on `engine` inside the block, appended to `into`."""

    def record(connection: Any, statement: Any, *args: Any) -> None:
        if isinstance(statement, ClauseElement):
            into.append(statement)

    event.listen(engine, "before_execute", record)
    try:
        yield
    finally:
        event.remove(engine, "before_execute", record)


async def test_every_statement_of_every_event_code_compiles_for_sql_server(
    database_url: str,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    gym.customer(1, "Bruno Lima")
    gym.card(10, 1)
    musculacao, pilates = gym.subscription(
        100, 1, 10, [("Musculação", 1, "89.90"), ("Pilates", 1, "60.00")]
    )
    gym.customer(2, "Sem Cartão")
    gym.subscription(200, 2, None)
    seen: list[ClauseElement] = []  # only what the flow runs, not the ERP rows set up here
    gym.event("A_N", 100)
    gym.event("A_N", 200)  # fails: no card
    gym.event("A_EDP", 200)  # held behind it
    with captured(engine, seen):
        await run_pending(services)
    natacao = gym.item(100, "Natação", 2, "45.50")
    with engine.begin() as connection:
        connection.execute(
            update(subscription_items).where(subscription_items.c.id == musculacao).values(quant=2)
        )
        connection.execute(update(subscriptions).values(id_cartao=11, dia_cobranca=25))
    gym.card(11, 1, number="5555555555554444")
    second = [("CLI_E", 1), ("IA_N", natacao), ("IA_E", musculacao), ("IA_R", pilates),
              ("A_ECT", 100), ("A_EDP", 100), ("F_AA", 100), ("F_AA", 100)]  # fmt: skip
    for sigla, target in second:
        gym.event(sigla, target, codaux_1=11 if sigla == "A_ECT" else None)
    with captured(engine, seen):
        await run_pending(services)
    # The second F_AA updated the invoice the first one inserted.
    gym.event("F_C", 100, codaux_1=row(engine, "rec_fatura", id_assinatura=100)["id"])
    gym.event("A_C", 100)
    with captured(engine, seen):
        await run_pending(services)

    texts = [compiled(statement) for statement in seen]
    assert len(texts) > 50
    assert any("NOT (EXISTS" in text and "SELECT TOP" in text for text in texts)  # the window
    # The claim: a plain conditional UPDATE whose row count tells which run won.
    assert any(
        text.startswith("UPDATE util_eventos_mundipagg SET processado=")
        and "util_eventos_mundipagg.processado = " in text
        for text in texts
    )
    for statement, text in zip(seen, texts, strict=True):
        assert " LIMIT " not in text and "OFFSET" not in text, text
        assert "OUTPUT" not in text and "RETURNING" not in text, text
        assert LOCKING_HINTS.search(text) is None, text
        if isinstance(statement, Select) and statement._limit_clause is not None:
            assert text.startswith("SELECT TOP"), text
    assert row(engine, "rec_assinatura", id=100)["status"] == "C"


def _ddl(dialect_url: str, version: tuple[int, ...] | None = None) -> list[str]:
    sent: list[str] = []
    engine = create_mock_engine(
        dialect_url, lambda sql, *a, **k: sent.append(str(sql.compile(dialect=engine.dialect)))
    )
    if version is not None:
        engine.dialect.server_version_info = version
        engine.dialect._setup_version_attributes()
    metadata.create_all(engine, checkfirst=False)
    return [text.strip() for text in sent]


def _columns(create_table: str) -> list[tuple[str, str, str]]:
    """(name, type, nullability) of each column line of a CREATE TABLE, brackets dropped."""
    found = []
    for line in create_table.splitlines():
        match = re.match(r"\s*\[?(\w+)\]?\s+\[?(\w+)\]?(\(\d+\))?\s+(NOT NULL|NULL)", line)
        if match:
            name, kind, size, nullability = match.groups()
            found.append((name, kind.upper() + (size or ""), nullability))
    return found


def test_the_event_table_on_sql_server_is_the_seed_script() -> None:
    ddl = _ddl("mssql+pymssql://", (15, 0, 2000))
    (create_events,) = [d for d in ddl if d.startswith("CREATE TABLE util_eventos_mundipagg")]

    ours = _columns(create_events)
    seed = _columns(SEED_EVENTS_SCRIPT)
    assert ours[: len(seed)] == seed
    assert ours[len(seed) :] == [("dt_processado", "DATETIME", "NULL")]  # billing-sync's own
    assert "PRIMARY KEY NONCLUSTERED (id_guid)" in create_events
    assert "ALTER TABLE util_eventos_mundipagg ADD DEFAULT (newid()) FOR [id_guid]" in ddl
    assert not any("TRIGGER" in d for d in ddl)  # the old synchronizer's xp_cmdshell trigger


def test_currency_columns_are_money_on_sql_server_and_exact_elsewhere() -> None:
    money = {
        ("rec_assinatura", "valor_minimo"),
        ("rec_fatura", "valor"),
        ("rec_fatura", "total_descontos"),
        ("rec_fatura", "total_acrescimos"),
        ("rec_log_sync", "valor"),
    }
    for url, expected in [("mssql+pymssql://", "MONEY"), ("postgresql+psycopg://", "NUMERIC(19")]:
        ddl = "\n".join(_ddl(url, (15, 0, 2000) if url.startswith("mssql") else None))
        for table, column in money:
            table_ddl = ddl.split(f"CREATE TABLE {table} (")[1].split(")\n\n")[0]
            assert re.search(rf"\b{column} {re.escape(expected)}", table_ddl), (table, column)
    assert Decimal("189.9000") == Decimal("189.90")  # money's 4 places read back as the same value


@pytest.mark.parametrize("url", ["sqlite://", "postgresql+psycopg://", "mysql+pymysql://"])
def test_the_sql_server_defaults_stay_on_sql_server(url: str) -> None:
    ddl = "\n".join(_ddl(url))
    assert "newid" not in ddl
    assert "MONEY" not in ddl
    assert "NONCLUSTERED" not in ddl
