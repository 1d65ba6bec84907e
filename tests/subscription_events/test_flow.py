"""The whole flow through Prefect: blocks, loopback sandbox, report artifacts, and no card data
in any log or artifact."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from cryptography.fernet import Fernet
from events_helpers import log_of, row, rows
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, FlowRunFilter, LogFilter, TaskRunFilter
from prefect.client.schemas.objects import Artifact
from prefect.client.schemas.sorting import ArtifactSort
from prefect.logging.handlers import APILogHandler
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine

from blocks.discord.block import Discord
from blocks.gym_erp.block import GymErpDatabase
from blocks.gym_erp.cards import FernetCardKey
from blocks.gym_erp.schema import create_schema
from blocks.mundipagg.block import Mundipagg
from flows.subscription_events import subscription_events
from sandbox.discord import DiscordSandbox
from sandbox.gym_demo import GymErp
from sandbox.mundipagg import BASE_PATH, MundipaggSandbox
from sandbox.server import serve, serve_all

pytestmark = pytest.mark.prefect

GOOD_CARD, BAD_CARD, CVV = "5555555555554444", "4111111111111112", "737"
CHANGES_WEBHOOK = ("100000000000000001", "changes-token")
ERRORS_WEBHOOK = ("100000000000000009", "errors-token")


@dataclass(frozen=True)
class RunPage:
    """What the run's page in the Prefect UI shows: its log lines (and which are warnings) and its
    artifacts."""

    logs: list[str]
    warnings: list[str]
    artifacts: list[Artifact]

    def artifact(self, key: str) -> Artifact:
        (found,) = [artifact for artifact in self.artifacts if artifact.key == key]
        return found


async def run_page(flow_run_id: UUID | None) -> RunPage:
    await APILogHandler.aflush()
    async with get_client() as client:
        logs = await client.read_logs(
            LogFilter(flow_run_id={"any_": [flow_run_id]}), limit=200, offset=0
        )
        artifacts = await client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id={"any_": [flow_run_id]}),
            flow_run_filter=FlowRunFilter(),
            task_run_filter=TaskRunFilter(),
            sort=ArtifactSort.CREATED_DESC,
            limit=50,
        )
    warnings = [log.message for log in logs if log.level == logging.WARNING]
    return RunPage([log.message for log in logs], warnings, artifacts)


@dataclass(frozen=True)
class Gym:
    """A gym ERP database of the test's own (SQLite) and its sandbox ERP to fill it."""

    url: str
    key: str
    engine: Engine
    erp: GymErp


def new_gym(tmp_path: Path) -> Gym:
    key = Fernet.generate_key().decode()
    url = f"sqlite:///{tmp_path / 'gym.db'}"
    engine = create_engine(url)
    create_schema(engine)
    return Gym(url, key, engine, GymErp(engine, FernetCardKey(key=SecretStr(key)).cipher()))


async def save_events_blocks(
    name: str, gym: Gym, gateway: MundipaggSandbox, gateway_url: str, **mundipagg: Any
) -> None:
    """The ERP, card key and Mundipagg blocks of a run, saved as `name`."""
    await GymErpDatabase(url=SecretStr(gym.url)).save(name, overwrite=True)
    await FernetCardKey(key=SecretStr(gym.key)).save(name, overwrite=True)
    await Mundipagg(
        base_url=gateway_url + BASE_PATH, secret_key=SecretStr(gateway.secret_key), **mundipagg
    ).save(name, overwrite=True)


async def save_discord_block(
    name: str, discord: DiscordSandbox, discord_url: str, **settings: Any
) -> None:
    await Discord(
        webhook_url=SecretStr(discord.url(discord_url, CHANGES_WEBHOOK[0])),
        errors_webhook_url=SecretStr(discord.url(discord_url, ERRORS_WEBHOOK[0])),
        **settings,
    ).save(name, overwrite=True)


def a_failing_and_a_processed_event(gym: GymErp) -> tuple[str, str]:
    """Two events of one member: one for a subscription the ERP lacks (it fails), one that is
    processed; their ids."""
    gym.member(1, "Tina Luz")
    return gym.event("A_C", 999), gym.event("A_N", 100)


