"""The ERP tables the subscription events touch, as SQLAlchemy Core definitions.

Names and columns follow the ERP's integration document (seed 004); choices beyond it are
documented in the README ("ERP tables"). Relationships ("FK com ...") are logical only: the
legacy data does break them, and the flow must report that instead of relying on constraints.

Create the tables in an empty database (demo, tests):

    python -m blocks.gym_erp.schema sqlite:///gym.db

On SQL Server (the ERP's own database) the definitions follow the seed's script where it gives
one: `util_eventos_mundipagg` with `newid()` as the default of `id_guid` (the seed's
`ALTER TABLE ... ADD DEFAULT (newid()) FOR [id_guid]`) and `datetime` columns, and the
document's `currency` columns as `money`. Tables with an identity never hand it back through
`OUTPUT inserted.id` (SQL Server refuses `OUTPUT` without `INTO` on a table with a trigger, and
the ERP puts triggers on its tables); the flow does not need the new ids.
"""

from __future__ import annotations

import argparse
import uuid
from typing import Any

from sqlalchemy import (
    CHAR,
    DDL,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    create_engine,
    event,
)
from sqlalchemy.dialects import mssql
from sqlalchemy.engine import Engine

from clock import Clock

# The document's `currency`: SQL Server `money` there, the same four decimal places elsewhere.
# Amounts are always read and written as Decimal.
MONEY = Numeric(19, 4, asdecimal=True).with_variant(mssql.MONEY(), "mssql")

metadata = MetaData()

customers = Table(
    "cad_cliente",
    metadata,
    Column("cod_cli", Integer, primary_key=True, autoincrement=False),
    Column("nome", String(255), nullable=False),
    Column("cpf_cnpj", String(14)),
    Column("email", String(255)),
    Column("celular", String(20)),
    Column("id_api", String(100)),
)

cards = Table(
    "cad_cliente_cartao",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("cod_cli", Integer, nullable=False),
    # Encrypted by the ERP; set to NULL once the gateway holds the card.
    Column("numero_cartao", String(250)),
    Column("nome_cartao", String(250)),
    Column("cpf", String(250)),
    Column("cvc", String(250)),
    # What may be kept: brand, last four digits, expiry and the gateway's card id.
    Column("bandeira", String(250)),
    Column("ultimos_digitos", String(4)),
    Column("val_mes", SmallInteger),
    Column("val_ano", SmallInteger),
    Column("status", CHAR(1), nullable=False, default="A"),
    Column("id_api", String(100)),
)

subscriptions = Table(
    "rec_assinatura",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("dt_inicio", Date, nullable=False),
    Column("intervalo", String(250), nullable=False),
    Column("intervalo_quantidade", SmallInteger, nullable=False),
    Column("dia_cobranca", SmallInteger, nullable=False),
    Column("quant_parcelas", SmallInteger, nullable=False),
    Column("ciclo", Integer, nullable=False),
    Column("texto_fatura", String(250)),
    Column("valor_minimo", MONEY, nullable=False),
    Column("status", CHAR(1), nullable=False, default="A"),
    Column("id_api", String(100)),
    Column("id_cliente", Integer, nullable=False),
    Column("id_cartao", Integer),
)

subscription_items = Table(
    "rec_assinatura_item",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("dt_inicio", Date, nullable=False),
    Column("descricao", String(250), nullable=False),
    Column("quant", SmallInteger, nullable=False),
    Column("ciclos", SmallInteger),
    Column("status", CHAR(1), nullable=False, default="A"),
    Column("valor", Numeric(10, 2, asdecimal=True), nullable=False),
    Column("id_api", String(100)),
    Column("id_assinatura", Integer, nullable=False),
)

invoices = Table(
    "rec_fatura",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("url", String(250)),
    Column("forma_pagamento", String(250)),
    Column("quant_parcelas", SmallInteger),
    Column("valor", MONEY, nullable=False),
    Column("dt_cobranca", DateTime),
    Column("dt_vencimento", DateTime),
    Column("dt_criacao", Date),
    Column("dt_cancelamento", DateTime),
    Column("dia_cobranca", SmallInteger),
    Column("total_descontos", MONEY, nullable=False, default=0),
    Column("total_acrescimos", MONEY, nullable=False, default=0),
    Column("id_api", String(100), nullable=False, unique=True),
    Column("cod_cli", Integer, nullable=False),
    Column("id_assinatura", Integer, nullable=False),
    Column("status", String(50)),
    implicit_returning=False,
)

events = Table(
    "util_eventos_mundipagg",
    metadata,
    # The seed's columns, in its order; `id_guid` is filled by the ERP (newid() on SQL Server).
    Column("dt_evento", DateTime, nullable=False, default=Clock().wall_time),
    Column("processado", CHAR(1), nullable=False, default="N"),
    Column("sigla", String(8), nullable=False),
    Column("id_tabela", String(30), nullable=False),
    Column("codaux_1", String(30)),
    Column("codaux_2", String(30)),
    Column("id_guid", String(60), nullable=False, default=lambda: str(uuid.uuid4())),
    # Added by billing-sync: when the event turned P or E.
    Column("dt_processado", DateTime),
    # Random guids: on SQL Server a clustered key on them would split pages on every insert.
    PrimaryKeyConstraint("id_guid", mssql_clustered=False),
    Index("ix_eventos_pendentes", "processado", "dt_evento", "id_guid"),
)
event.listen(
    events,
    "after_create",
    DDL("ALTER TABLE %(fullname)s ADD DEFAULT (newid()) FOR [id_guid]").execute_if(dialect="mssql"),
)

sync_log = Table(
    "rec_log_sync",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dt_evento", DateTime, nullable=False, default=Clock().wall_time),
    Column("tipo", String(2), nullable=False),
    Column("descricao", String(255), nullable=False),
    Column("cliente", String(255), nullable=False),
    Column("id_api", String(100)),
    Column("valor", MONEY, nullable=False, default=0),
    Column("id_evento", String(60)),
    Column("sigla", String(8)),
    implicit_returning=False,
)


def columns_of(table: Table, row_type: type[Any]) -> list[Any]:
    """The table's columns a row type reads, in its field order."""
    return [table.c[name] for name in row_type.__dataclass_fields__]


def create_schema(engine: Engine) -> None:
    """Create the tables that do not exist yet (never alters or drops)."""
    metadata.create_all(engine)
    if engine.dialect.name == "sqlite":
        # The demo's file database: in WAL mode a commit costs one fsync instead of three and
        # readers do not wait for the writer, so concurrent lanes are not serialised on disk.
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA journal_mode=WAL")


def main() -> None:
    parser = argparse.ArgumentParser(description="Create the gym ERP tables in an empty database.")
    parser.add_argument("url", help="SQLAlchemy URL, e.g. sqlite:///gym.db")
    engine = create_engine(parser.parse_args().url)
    create_schema(engine)
    print(f"tables ready on {engine.url.render_as_string(hide_password=True)}")
    engine.dispose()


if __name__ == "__main__":
    main()
