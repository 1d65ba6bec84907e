"""contract-sync end to end: through Prefect, over HTTP, against the sandbox.

The synthetic provider knows which customers drifted and how (`Provider.drifted`), which gives
an oracle independent of the flow's own decision code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import LogFilter
from prefect.logging.handlers import APILogHandler
from sync_helpers import SAVE_COST_SCALE

from contract_sync.decide import CHANGES, Action
from contract_sync.outcome import Result
from flows.contract_sync import contract_sync
from sandbox.stack import (
    CHANGES_WEBHOOK,
    SandboxStack,
    decision_rows,
    run_artifact,
    running_stack,
)
from sandbox.world import demo_provider, synthetic_provider

pytestmark = pytest.mark.prefect

TARGET = {"block": {4}, "unblock": {1}, "disable": {0}, "enable": {1}}
NO_GUARD = {"max_harmful_share": 1.0, "max_harmful_count": 100_000}
# Prefect's own lines in a run's logs (English, not ours to translate).
PREFECT_OWN_LINES = ("Beginning flow run", "View at", "Finished in state", "Created task run")


@pytest.fixture
def synthetic(prefect_harness: None) -> Iterator[SandboxStack]:
    provider = synthetic_provider(customers=300, contracts=600, drift=0.05, seed=11)
    with running_stack(provider, seed=3, save_cost_scale=SAVE_COST_SCALE) as stack:
        stack.save_blocks()
        yield stack


@pytest.fixture
def every_combination(prefect_harness: None) -> Iterator[SandboxStack]:
    with running_stack(demo_provider(), save_cost_scale=SAVE_COST_SCALE) as stack:
        stack.save_blocks()
        yield stack


def actives(stack: SandboxStack) -> dict[int, int]:
    return {user_id: int(user["active"]) for user_id, user in stack.magnus.users.items()}


async def run(**parameters: Any):
    return await contract_sync(**parameters, return_state=True)


async def decisions(state) -> list[dict[str, Any]]:
    return await decision_rows(state.state_details.flow_run_id)


async def summary(state) -> str:
    return await run_artifact(state.state_details.flow_run_id, "contract-sync-summary")


async def test_drifted_customers_end_in_the_right_status_and_a_second_run_changes_nothing(
    synthetic: SandboxStack,
):
    before = actives(synthetic)
    state = await run(**NO_GUARD)
    assert state.is_completed(), state.message
    after = actives(synthetic)
    changed = {uid for uid in after if after[uid] != before[uid]}
    assert changed == set(synthetic.drifted)
    for uid, action in synthetic.drifted.items():
        assert after[uid] in TARGET[action], (uid, action, before[uid], after[uid])

    saves = synthetic.magnus.saves
    messages = len(synthetic.discord.messages)
    second = await run(**NO_GUARD)
    assert second.is_completed()
    assert actives(synthetic) == after
    assert synthetic.magnus.saves == saves
    assert len(synthetic.discord.messages) == messages
    assert "0 bloqueio(s), 0 desbloqueio(s), 0 desativação(ões), 0 ativação(ões)" in second.message


async def test_dry_run_writes_nothing_and_sends_nothing_but_reports_the_plan(
    synthetic: SandboxStack,
):
    before = actives(synthetic)
    state = await run(dry_run=True, **NO_GUARD)
    assert state.is_completed()
    assert actives(synthetic) == before
    assert synthetic.magnus.saves == 0
    assert synthetic.discord.messages == []
    planned = {row["username"] for row in await decisions(state) if row["result"] == Result.PLANNED}
    drifted_usernames = {synthetic.magnus.users[uid]["username"] for uid in synthetic.drifted}
    assert planned == drifted_usernames


async def test_a_dry_run_says_so_in_the_runs_list_and_a_real_run_does_not(
    synthetic: SandboxStack,
):
    dry = await run(dry_run=True, **NO_GUARD)
    real = await run(**NO_GUARD)
    async with get_client() as client:
        dry_run = await client.read_flow_run(dry.state_details.flow_run_id)
        real_run = await client.read_flow_run(real.state_details.flow_run_id)
    assert dry_run.name.endswith("-simulação") and "simulação" in dry_run.tags
    assert "simulação" not in real_run.name and "simulação" not in real_run.tags


async def test_usernames_limit_the_run_to_those_customers(synthetic: SandboxStack):
    chosen = sorted(synthetic.drifted)[:2]
    usernames = [synthetic.magnus.users[uid]["username"] for uid in chosen]
    before = actives(synthetic)
    state = await run(usernames=usernames, **NO_GUARD)
    assert state.is_completed(), state.message
    after = actives(synthetic)
    assert {uid for uid in after if after[uid] != before[uid]} == set(chosen)


async def test_notifications_name_each_change(synthetic: SandboxStack):
    state = await run(**NO_GUARD)
    assert state.is_completed()
    embeds = [
        e for m in synthetic.messages_to(CHANGES_WEBHOOK) for e in m.payload.get("embeds", [])
    ]
    titled = [
        e
        for e in embeds
        if e["title"].split(":")[0] in {"Bloqueio", "Desbloqueio", "Desativação", "Ativação"}
    ]
    assert len(titled) == len(synthetic.drifted)
    uid = sorted(synthetic.drifted)[0]
    user = synthetic.magnus.users[uid]
    [embed] = [e for e in titled if any(f["value"] == user["username"] for f in e["fields"])]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Contrato"] == str(user["dist"]).strip()
    assert fields["Novo status"].startswith(str(user["active"]))
    assert all(len(m.payload.get("embeds", [])) <= 10 for m in synthetic.discord.messages)


async def test_the_runs_own_log_lines_are_in_the_operators_language(synthetic: SandboxStack):
    state = await run(**NO_GUARD)
    assert state.is_completed()
    await APILogHandler.aflush()
    async with get_client() as client:
        logs = await client.read_logs(
            LogFilter(flow_run_id={"any_": [state.state_details.flow_run_id]}), limit=200, offset=0
        )
    ours = [log.message for log in logs if not log.message.startswith(PREFECT_OWN_LINES)]
    assert any(line.startswith("Bloqueio ") and ": status 1 -> 4" in line for line in ours)
    assert any("clientes lidos do MagnusBilling" in line for line in ours)
    assert any("contratos lidos do IXC (por id)" in line for line in ours)
    raw_names = {str(a) for a in Action} | {str(r) for r in Result}
    raw = [line for line in ours for name in raw_names if re.search(rf"\b{name}\b", line)]
    assert raw == []
    assert not [line for line in ours if re.search(r"\b(Read|writes|Not writing)\b", line)]


async def test_a_large_change_set_stops_unattended_runs_before_any_write(synthetic: SandboxStack):
    before = actives(synthetic)
    state = await run(unattended=True, max_harmful_share=0.001, max_harmful_count=1)
    assert state.is_failed()
    assert "execução sem supervisão, abortada" in state.message
    assert actives(synthetic) == before
    assert synthetic.magnus.saves == 0
    assert "Parou antes de gravar" in await summary(state)


async def test_every_status_combination_of_the_demo_provider(every_combination: SandboxStack):
    stack = every_combination
    before = actives(stack)
    state = await run(**NO_GUARD)
    assert state.is_completed(), state.message
    rows = {row["username"]: row for row in await decisions(state)}
    after = actives(stack)
    for user_id, user in stack.magnus.users.items():
        row = rows[user["username"]]
        if row["action"] in CHANGES:
            assert row["result"] == Result.APPLIED
            assert str(after[user_id]) == row["magnus_after"]
        else:
            assert after[user_id] == before[user_id], row
    skipped = [row for row in rows.values() if row["action"] == Action.SKIP]
    reasons = " | ".join(row["reason"] for row in skipped)
    for expected in (
        "não encontrado no IXC",
        "não está entre 0 e 4",
        "não é um id de contrato válido",
        "não correspondem a um status",
    ):
        assert expected in reasons
    assert any("usado também por outro cliente" in row["reason"] for row in rows.values())
    assert rows["root"]["action"] == Action.NOT_MANAGED