def blocks_named(name: str, discord_block: str | None = None) -> dict[str, str]:
    return {
        "erp_block": name,
        "mundipagg_block": name,
        "card_key_block": name,
        "discord_block": discord_block or name,
    }


async def test_flow_processes_the_queue_and_leaks_no_card_data(
    prefect_harness: None, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    setup = new_gym(tmp_path)
    engine, gym = setup.engine, setup.erp
    gym.customer(1, "Rita Maia")
    gym.card(10, 1, number=GOOD_CARD, cvv=CVV)
    gym.subscription(100, 1, 10)
    gym.customer(2, "Sérgio Luz")
    gym.card(20, 2, number=BAD_CARD, cvv=CVV)
    gym.subscription(200, 2, 20)
    good, refused = gym.event("A_N", 100), gym.event("A_N", 200)
    held, unknown = gym.event("A_C", 200), gym.event("??", 1)
    gateway = MundipaggSandbox()
    discord = DiscordSandbox([CHANGES_WEBHOOK, ERRORS_WEBHOOK])

    with serve_all(gateway=gateway.app, discord=discord.app) as urls:
        await save_events_blocks(
            "events-test", setup, gateway, urls["gateway"], retry_base_seconds=0.01
        )
        await save_discord_block("events-test", discord, urls["discord"])
        state = await subscription_events(**blocks_named("events-test"), return_state=True)
    report = await state.result()

    # One notice, on the errors webhook: the two failures, the event now held behind one.
    (notice,) = discord.messages
    assert notice.webhook_id == ERRORS_WEBHOOK[0]
    (embed,) = notice.payload["embeds"]
    assert "2 evento(s) com erro, 1 retido(s)" in embed["title"]
    assert refused in embed["description"] and "HTTP 400" in embed["description"]
    assert unknown in embed["description"] and held in embed["description"]

    assert {r.id_guid: r.status for r in report.results} == {
        good: "P", refused: "E", held: "N", unknown: "E",
    }  # fmt: skip
    statuses = {e["id_guid"]: e["processado"] for e in rows(engine, "util_eventos_mundipagg")}
    assert statuses == {good: "P", refused: "E", held: "N", unknown: "E"}
    assert row(engine, "cad_cliente_cartao", id=10)["ultimos_digitos"] == "4444"

    page = await run_page(state.state_details.flow_run_id)
    api_text = "\n".join(page.logs)
    artifact_text = "\n".join(str(artifact.data) for artifact in page.artifacts)
    assert refused in artifact_text and "HTTP 400" in artifact_text
    assert "processado" in artifact_text
    assert good in api_text
    everything = "\n".join(
        [
            api_text,
            artifact_text,
            *(r.getMessage() for r in caplog.records if not r.name.startswith("httpcore")),
            *(str(r.description) for r in report.results),
            *(entry["descricao"] for entry in rows(engine, "rec_log_sync")),
            json.dumps(notice.payload, ensure_ascii=False),
        ]
    )
    for secret in (GOOD_CARD, BAD_CARD):
        assert secret not in everything
    # httpcore traces carry only header tuples (a Content-Length can be 737) and durations
    # can end in .737, so the CVV is looked for as a value of its own.
    assert re.search(rf"(?<![\w.]){CVV}(?!\w)", everything) is None
    engine.dispose()


class InFlight:
    """ASGI wrapper counting the gateway requests being served at the same time."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.now = 0
        self.most = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await self.app(scope, receive, send)
        finally:
            self.now -= 1


async def test_customers_run_concurrently_up_to_the_bound(
    prefect_harness: None, tmp_path: Path
) -> None:
    setup = new_gym(tmp_path)
    engine, gym = setup.engine, setup.erp
    for customer in range(1, 7):
        gym.customer(customer, f"Aluno {customer}")
        gym.card(customer, customer)
        gym.subscription(customer, customer, customer)
        gym.event("A_N", customer)
        gym.event("A_EDP", customer)
    gateway = MundipaggSandbox(latency=0.05)
    in_flight = InFlight(gateway.app)

    with serve(in_flight) as sandbox_url:
        await save_events_blocks("events-bound", setup, gateway, sandbox_url)
        # The Discord block is never saved: nothing failed, nothing to tell.
        report = await subscription_events(
            max_concurrent_customers=2, **blocks_named("events-bound")
        )

    assert report.counts["P"] == 12
    assert in_flight.most == 2
    engine.dispose()


async def test_a_missing_discord_block_does_not_stop_the_events_and_the_run_speaks_portuguese(
    prefect_harness: None, tmp_path: Path
) -> None:
    setup = new_gym(tmp_path)
    engine = setup.engine
    failing, processed = a_failing_and_a_processed_event(setup.erp)
    gateway = MundipaggSandbox()

    with serve(gateway.app) as sandbox_url:
        await save_events_blocks("events-nodiscord", setup, gateway, sandbox_url)
        state = await subscription_events(
            **blocks_named("events-nodiscord", "nobody-saved-this"), return_state=True
        )

    assert state.is_completed()
    statuses = {e["id_guid"]: e["processado"] for e in rows(engine, "util_eventos_mundipagg")}
    assert statuses == {failing: "E", processed: "P"}
    page = await run_page(state.state_details.flow_run_id)
    (warning,) = page.warnings
    assert warning.startswith(
        "Sem avisos no Discord nesta execução, que segue em pt-BR: "
        "bloco Discord 'nobody-saved-this' indisponível ("
    )
    assert "1 processado(s), 1 com erro, 0 aguardando" in page.logs
    summary = page.artifact("subscription-events-summary")
    assert summary.description == "Resumo da execução"
    assert str(summary.data).startswith("# Eventos Mundipagg\n")
    engine.dispose()


async def test_an_english_discord_block_makes_the_run_speak_english_but_not_the_erp(
    prefect_harness: None, tmp_path: Path
) -> None:
    setup = new_gym(tmp_path)
    engine = setup.engine
    failing, processed = a_failing_and_a_processed_event(setup.erp)
    gateway = MundipaggSandbox()
    discord = DiscordSandbox([CHANGES_WEBHOOK, ERRORS_WEBHOOK])

    with serve_all(gateway=gateway.app, discord=discord.app) as urls:
        await save_events_blocks("events-en", setup, gateway, urls["gateway"])
        await save_discord_block("events-en", discord, urls["discord"], language="en")
        state = await subscription_events(**blocks_named("events-en"), return_state=True)

    assert state.is_completed()
    page = await run_page(state.state_details.flow_run_id)
    summary = page.artifact("subscription-events-summary")
    assert summary.description == "Summary of the run"
    reason = "A_C: assinatura 999 não existe em rec_assinatura"
    assert str(summary.data) == (
        "# Mundipagg events\n"
        "\n"
        "2 event(s) of 2 subscription(s)/customer(s): **1 processed**, **1 failed**, "
        "**0 waiting** for an earlier event that failed.\n"
        "\n"
        "## Failed\n"
        "\n"
        f"- `{failing}` (assinatura:999) (unknown customer): {reason}\n"
        "\n"
        "The reasons are quoted as written to the ERP's rec_log_sync, in Portuguese for the "
        "gym's staff.\n"
    )
    table = page.artifact("subscription-events")
    assert str(table.description).startswith("Each event and its result")
    assert {row["event"]: row["result"] for row in json.loads(str(table.data))} == {
        failing: "failed", processed: "processed",
    }  # fmt: skip
    assert page.warnings == []
    assert "2 pending event(s) (limit 5000); 0 waiting for a failed event" in page.logs
    assert "1 processed, 1 failed, 0 waiting" in page.logs
    assert f"failed: A_C {failing}: {reason}" in page.logs
    for portuguese in ("evento(s)", "processado(s)", "fila(s)", "aguardam"):
        assert not [line for line in page.logs if portuguese in line], portuguese
    # The ERP's staff read the reason in Portuguese; the team reads the notice in English.
    (written,) = log_of(engine, failing)
    assert (written["descricao"], written["cliente"]) == (reason, "(cliente desconhecido)")
    (notice,) = discord.messages
    assert notice.payload["embeds"][0]["title"].endswith("1 event(s) failed, 0 held back")
    engine.dispose()
