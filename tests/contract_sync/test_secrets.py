"""Secrets stay secret: whole runs with known secret values, then a search for them everywhere.

The Magnus key and secret, the IXC token (and its Basic-auth form), both webhook URL tokens and
customer passwords carried by Magnus answers must not appear in: Python log records (every
logger, DEBUG and up, httpx included), the runs' Prefect logs, artifacts, flow parameters,
flow and task run state messages, the exceptions the runs end with (and what they chain to),
Discord payloads and files, or the notification ledger. The runs go through the error paths on
purpose, with faults that persist so that no retry hides them: answers cut in the middle of a
customer record, IXC pages that echo the Authorization header, save errors that quote the API
key and a password, a Discord webhook that echoes its own URL, refused credentials. For
subscription-events, the Mundipagg key and the card must not reach `rec_log_sync`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import traceback
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import httpx
import pytest
from cryptography.fernet import Fernet
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    FlowRunFilter,
    FlowRunFilterId,
    LogFilter,
    LogFilterFlowRunId,
    TaskRunFilter,
)
from prefect.client.schemas.sorting import ArtifactSort, LogSort, TaskRunSort
from pydantic import SecretStr
from sqlalchemy import create_engine, select
from sync_helpers import NO_GUARD, Stack, Transform, raw, run, stack, unique

from blocks.discord.block import Discord
from blocks.gym_erp.cards import FernetCardCipher
from blocks.gym_erp.database import ErpDatabase
from blocks.gym_erp.schema import create_schema, events, sync_log
from blocks.ixc.block import Ixc
from blocks.magnusbilling.block import MagnusBilling
from blocks.mundipagg.client import MundipaggClient
from clock import Clock
from sandbox.faults import FaultKind
from sandbox.gym_demo import TEST_CARD_NUMBER, GymErp
from sandbox.magnusbilling import ApiKey
from sandbox.world import synthetic_provider
from subscription_events.handlers import Services
from subscription_events.lanes import plan_pending, process_lane, read_queue

pytestmark = pytest.mark.prefect

MAGNUS_KEY = "mbkey-K3Y-7f1c9a"
MAGNUS_SECRET = "mbsecret-S3CR3T-88d2e0"
IXC_TOKEN = "42:ixc-T0K3N-hash-5b7e"
CHANGES = ("801", "chg-W3BH00K-t0ken-a1")
ERRORS = ("901", "err-W3BH00K-t0ken-b2")
CUSTOMER_PASSWORD = "pw-CUST0M3R-9931"
MUNDIPAGG_KEY = "sk_test_G4T3W4Y-s3cr3t-77aa"


@pytest.fixture
def secret_stack(prefect_harness: None, tmp_path: Path) -> Iterator[tuple[Stack, str, Path]]:
    provider = synthetic_provider(customers=30, contracts=40, drift=0.3, seed=13)
    victim = sorted(provider.drifted)[0]
    for user in provider.magnus_users:
        if int(user["id"]) == victim:
            user["password"] = CUSTOMER_PASSWORD
    with stack(
        provider,
        api_key=ApiKey(MAGNUS_KEY, MAGNUS_SECRET, actions="ru"),
        ixc_token=IXC_TOKEN,
        webhooks=(CHANGES, ERRORS),
    ) as sandbox:
        name = unique("secrets")
        base = sandbox.urls["discord"]
        for block in (
            MagnusBilling(
                base_url=sandbox.urls["magnus"],
                api_key=MAGNUS_KEY,
                api_secret=MAGNUS_SECRET,
                retry_base_seconds=0.02,
                timeout_seconds=1,
            ),
            Ixc(
                base_url=sandbox.urls["ixc"],
                token=IXC_TOKEN,
                retry_base_seconds=0.02,
                timeout_seconds=1,
            ),
            Discord(
                webhook_url=sandbox.discord.url(base, CHANGES[0]),
                errors_webhook_url=sandbox.discord.url(base, ERRORS[0]),
                retry_base_seconds=0.02,
                attempts=3,
                timeout_seconds=1,
            ),
        ):
            block.save(name, overwrite=True)
        yield sandbox, name, tmp_path / "ledger.sqlite3"


def secrets(sandbox: Stack) -> list[str]:
    passwords = [str(user["password"]) for user in sandbox.magnus.users.values()]
    basic = base64.b64encode(IXC_TOKEN.encode()).decode()
    return [
        MAGNUS_KEY,
        MAGNUS_SECRET,
        IXC_TOKEN,
        IXC_TOKEN.split(":")[1],
        basic,
        CHANGES[1],
        ERRORS[1],
        CUSTOMER_PASSWORD,
        *[p for p in passwords if len(p) >= 8 and p != "0" * 40],
    ]


async def everything_a_run_left(flow_run_id: UUID) -> list[str]:
    """Logs, artifacts, parameters and state messages of a flow run and its task runs."""
    texts: list[str] = []
    async with get_client() as client:
        await asyncio.sleep(1.0)  # logs and artifacts arrive in batches
        flow_run = await client.read_flow_run(flow_run_id)
        texts += [json.dumps(flow_run.parameters), flow_run.state.message or ""]
        logs = await client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])),
            sort=LogSort.TIMESTAMP_ASC,
            limit=200,
            offset=0,
        )
        texts += [log.message for log in logs]
        assert logs, "the run's logs were read"
        artifacts = await client.read_artifacts(
            artifact_filter=ArtifactFilter(),
            sort=ArtifactSort.CREATED_DESC,
            limit=50,
            offset=0,
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
            task_run_filter=TaskRunFilter(),
        )
        texts += [json.dumps(a.data) + (a.description or "") for a in artifacts]
        task_runs = await client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
            sort=TaskRunSort.EXPECTED_START_TIME_DESC,
            limit=200,
            offset=0,
        )
        texts += [tr.state.message or "" for tr in task_runs if tr.state]
        texts += [json.dumps(tr.task_inputs, default=str) for tr in task_runs]
    return texts


def discord_texts(sandbox: Stack) -> list[str]:
    texts = []
    for message in sandbox.discord.messages:
        texts.append(json.dumps(message.payload, ensure_ascii=False))
        texts += [data.decode("utf-8", "replace") for _, data in message.attachments]
    return texts


def assert_nothing_leaks(texts: list[str], secret_values: list[str]) -> None:
    for position, text in enumerate(texts):
        for value in secret_values:
            assert value not in text, f"secret {value[:6]}… found in item {position}: {text[:300]}"


def exception_texts(error: BaseException | None) -> list[str]:
    """An exception as text, with every exception it chains to and its formatted traceback."""
    texts: list[str] = []
    while error is not None:
        texts += [str(error), repr(error), *map(str, vars(error).values())]
        texts.append("".join(traceback.format_exception(error)))
        error = error.__cause__ or error.__context__
    return texts


def echo_page(*secrets_shown: str, status: int = 200) -> Transform:
    """A proxy's or debug page's answer that quotes the request: its credentials and URL."""
    body = "<html><body><h1>Request rejected</h1><pre>" + "\n".join(secrets_shown)
    return raw((body + "</pre></body></html>").encode(), status=status)


async def test_no_secret_anywhere_a_run_leaves_a_trace(secret_stack, caplog):
    """Echoing answers are persistent (no retry hides them) and come from every system."""
    sandbox, name, ledger = secret_stack
    caplog.set_level(logging.DEBUG)
    magnus, ixc, discord = sandbox.tamper["magnus"], sandbox.tamper["ixc"], sandbox.discord
    basic = base64.b64encode(IXC_TOKEN.encode()).decode()
    states = []

    # 1. Answers cut in the middle of customer records (passwords in the part that arrives), and
    # an IXC that keeps answering a page echoing the Authorization header and the raw token:
    # every customer is a Skip whose reason quotes IXC's answer (decision table, run state,
    # errors alert on Discord).
    sandbox.magnus.faults.add(FaultKind.TRUNCATED_JSON, match="user/read", times=2)
    ixc.add(
        "cliente_contrato",
        echo_page(f"Authorization: Basic {basic}", f"token={IXC_TOKEN}", f"hash {IXC_TOKEN}"),
    )
    states.append(await run(name, ledger, **NO_GUARD))
    assert states[-1].is_failed() and "leitura do IXC falhou" in states[-1].message
    ixc.rules.clear()

    # 2. Every save keeps failing with pages that quote the API key, the signature and a
    # customer's password (nothing is written), and the changes webhook keeps refusing with a
    # page that echoes its own URL: failed changes and unsent messages quote those answers.
    echoed_save = echo_page(
        f"<h1>CDbException</h1>password={CUSTOMER_PASSWORD} Key: {MAGNUS_KEY}",
        f"Sign: {MAGNUS_SECRET}",
        status=500,
    )
    magnus.add(r"user/save\?[^\n]*\n.*id=\d*[02468]&", echoed_save, run_app=False)
    weak_password = {"success": False, "errors": {"password": [f"{CUSTOMER_PASSWORD} is weak"]}}
    magnus.add(r"user/save", raw(json.dumps(weak_password).encode()), run_app=False)
    webhook_url = sandbox.discord.url(sandbox.urls["discord"], CHANGES[0])
    discord_tamper = sandbox.tamper["discord"]
    discord_tamper.add(
        f"/webhooks/{CHANGES[0]}/",
        echo_page(f"POST {webhook_url}?wait=true", f"url={webhook_url}", status=400),
        run_app=False,
    )
    states.append(await run(name, ledger, **NO_GUARD))
    assert states[-1].is_failed() and "alteração(ões) falharam" in states[-1].message
    magnus.rules.clear()
    discord_tamper.rules.clear()

    # 3. A run that writes and announces everything (a connection reset on the way).
    discord.faults.add(FaultKind.CONNECTION_RESET, match="webhooks", times=1)
    states.append(await run(name, ledger, **NO_GUARD))
    assert sandbox.messages_to(CHANGES), "announcements were sent"
    # 4. A run whose Discord changes webhook is gone (404) and whose errors webhook refuses.
    discord.webhooks[CHANGES[0]] = "rotated"
    states.append(await run(name, ledger, **NO_GUARD))
    discord.webhooks[CHANGES[0]] = CHANGES[1]
    # 5. A run that dies on refused credentials (an exception ends it).
    sandbox.magnus.api_keys.clear()
    states.append(await run(name, ledger, **NO_GUARD))
    assert states[-1].is_failed()
    await asyncio.sleep(1.0)

    texts: list[str] = []
    for state in states:
        texts += await everything_a_run_left(state.state_details.flow_run_id)
        texts.append(state.message or "")
        outcome = await state.aresult(raise_on_failure=False)
        texts += [str(outcome), repr(outcome)]
        if isinstance(outcome, BaseException):
            texts += exception_texts(outcome)
    texts += discord_texts(sandbox)
    texts += [record.getMessage() for record in caplog.records]
    for record in caplog.records:
        if record.exc_info:
            texts += exception_texts(record.exc_info[1])
    texts.append(ledger.read_bytes().decode("utf-8", "replace"))
    wal = ledger.with_name(ledger.name + "-wal")
    if wal.exists():
        texts.append(wal.read_bytes().decode("utf-8", "replace"))

    assert any(r.name == "httpx" for r in caplog.records), "httpx request logs were captured"
    errors_alerts = " ".join(json.dumps(m.payload) for m in sandbox.messages_to(ERRORS))
    assert "leitura do IXC falhou" in errors_alerts, "the echoing IXC reason reached Discord"
    for shown in ("Authorization: ***", "Key: ***", "password: ***", "message refused"):
        assert any(shown in text for text in texts), f"the echo path was taken: {shown}"
    assert_nothing_leaks(texts, secrets(sandbox))


class EchoingGateway(httpx.AsyncBaseTransport):
    """A gateway (or a proxy before it) that answers every request with a page quoting it."""

    def __init__(self, status: int, as_json: bool) -> None:
        self.status, self.as_json = status, as_json
        self.requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        headers = "\n".join(f"{k}: {v}" for k, v in request.headers.items())
        echo = f"{headers}\n{request.method} {request.url}\n{request.content.decode()}"
        if self.as_json:
            return httpx.Response(self.status, json={"message": echo, "errors": {"x": [echo]}})
        return httpx.Response(self.status, text=f"<html><pre>{echo}</pre></html>")


@pytest.mark.parametrize(
    ("status", "as_json"), [(400, True), (401, True), (422, True), (500, False), (200, False)]
)
async def test_no_gateway_secret_or_card_reaches_rec_log_sync(
    tmp_path: Path, caplog, status: int, as_json: bool
):
    """subscription-events: the gym staff read `rec_log_sync`; an echoing gateway must not put
    the `sk_` key, its Basic-auth form or the card there (persistently, every attempt)."""
    caplog.set_level(logging.DEBUG)
    engine = create_engine(f"sqlite:///{tmp_path / 'gym.db'}")
    create_schema(engine)
    cipher = FernetCardCipher(SecretStr(Fernet.generate_key().decode()))
    gym = GymErp(engine, cipher)
    gym.member(1, "Ana Lima")
    guids = [gym.event("A_N", 100), gym.event("CLI_E", 1)]
    gateway = EchoingGateway(status, as_json)
    client = MundipaggClient(
        "http://mundipagg.test/core/v1",
        MUNDIPAGG_KEY,
        transport=gateway,
    )
    erp = ErpDatabase(engine, clock=Clock())
    async with client:
        services = Services(erp, client, cipher, Clock())
        lanes = await plan_pending(erp, (await read_queue(erp, 100)).events)
        results = [r for lane in lanes for r in await process_lane(lane, services)]
    erp.dispose()
    assert gateway.requests >= 1
    assert {r.status for r in results if r.id_guid in guids} >= {"E"}
    with engine.connect() as connection:
        logged = [dict(row._mapping) for row in connection.execute(select(sync_log))]
        stored = [dict(row._mapping) for row in connection.execute(select(events))]
    engine.dispose()
    assert logged, "the failures were logged for the staff"
    texts = [json.dumps(row, default=str) for row in logged + stored]
    texts += [r.description for r in results]
    texts += [record.getMessage() for record in caplog.records]
    basic = base64.b64encode(f"{MUNDIPAGG_KEY}:".encode()).decode()
    assert_nothing_leaks(texts, [MUNDIPAGG_KEY, basic, TEST_CARD_NUMBER])


def test_blocks_keep_secrets_out_of_their_repr(secret_stack):
    sandbox, name, _ = secret_stack
    for block in (MagnusBilling.load(name), Ixc.load(name), Discord.load(name)):
        assert_nothing_leaks([repr(block), str(block)], secrets(sandbox))
        assert any(isinstance(value, SecretStr) for value in vars(block).values())
