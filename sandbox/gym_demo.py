"""The second demo: the subscription-events flow on a SQLite gym ERP against the Mundipagg sandbox.

    python -m sandbox.gym_demo            # (make demo-events)

It creates the ERP tables in a fresh SQLite file, writes a small day of gym life into the event
queue - new subscriptions, a card change, a billing-day change, items added/changed/removed, an
invoice import and cancellation, a customer edit, a cancellation - plus the bad input the old
synchronizer choked on, runs the flow through Prefect, queues one more item, runs it again (the
next minute, as it were) and prints each event turning P or E, or staying N behind a failure,
and the notice the team got on (a sandboxed) Discord.
`GymErp` (the writer of that data) is also what the tests and the benchmark use.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import Table, create_engine, insert, select
from sqlalchemy.engine import Engine

from blocks.gym_erp.cards import FernetCardCipher
from blocks.gym_erp.schema import (
    cards,
    create_schema,
    customers,
    events,
    subscription_items,
    subscriptions,
    sync_log,
)
from clock import Clock
from sandbox.discord import DiscordSandbox
from sandbox.faults import FaultKind
from sandbox.mundipagg import BASE_PATH, MundipaggSandbox
from sandbox.server import serve_all

# No network here, and a first ephemeral Prefect server start can be slow.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")

DEMO_BLOCK = "gym-demo"

TEST_CARD_NUMBER = "4111111111111111"
TEST_CARD_CVV = "737"


class GymErp:
    """Writes ERP rows the way the gym's ERP does: card data encrypted, events queued in order."""

    def __init__(
        self, engine: Engine, cipher: FernetCardCipher, *, clock: Clock | None = None
    ) -> None:
        self.engine = engine
        self.cipher = cipher
        self.clock = clock or Clock()
        start = self.clock.wall_time().replace(microsecond=0)
        self._event_times: Iterator[datetime] = (
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

    def member(
        self, cod_cli: int, nome: str, *, card_id: int = 10, subscription_id: int = 100
    ) -> list[int]:
        """A customer with one card and a subscription charged to it; the item ids."""
        self.customer(cod_cli, nome)
        self.card(card_id, cod_cli)
        return self.subscription(subscription_id, cod_cli, card_id)

    def card(
        self,
        card_id: int,
        cod_cli: int,
        *,
        number: str = TEST_CARD_NUMBER,
        cvv: str = TEST_CARD_CVV,
        holder: str = "ALUNO TESTE",
        expiry: tuple[int, int] | None = None,
    ) -> int:
        """A card; unless `expiry` (month, year) says otherwise, valid for five more years."""
        month, year = expiry or (12, self.clock.today().year + 5)
        self._insert(
            cards,
            id=card_id,
            cod_cli=cod_cli,
            numero_cartao=self.cipher.encrypt(number),
            nome_cartao=self.cipher.encrypt(holder),
            cpf=self.cipher.encrypt("52998224725"),
            cvc=self.cipher.encrypt(cvv),
            bandeira=None,
            val_mes=month,
            val_ano=year,
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
            dt_inicio=self.clock.today(),
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
            dt_inicio=self.clock.today(),
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
            dt_evento=next(self._event_times),
            processado="N",
            sigla=sigla,
            id_tabela=str(id_tabela),
            codaux_1=None if codaux_1 is None else str(codaux_1),
        )
        return guid

    def _insert(self, table: Table, **values: object) -> None:
        with self.engine.begin() as connection:
            connection.execute(insert(table).values(**values))


def queue_a_day_at_the_gym(gym: GymErp) -> dict[str, str]:
    """Rows and events for the demo; event guid -> what it shows."""
    shown: dict[str, str] = {}
    gym.customer(1, "Ana Souza")
    gym.card(10, 1)
    musculacao, _ = gym.subscription(
        100, 1, 10, [("Musculação", 1, "89.90"), ("Natação", 2, "45.50")], billing_day=5
    )
    shown[gym.event("A_N", 100)] = "nova assinatura: cliente, cartão e itens vão juntos"
    shown[gym.event("IA_E", musculacao)] = "item alterado"
    shown[gym.event("A_EDP", 100)] = "dia de cobrança alterado"
    shown[gym.event("F_AA", 100)] = "faturas importadas (todas as páginas)"
    shown[gym.event("F_C", 100)] = "fatura pendente cancelada"

    gym.customer(2, "Bruno Lima", celular="(21) 99876-5432")
    gym.card(20, 2)
    gym.card(21, 2, number="5555555555554444")
    _, pilates = gym.subscription(200, 2, 20, [("Musculação", 1, "89.90"), ("Pilates", 1, "60")])
    shown[gym.event("A_N", 200)] = "nova assinatura"
    shown[gym.event("A_ECT", 200, codaux_1=21)] = "troca de cartão: cadastra o cartão novo"
    shown[gym.event("CLI_E", 2)] = "cliente editado"
    shown[gym.event("IA_R", pilates)] = "item removido"
    shown[gym.event("A_C", 200)] = "assinatura cancelada"

    gym.customer(3, "Carla Sem Documento", cpf_cnpj=None)
    gym.card(30, 3)
    gym.subscription(300, 3, 30)
    shown[gym.event("A_N", 300)] = "ERRO esperado: cliente sem CPF"
    shown[gym.event("IA_N", gym.item(300, "Yoga", 1, "40.00"))] = "fica pendente atrás do erro"

    gym.customer(4, "Diego Sem Cartão")
    gym.subscription(400, 4, None)
    shown[gym.event("A_N", 400)] = "ERRO esperado: assinatura sem cartão"
    gym.customer(5, "Elisa Cartão Inválido")
    gym.card(50, 5, number="4111111111111112")
    gym.subscription(500, 5, 50)
    shown[gym.event("A_N", 500)] = "ERRO esperado: o gateway recusa o cartão (400)"
    shown[gym.event("A_C", 999)] = "ERRO esperado: assinatura inexistente"
    shown[gym.event("X_Y", 1)] = "ERRO esperado: sigla desconhecida"
    return shown


def add_an_item_later(gym: GymErp) -> dict[str, str]:
    """What the gym does before the next minute's run."""
    return {gym.event("IA_N", gym.item(100, "Pilates", 1, "60.00")): "item incluído (2ª execução)"}


def print_outcome(engine: Engine, shown: dict[str, str]) -> None:
    with engine.connect() as connection:
        states = dict(
            connection.execute(select(events.c.id_guid, events.c.processado)).tuples().all()
        )
        reasons = dict(
            connection.execute(
                select(sync_log.c.id_evento, sync_log.c.descricao).order_by(sync_log.c.id)
            )
            .tuples()
            .all()
        )
    print(f"\n{'':2}{'evento (id_guid)':38} {'':3} {'o que mostra':52} rec_log_sync")
    for guid, meaning in shown.items():
        print(f"  {guid:38} {states[guid]:3} {meaning:52} {reasons.get(guid, '')}")


async def run_demo(directory: Path) -> None:
    from blocks.discord.block import Discord
    from blocks.gym_erp.block import GymErpDatabase
    from blocks.gym_erp.cards import FernetCardKey
    from blocks.mundipagg.block import Mundipagg
    from flows.subscription_events import subscription_events

    url = f"sqlite:///{directory / 'gym_erp.db'}"
    engine = create_engine(url)
    create_schema(engine)
    card_key = FernetCardKey(key=SecretStr(Fernet.generate_key().decode()))
    gym = GymErp(engine, card_key.cipher())
    shown = queue_a_day_at_the_gym(gym)
    gateway = MundipaggSandbox()
    discord = DiscordSandbox()
    # One passing hiccup: the first subscription request answers 503 and is retried.
    gateway.faults.add(FaultKind.HTTP_503, match=rf"^POST {BASE_PATH}/subscriptions", times=1)
    print(f"ERP de demonstração: {url} ({len(shown)} eventos pendentes)")
    with serve_all(gateway=gateway.app, discord=discord.app) as urls:
        await GymErpDatabase(url=SecretStr(url)).save(DEMO_BLOCK, overwrite=True)
        await card_key.save(DEMO_BLOCK, overwrite=True)
        await Mundipagg(
            base_url=urls["gateway"] + BASE_PATH,
            secret_key=SecretStr(gateway.secret_key),
            retry_base_seconds=0.2,
        ).save(DEMO_BLOCK, overwrite=True)
        await Discord(webhook_url=SecretStr(discord.url(urls["discord"]))).save(
            DEMO_BLOCK, overwrite=True
        )
        print(f"Pagar.me sandbox em {urls['gateway']}{BASE_PATH}; executando o flow...")
        blocks: dict[str, Any] = dict.fromkeys(
            ("erp_block", "mundipagg_block", "card_key_block", "discord_block"), DEMO_BLOCK
        )
        await subscription_events(**blocks)
        shown |= add_an_item_later(gym)
        print("Um item novo entrou na fila; executando o flow de novo...")
        await subscription_events(**blocks)
    print_outcome(engine, shown)
    print(
        f"\ngateway: {gateway.requests} requisições ({gateway.faults.injected.total()} com falha "
        f"injetada e repetida), {len(gateway.subscriptions)} assinaturas, "
        f"{len(gateway.cards)} cartões, {len(gateway.invoices)} faturas"
    )
    for message in discord.messages:
        for embed in message.payload["embeds"]:
            print(f"\nDiscord: {embed['title']}\n{embed['description']}")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--directory", type=Path, help="where to keep the SQLite ERP (default: a temp dir)"
    )
    directory = parser.parse_args().directory
    with tempfile.TemporaryDirectory(prefix="gym-demo-") as scratch:
        target = directory or Path(scratch)
        target.mkdir(parents=True, exist_ok=True)
        asyncio.run(run_demo(target))


if __name__ == "__main__":
    main()
