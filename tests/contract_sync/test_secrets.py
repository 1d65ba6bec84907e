"""Secrets stay secret: whole runs with known secret values, then a search for them everywhere.

The Magnus key and secret, the IXC token (and its Basic-auth form), both webhook URL tokens and
customer passwords carried by Magnus answers must not appear in: Python log records (every
logger, DEBUG and up, httpx included), the runs' Prefect logs, artifacts, flow parameters,
flow and task run state messages, the exceptions the runs end with, Discord payloads and files,
or the notification ledger. The runs go through the error paths on purpose: answers cut in the
middle of a customer record, error pages and validation errors that quote a password, refused
credentials, a Discord webhook that refuses messages.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
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
from sync_helpers import NO_GUARD, Stack, json_rewrite, raw, run, stack, unique

from blocks.discord.block import Discord
from blocks.ixc.block import Ixc
from blocks.magnusbilling.block import MagnusBilling
from sandbox.faults import FaultKind
from sandbox.magnusbilling import ApiKey
from sandbox.world import synthetic_provider

pytestmark = pytest.mark.prefect

MAGNUS_KEY = "mbkey-K3Y-7f1c9a"
MAGNUS_SECRET = "mbsecret-S3CR3T-88d2e0"
IXC_TOKEN = "42:ixc-T0K3N-hash-5b7e"
CHANGES = ("801", "chg-W3BH00K-t0ken-a1")
ERRORS = ("901", "err-W3BH00K-t0ken-b2")
CUSTOMER_PASSWORD = "pw-CUST0M3R-9931"


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
        sandbox.drifted = provider.drifted  # type: ignore[attr-defined]
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


async def test_no_secret_anywhere_a_run_leaves_a_trace(secret_stack, caplog):
    sandbox, name, ledger = secret_stack
    caplog.set_level(logging.DEBUG)
    magnus, ixc, discord = sandbox.tamper["magnus"], sandbox.tamper["ixc"], sandbox.discord
    # Answers cut in the middle of customer records (passwords in the part that arrives).
    sandbox.magnus.faults.add(FaultKind.TRUNCATED_JSON, match="user/read", times=2)
    # An error page and a validation error that quote a password and the API key.
    magnus.add(
        "user/save",
        raw(
            f"<h1>CDbException</h1><p>password={CUSTOMER_PASSWORD} key={MAGNUS_KEY}</p>".encode(),
            status=500,
        ),
        times=2,
    )
    magnus.add(
        "user/save",
        json_rewrite(
            lambda _: {
                "success": False,
                "errors": {"password": [f"{CUSTOMER_PASSWORD} is too weak"]},
            }
        ),
        times=1,
    )
    # IXC: an HTML page that echoes the Authorization header, then a type=error that quotes it.
    ixc.add(
        "cliente_contrato",
        raw(f"<html>Authorization: Basic {base64.b64encode(IXC_TOKEN.encode()).decode()}".encode()),
        times=1,
    )
    discord.faults.add(FaultKind.CONNECTION_RESET, match="webhooks", times=1)

    first = await run(name, ledger, **NO_GUARD)
    # a run whose Discord changes webhook is gone (404) and whose errors webhook refuses (401)
    discord.webhooks[CHANGES[0]] = "rotated"
    second = await run(name, ledger, **NO_GUARD)
    discord.webhooks[CHANGES[0]] = CHANGES[1]
    # a run that dies on refused credentials (an exception ends it)
    sandbox.magnus.api_keys.clear()
    third = await run(name, ledger, **NO_GUARD)
    assert third.is_failed()
    await asyncio.sleep(1.0)

    texts: list[str] = []
    for state in (first, second, third):
        texts += await everything_a_run_left(state.state_details.flow_run_id)
        texts.append(state.message or "")
        outcome = await state.aresult(raise_on_failure=False)
        texts += [str(outcome), repr(outcome)]
    texts += discord_texts(sandbox)
    texts += [record.getMessage() for record in caplog.records]
    texts += [str(record.exc_info[1]) for record in caplog.records if record.exc_info]
    texts.append(ledger.read_bytes().decode("utf-8", "replace"))
    wal = ledger.with_name(ledger.name + "-wal")
    if wal.exists():
        texts.append(wal.read_bytes().decode("utf-8", "replace"))

    assert sandbox.messages_to(CHANGES), "announcements were sent"
    assert any(r.name == "httpx" for r in caplog.records), "httpx request logs were captured"
    assert_nothing_leaks(texts, secrets(sandbox))


def test_blocks_keep_secrets_out_of_their_repr(secret_stack):
    sandbox, name, _ = secret_stack
    for block in (MagnusBilling.load(name), Ixc.load(name), Discord.load(name)):
        assert_nothing_leaks([repr(block), str(block)], secrets(sandbox))
        assert any(isinstance(value, SecretStr) for value in vars(block).values())
