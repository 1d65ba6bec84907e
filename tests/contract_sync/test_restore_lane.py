"""The restore lane (contract-restore) against the sandbox: it reads only the customers who are
blocked or inactive, writes only Unblocks and Enables - never a Block or Disable, even when IXC
says so or Magnus hands it an active customer - with holds, history, ledger and Discord as the
hourly run; a run with nothing to do sends nothing; it restores while an hourly run holds the
hourly lock, and two restore runs never both act."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from uuid import uuid4

import pandas as pd
import pytest
from sync_helpers import (
    NO_GUARD,
    Stack,
    actives,
    announced_usernames,
    block_names,
    change_embeds,
    json_rewrite,
    progress_artifact,
    save_fast_blocks,
    stack,
    unique,
)

from blocks.ixc.models import IxcContract, IxcStatusMapping
from blocks.magnusbilling.models import MagnusUser
from contract_sync.decide import Action
from contract_sync.plan import build_plan, planned_changes
from contract_sync.records.store import Records, sqlite_url
from contract_sync.restore import restores_in, restores_only
from flows.contract_restore import contract_restore
from flows.contract_sync import contract_sync
from sandbox.stack import CHANGES_WEBHOOK, run_artifact
from sandbox.world import synthetic_provider
from tasks.contract_sync.records import RECORDS_FILENAME
from tasks.contract_sync.run_lock import RESTORE_FLOW_NAME, one_run_at_a_time

RESTORE_TITLES = {"Desbloqueio", "Ativação"}


class Recorder:
    """ASGI wrapper keeping the form fields of every request the Magnus emulator receives."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.forms: list[dict[str, str]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        self.forms.append({"path": scope["path"], **form})
        delivered = False

        async def replay() -> Any:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def read_filters(self) -> list[list[dict[str, Any]]]:
        return [json.loads(f["filter"]) for f in self.forms if f["path"].endswith("/user/read")]


@pytest.fixture
def lane(prefect_harness: None, tmp_path: Path) -> Iterator[tuple[Stack, str, Path, Recorder]]:
    synthetic = synthetic_provider(customers=60, contracts=80, drift=0.4, seed=11)
    with stack(synthetic) as sandbox:
        recorder = Recorder(sandbox.magnus.app)
        sandbox.tamper["magnus"].app = recorder
        name = unique("restore")
        save_fast_blocks(sandbox, name)
        yield sandbox, name, tmp_path / "ledger.sqlite3", recorder
        assert (sandbox.magnus.overlapping_saves, sandbox.magnus.torn_reloads) == (0, 0)


def drifted(sandbox: Stack, *actions: str) -> list[int]:
    return sorted(uid for uid, what in sandbox.drifted.items() if what in actions)


async def restore(name: str, ledger: Path, **parameters: Any) -> Any:
    return await contract_restore(
        **block_names(name), ledger_path=str(ledger), **parameters, return_state=True
    )


async def decisions(state: Any) -> dict[str, dict[str, str]]:
    data = await run_artifact(state.state_details.flow_run_id, "contract-restore-decisions")
    return {row["usuário"]: row for row in json.loads(data)}


def is_only_not_active(filters: list[dict[str, Any]]) -> bool:
    """A listing read restricted to active < 1 or active > 1, or one customer by id."""
    numeric_first = filters[0]["type"] == "numeric"
    by_id = any(f["field"] == "id" and f["comparison"] == "eq" for f in filters)
    not_active = any(
        f["field"] == "active" and f["comparison"] in ("lt", "gt") and f["value"] == 1
        for f in filters
    )
    return numeric_first and (by_id or not_active)


pytestmark = pytest.mark.prefect


