"""Holds through Prefect, against the sandbox: a held customer is never written - not by the
plan, not after an approval, not by a retried write - and a hold that expires mid-series stops
holding by itself, with the report saying so once. A malformed holds list stops the run at
its start, before anything is read or written."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from prefect.flow_runs import aresume_flow_run
from prefect_runs import finished
from sqlalchemy import insert
from sync_helpers import (
    NO_GUARD,
    Stack,
    actives,
    announced_usernames,
    block_names,
    run,
    save_fast_blocks,
    stack,
    unique,
    wait_for_flow_run,
)
from test_holds import NOW

from clock import frozen
from contract_sync.records.store import Records, holds, sqlite_url
from flows.contract_sync import contract_sync
from sandbox.stack import CHANGES_WEBHOOK, run_artifact
from sandbox.world import synthetic_provider
from tasks.contract_sync.records import RECORDS_FILENAME

pytestmark = pytest.mark.prefect


@pytest.fixture
def provider(prefect_harness: None, tmp_path: Path) -> Iterator[tuple[Stack, str, Path]]:
    synthetic = synthetic_provider(customers=40, contracts=60, drift=0.3, seed=7)
    with stack(synthetic) as sandbox, frozen(NOW):
        name = unique("holds")
        save_fast_blocks(sandbox, name)
        yield sandbox, name, tmp_path / "ledger.sqlite3"


def records_beside(ledger: Path) -> Records:
    """The records database a run with this ledger path uses (no `records_block`)."""
    return Records(sqlite_url(ledger.with_name(RECORDS_FILENAME)))


def drifted(sandbox: Stack, action: str) -> list[int]:
    return sorted(uid for uid, what in sandbox.drifted.items() if what == action)


def username(sandbox: Stack, uid: int) -> str:
    return sandbox.magnus.users[uid]["username"]


async def decisions(state: Any) -> dict[str, dict[str, str]]:
    data = await run_artifact(state.state_details.flow_run_id, "contract-sync-decisions")
    rows = json.loads(data)
    return {row["usuário"]: row for row in rows}


async def summary(state: Any) -> str:
    return await run_artifact(state.state_details.flow_run_id, "contract-sync-summary")


def summaries_sent(sandbox: Stack) -> list[str]:
    return [
        embed.get("description", "")
        for message in sandbox.messages_to(CHANGES_WEBHOOK)
        for embed in message.payload.get("embeds", [])
        if embed.get("title") == "contract-sync"
    ]


async def test_a_hold_that_expires_mid_series_holds_then_lets_the_sync_decide(provider):
    sandbox, name, ledger = provider
    held_uid, other_uid = drifted(sandbox, "block")[:2]
    held = username(sandbox, held_uid)
    records = records_beside(ledger)
    records.add_hold(held, "negociação de dívida", "maria", NOW + timedelta(minutes=90))

    with frozen(NOW) as clock:
        first = await run(name, ledger, **NO_GUARD)
        assert first.is_completed(), first.message
        assert sandbox.magnus.user(held_uid)["active"] == 1, "held: not blocked"
        assert sandbox.magnus.user(other_uid)["active"] == 4, "the others are changed"
        assert held not in announced_usernames(sandbox)
        assert first.message.endswith("; 1 retido(s)")
        row = (await decisions(first))[held]
        assert row["ação"] == "Retido"
        assert row["resultado"] == "", "a held customer has no write outcome"
        assert row["motivo"].startswith("retido: negociação de dívida (por maria em")
        assert "sem a retenção: Bloqueio" in row["motivo"]
        assert "## Retidos (a sincronização não os altera)" in await summary(first)
        (sent,) = summaries_sent(sandbox)
        assert f"Retido: {sandbox.magnus.users[held_uid]['firstname']}" in sent
        assert f"({held}), seria Bloqueio" in sent

        saves = sandbox.magnus.saves
        clock.advance(hours=1)
        second = await run(name, ledger, **NO_GUARD)
        assert second.is_completed(), second.message
        assert sandbox.magnus.saves == saves, "still held an hour later: nothing written"
        assert (await decisions(second))[held]["ação"] == "Retido"

        clock.advance(hours=1)  # 30 minutes past the expiry
        third = await run(name, ledger, **NO_GUARD)
        assert third.is_completed(), third.message
        assert sandbox.magnus.user(held_uid)["active"] == 4, "the hold expired: blocked"
        assert (await decisions(third))[held]["ação"] == "Bloqueio"
        report = await summary(third)
        assert "## Retenções expiradas" in report
        assert f"a retenção de {held} expirou: negociação de dívida" in report
        assert any(f"a retenção de {held} expirou" in text for text in summaries_sent(sandbox))
        (ended,) = records.holds(include_ended=True)
        assert ended.ended_by == "contract-sync" and ended.ended_note.startswith("expirou")
        assert records.holds() == []

        fourth = await run(name, ledger, **NO_GUARD)
        assert fourth.is_completed(), fourth.message
        assert "expirou" not in await summary(fourth), "an expiry is reported once"
    records.close()


async def test_a_malformed_holds_list_stops_every_run_before_anything_is_read(provider):
    sandbox, name, ledger = provider
    records = records_beside(ledger)
    records.add_hold(username(sandbox, drifted(sandbox, "block")[0]), "parceiro", "maria")
    with records.engine.begin() as db:
        db.execute(
            insert(holds).values(
                username="100002",
                reason="",
                created_by="joão",
                created_at="2026-12-01T10:00:00+00:00",
                ended_note="",
            )
        )
    before, reads = actives(sandbox), sandbox.magnus.reads
    for dry_run in (False, True):
        state = await run(name, ledger, dry_run=dry_run, **NO_GUARD)
        assert state.is_failed()
        assert "a lista de retenções não pôde ser lida; nada foi alterado" in state.message
        assert "retenção 2 (usuário '100002'): campo reason" in state.message
    assert sandbox.magnus.reads == reads, "stopped before reading Magnus"
    assert actives(sandbox) == before and sandbox.magnus.saves == 0
    assert announced_usernames(sandbox) == []

    assert records.end_hold("100002", "ana", "linha corrigida") == 1
    fixed = await run(name, ledger, **NO_GUARD)
    assert fixed.is_completed(), fixed.message
    assert sandbox.magnus.saves == len(sandbox.drifted) - 1
    records.close()


async def test_a_hold_set_while_the_run_awaits_approval_is_not_written_when_approved(provider):
    sandbox, name, ledger = provider
    to_block = drifted(sandbox, "block")
    assert len(to_block) >= 2
    held_uid = to_block[0]
    run_name = unique("paused")
    guarded = {"max_harmful_count": 1, "approval_poll_seconds": 1}
    running = asyncio.create_task(
        contract_sync.with_options(flow_run_name=run_name)(
            **block_names(name), ledger_path=str(ledger), **guarded, return_state=True
        )
    )
    paused = await wait_for_flow_run(run_name, "PAUSED")
    records = records_beside(ledger)
    records.add_hold(username(sandbox, held_uid), "visto no formulário de aprovação", "maria")
    await aresume_flow_run(paused.id, run_input={"decision": "aprovar", "note": "ok"})
    state = await finished(running)

    assert state.is_completed(), state.message
    assert sandbox.magnus.user(held_uid)["active"] == 1, "held after the plan: not blocked"
    for uid in to_block[1:]:
        assert sandbox.magnus.user(uid)["active"] == 4
    row = (await decisions(state))[username(sandbox, held_uid)]
    assert row["resultado"].startswith("retida: o cliente está em retenção: retido durante")
    assert "visto no formulário de aprovação" in row["resultado"]
    assert username(sandbox, held_uid) not in announced_usernames(sandbox)
    records.close()


async def test_a_hold_set_between_a_writes_retries_stops_the_retry(provider):
    sandbox, name, ledger = provider
    held_uid = drifted(sandbox, "block")[0]
    held = username(sandbox, held_uid)
    beside = ledger.with_name(RECORDS_FILENAME)

    def hold_then_fail(_status: int, _body: bytes) -> tuple[int, bytes]:
        # An operator holds the customer while the first save is failing (it never arrives).
        late = Records(sqlite_url(beside))
        late.add_hold(held, "segurar já", "maria")
        late.close()
        return 503, b"<html>Service Unavailable</html>"

    rule = sandbox.tamper["magnus"].add(
        rf"user/save\?.*\n.*\bid={held_uid}&active=", hold_then_fail, times=1, run_app=False
    )
    state = await run(name, ledger, **NO_GUARD)

    assert rule.fired == 1
    assert state.is_completed(), state.message
    assert sandbox.magnus.user(held_uid)["active"] == 1, "the retry found the hold: not written"
    row = (await decisions(state))[held]
    assert row["resultado"].startswith("retida: o cliente está em retenção")
    assert held not in announced_usernames(sandbox)
