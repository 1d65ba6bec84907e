"""The second demo: the subscription-events flow on a SQLite gym ERP against the Mundipagg sandbox.

    python -m sandbox.gym_demo            # (make demo-events)

It creates the ERP tables in a fresh SQLite file, writes a small day of gym life into the event
queue - new subscriptions, a card change, a billing-day change, items added/changed/removed, an
invoice import and cancellation, a customer edit, a cancellation - plus the bad input the old
synchronizer choked on, runs the flow once through Prefect, and prints each event turning P or E.
`GymErp` (the writer of that data) is also what the tests and the benchmark use.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Table, insert, select
from sqlalchemy.engine import Engine

from blocks.gym_erp.cards import FernetCardCipher
from blocks.gym_erp.schema import (
    cards,
    customers,
    events,
    subscription_items,
    subscriptions,
)

TEST_CARD_NUMBER = "4111111111111111"
TEST_CARD_CVV = "737"


class GymErp:
    """Writes ERP rows the way the gym's ERP does: card data encrypted, events queued in order."""

    def __init__(self, engine: Engine, cipher: FernetCardCipher, *, start: datetime) -> None:
        self.engine = engine
        self.cipher = cipher
        self._clock: Iterator[datetime] = (
            start + timedelta(seconds=step) for step in itertools.count()
        )
        self._item_ids = itertools.count(1)

    def customer(
        self,
        cod_cli: int,
        nome: str,
        *,
        cpf_cnpj: str | None = "529.982.247-25",
        email: str | None = "aluno@example.com",
        celular: str | None = "(11) 98765-4321",
    ) -> int:
        self._insert(
            customers,
            cod_cli=cod_cli,
            nome=nome,
            cpf_cnpj=cpf_cnpj,
            email=email,
            celular=celular,
        )
        return cod_cli

    def card(
        self,
        card_id: int,
        cod_cli: int,
        *,
        number: str = TEST_CARD_NUMBER,
        cvv: str = TEST_CARD_CVV,
        holder: str = "ALUNO TESTE",
        expiry: tuple[int, int] = (12, 2031),
    ) -> int:
        self._insert(
            cards,
            id=card_id,
            cod_cli=cod_cli,
            numero_cartao=self.cipher.encrypt(number),
            nome_cartao=self.cipher.encrypt(holder),
            cpf=self.cipher.encrypt("52998224725"),
            cvc=self.cipher.encrypt(cvv),
            bandeira=None,
            val_mes=expiry[0],
            val_ano=expiry[1],
            status="A",
        )
        return card_id

    def subscription(
        self,
        subscription_id: int,
        cod_cli: int,
        card_id: int | None,
        items: Sequence[tuple[str, int, str]] = (("Musculação", 1, "89.90"),),
        *,
        billing_day: int = 10,
        minimum: str = "0",
    ) -> list[int]:
        """The subscription and its items (description, quantity, price in reais); item ids."""
        self._insert(
            subscriptions,
            id=subscription_id,
            dt_inicio=date.today(),
            intervalo="month",
            intervalo_quantidade=1,
            dia_cobranca=billing_day,
            quant_parcelas=1,
            ciclo=1,
            texto_fatura="MELFITNESS",
            valor_minimo=Decimal(minimum),
            status="A",
            id_cliente=cod_cli,
            id_cartao=card_id,
        )
        return [self.item(subscription_id, *item) for item in items]

    def item(self, subscription_id: int, descricao: str, quant: int, valor: str) -> int:
        item_id = next(self._item_ids)
        self._insert(
            subscription_items,
            id=item_id,
            dt_inicio=date.today(),
            descricao=descricao,
            quant=quant,
            ciclos=None,
            status="A",
            valor=Decimal(valor),
            id_assinatura=subscription_id,
        )
        return item_id

    def event(self, sigla: str, id_tabela: int | str, codaux_1: int | str | None = None) -> str:
        """Queue an event one second after the previous one; its `id_guid`."""
        guid = str(uuid.uuid4())
        self._insert(
            events,
            id_guid=guid,
            dt_evento=next(self._clock),
            processado="N",
            sigla=sigla,
            id_tabela=str(id_tabela),
            codaux_1=None if codaux_1 is None else str(codaux_1),
        )
        return guid

    def status_of(self, guid: str) -> str:
        with self.engine.connect() as connection:
            return connection.execute(
                select(events.c.processado).where(events.c.id_guid == guid)
            ).scalar_one()

    def _insert(self, table: Table, **values: object) -> None:
        with self.engine.begin() as connection:
            connection.execute(insert(table).values(**values))