async def test_the_lane_reads_only_blocked_or_inactive_customers_and_writes_only_restores(lane):
    sandbox, name, ledger, recorder = lane
    before = actives(sandbox)
    restores = drifted(sandbox, "unblock", "enable")
    harmful = drifted(sandbox, "block", "disable")
    assert restores and harmful, "the provider must have both kinds"

    state = await restore(name, ledger)

    assert state.is_completed(), state.message
    assert all(is_only_not_active(f) for f in recorder.read_filters()), recorder.read_filters()
    after = actives(sandbox)
    assert {uid: after[uid] for uid in restores} == dict.fromkeys(restores, 1)
    assert {uid: after[uid] for uid in harmful} == {uid: before[uid] for uid in harmful}
    changed = {uid for uid in after if after[uid] != before[uid]}
    assert changed == set(restores)
    saves = [f for f in recorder.forms if f["path"].endswith("/user/save")]
    assert {f["active"] for f in saves} == {"1"} and len(saves) == len(restores)
    embeds = change_embeds(sandbox)
    assert {e["title"].split(":")[0] for e in embeds} == RESTORE_TITLES
    assert len(embeds) == len(restores)
    summaries = [
        embed["title"]
        for message in sandbox.messages_to(CHANGES_WEBHOOK)
        for embed in message.payload.get("embeds", [])
        if embed["title"].startswith("contract-")
    ]
    assert summaries == ["contract-restore (religamento)"]
    progress = await progress_artifact(state.state_details.flow_run_id, RESTORE_FLOW_NAME)
    assert progress.key == "contract-restore-writing", "not the hourly run's progress key"

    rows = await decisions(state)
    for uid in drifted(sandbox, "disable"):
        user = sandbox.magnus.users[uid]
        if before[uid] == 1:
            assert user["username"] not in rows, "an active customer is not even read"
            continue
        row = rows[user["username"]]
        assert row["ação"] == "Sem alteração"
        assert row["motivo"].startswith("Desativação fica para a execução de hora em hora")
    records = Records(sqlite_url(ledger.with_name(RECORDS_FILENAME)))
    restored = sandbox.magnus.users[restores[0]]
    entries, _ = records.history_of(
        sandbox.urls["magnus"], magnus_id=restores[0], username=restored["username"]
    )
    records.close()
    assert [(e.action in (Action.UNBLOCK, Action.ENABLE), e.magnus_after) for e in entries] == [
        (True, 1)
    ]


async def test_a_run_with_nothing_to_restore_makes_a_handful_of_requests_and_sends_nothing(lane):
    sandbox, name, ledger, recorder = lane
    assert (await restore(name, ledger)).is_completed()
    messages = len(sandbox.discord.messages)
    recorder.forms.clear()
    sandbox.ixc.reset_counters()

    state = await restore(name, ledger)

    assert state.is_completed(), state.message
    assert len(sandbox.discord.messages) == messages, "nothing restored: no Discord message"
    assert len(recorder.forms) == 2, "one read of each side of active 1, no save"
    assert sandbox.ixc.requests <= 3, sandbox.ixc.counts


async def test_a_held_customer_is_not_restored_and_the_others_are(lane):
    sandbox, name, ledger, _ = lane
    held_uid, other_uid = drifted(sandbox, "unblock", "enable")[:2]
    held = sandbox.magnus.users[held_uid]["username"]
    records = Records(sqlite_url(ledger.with_name(RECORDS_FILENAME)))
    records.add_hold(held, "cliente em disputa", "maria")
    records.close()
    blocked = sandbox.magnus.user(held_uid)["active"]

    state = await restore(name, ledger)

    assert state.is_completed(), state.message
    assert sandbox.magnus.user(held_uid)["active"] == blocked
    assert sandbox.magnus.user(other_uid)["active"] == 1
    assert (await decisions(state))[held]["ação"] == "Retido"
    assert held not in announced_usernames(sandbox)
    messages = len(sandbox.discord.messages)
    again = await restore(name, ledger)
    assert again.is_completed(), again.message
    assert sandbox.magnus.user(held_uid)["active"] == blocked
    assert len(sandbox.discord.messages) == messages, "still held, nothing restored: silent"


