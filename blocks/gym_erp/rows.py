"""Plain, typed views of the ERP rows the flow reads, and the changes it writes back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

# `processado` and `rec_log_sync.tipo`: P processed, E failed, N pending (in the log: held
# behind a failed predecessor).
EventStatus = Literal["N", "P", "E"]
# `processado` of an event a run has claimed and is processing (never a `rec_log_sync.tipo`).
CLAIMED = "W"


@dataclass(frozen=True)
class ChainCodes:
    """Which event codes (`sigla`) name, in `id_tabela`, a subscription, an item or a customer,
    and in which order events written in the same instant are read.

    Events naming the same subscription (directly or through one of its items) or the same
    customer form a chain that keeps its order: an `E` holds back its chain's later events.
    """

    subscription: frozenset[str]
    item: frozenset[str]
    customer: frozenset[str]
    # Events of one instant (`dt_evento`) are read in this order of their codes, others last.
    same_instant_order: tuple[str, ...] = ()


@dataclass(frozen=True)
class EventRow:
    id_guid: str
    dt_evento: datetime
    processado: str
    sigla: str
    id_tabela: str
    codaux_1: str | None
    codaux_2: str | None


@dataclass(frozen=True)
class CustomerRow:
    cod_cli: int
    nome: str
    cpf_cnpj: str | None
    email: str | None
    celular: str | None
    id_api: str | None


@dataclass(frozen=True)
class CardRow:
    id: int
    cod_cli: int
    numero_cartao: str | None
    nome_cartao: str | None
    cpf: str | None
    cvc: str | None
    bandeira: str | None
    ultimos_digitos: str | None
    val_mes: int | None
    val_ano: int | None
    status: str
    id_api: str | None

    def __repr__(self) -> str:
        # The encrypted columns stay out of reprs (tracebacks, logs) all the same.
        return f"CardRow(id={self.id}, cod_cli={self.cod_cli}, id_api={self.id_api!r})"


@dataclass(frozen=True)
class SubscriptionRow:
    id: int
    dt_inicio: date
    intervalo: str
    intervalo_quantidade: int
    dia_cobranca: int
    quant_parcelas: int
    ciclo: int
    texto_fatura: str | None
    valor_minimo: Decimal
    status: str
    id_api: str | None
    id_cliente: int
    id_cartao: int | None


@dataclass(frozen=True)
class ItemRow:
    id: int
    dt_inicio: date
    descricao: str
    quant: int
    ciclos: int | None
    status: str
    valor: Decimal
    id_api: str | None
    id_assinatura: int


@dataclass(frozen=True)
class InvoiceRow:
    id: int
    id_api: str
    id_assinatura: int
    valor: Decimal
    status: str | None


# What a `rec_log_sync` row says for a customer not known: the ERP's words, in Portuguese for
# the gym's staff, like every reason written there.
UNKNOWN_CUSTOMER = "(cliente desconhecido)"


@dataclass(frozen=True)
class LogEntry:
    """One `rec_log_sync` row: what happened, to whom, with which gateway id and amount."""

    kind: EventStatus
    description: str
    customer: str | None  # the customer's name; None when not known (`UNKNOWN_CUSTOMER`)
    id_api: str | None = None
    value: Decimal = Decimal(0)


@dataclass(frozen=True)
class RowUpdate:
    """Set `values` on the row of `table` whose primary key is `row_id`."""

    table: str
    row_id: int
    values: dict[str, Any]


@dataclass(frozen=True)
class InvoiceImport:
    """Insert or update `rec_fatura` rows, matched by the gateway's invoice id (`id_api`)."""

    rows: list[dict[str, Any]]


Change = RowUpdate | InvoiceImport