async def test_a_server_that_ignores_the_active_filter_gets_no_write(lane):
    """Magnus answering every customer (the filter not applied) would show the lane active
    customers IXC blocked: the read is refused and nothing is written."""
    sandbox, name, ledger, _ = lane
    everyone = [sandbox.magnus.user(uid) for uid in sorted(sandbox.magnus.users)]

    def all_users(answer: dict[str, Any]) -> dict[str, Any]:
        return {"rows": everyone, "count": len(everyone), "sum": []}

    sandbox.tamper["magnus"].add("field%22%3A%22active", json_rewrite(all_users))
    state = await restore(name, ledger)

    assert state.is_failed()
    assert "the active filter was not applied" in state.message
    assert sandbox.magnus.saves == 0


async def test_the_lane_restores_while_an_hourly_run_holds_its_lock(lane):
    sandbox, name, ledger, _ = lane
    async with one_run_at_a_time(sandbox.urls["magnus"], uuid4()):  # a long hourly run
        state = await restore(name, ledger)
    assert state.is_completed(), state.message
    assert all(sandbox.magnus.user(uid)["active"] == 1 for uid in drifted(sandbox, "unblock"))


async def test_a_restore_run_beside_an_hourly_run_that_writes_never_saves_at_the_same_time(lane):
    """Both flows at once on one Magnus server, saves slowed down: every change is made, and the
    emulator saw no two saves in flight (checked by the fixture): they share the save lock."""
    sandbox, name, ledger, _ = lane
    sandbox.magnus.sip_accounts = 2_000  # ~0.1 s a save at the tests' scale
    hourly, restoring = await asyncio.gather(
        contract_sync(**block_names(name), ledger_path=str(ledger), **NO_GUARD, return_state=True),
        restore(name, ledger),
    )
    assert hourly.is_completed(), hourly.message
    assert restoring.is_completed(), restoring.message
    after = actives(sandbox)
    assert all(after[uid] == 1 for uid in drifted(sandbox, "unblock", "enable"))
    assert all(after[uid] == 4 for uid in drifted(sandbox, "block"))
    assert all(after[uid] == 0 for uid in drifted(sandbox, "disable"))


async def test_two_restore_runs_never_both_act(lane):
    sandbox, name, ledger, _ = lane
    async with one_run_at_a_time(sandbox.urls["magnus"], uuid4(), flow_name=RESTORE_FLOW_NAME):
        state = await restore(name, ledger)
    assert state.is_completed() and state.name == "Pulada", state
    assert "outra execução de contract-restore" in state.message
    assert sandbox.magnus.saves == 0 and sandbox.discord.messages == []


def test_restores_only_never_lets_a_block_or_disable_through() -> None:
    users = [
        MagnusUser(id=n, username=f"u{n}", active=active, contract_ref=str(n), name="", document="")
        for n, active in ((2, 1), (3, 4), (4, 0), (5, 4))
    ]
    contracts = {
        2: IxcContract(id=2, customer_id=2, status="A", status_internet="CA"),  # Block
        3: IxcContract(id=3, customer_id=3, status="D", status_internet="D"),  # Disable
        4: IxcContract(id=4, customer_id=4, status="A", status_internet="A"),  # Enable
        5: IxcContract(id=5, customer_id=5, status="A", status_internet="A"),  # Unblock
    }
    plan = build_plan(users, contracts, {}, IxcStatusMapping(), 4)
    assert list(plan["action"]) == [Action.BLOCK, Action.DISABLE, Action.ENABLE, Action.UNBLOCK]

    left = restores_only(plan, "en")

    assert list(left["action"]) == [
        Action.NO_CHANGE,
        Action.NO_CHANGE,
        Action.ENABLE,
        Action.UNBLOCK,
    ]
    assert left["reason"].iloc[1].startswith("Disable is left to the hourly run")
    assert pd.isna(left["target_active"].iloc[0])
    assert [c.magnus_id for c in planned_changes(left)] == [4, 5]
    assert [c.action for c in restores_in(planned_changes(plan))] == [
        Action.ENABLE,
        Action.UNBLOCK,
    ]
