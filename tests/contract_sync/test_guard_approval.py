"""The mass-change guard for real, through Prefect: pause with a form, approve / reject / time out.

The flow runs as a task of the test's event loop; the test waits until Prefect shows the run
PAUSED, reads the form the operator would see, and resumes the run with input the way the UI
does (`resume_flow_run(run_input=...)`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.flow_runs import aresume_flow_run
from sync_helpers import (
    Stack,
    actives,
    announced_usernames,
    block_names,
    save_fast_blocks,
    stack,
    unique,
    wait_for_flow_run,
)

from flows.contract_sync import contract_sync
from sandbox.stack import ERRORS_WEBHOOK
from sandbox.world import synthetic_provider

pytestmark = pytest.mark.prefect

GUARDED = {"max_harmful_share": 0.5, "max_harmful_count": 1, "approval_poll_seconds": 1}


@pytest.fixture
def guarded(prefect_harness: None, tmp_path: Path) -> Iterator[tuple[Stack, str, Path]]:
    provider = synthetic_provider(customers=40, contracts=60, drift=0.4, seed=5)
    with stack(provider) as sandbox:
        sandbox.drifted = provider.drifted  # type: ignore[attr-defined]
        name = unique("guard")
        save_fast_blocks(sandbox, name)
        yield sandbox, name, tmp_path / "ledger.sqlite3"


def harmful(sandbox: Stack) -> int:
    drifted = sandbox.drifted  # type: ignore[attr-defined]
    return sum(1 for action in drifted.values() if action in ("block", "disable"))


def alerts(sandbox: Stack) -> list[str]:
    return [
        embed["title"] + " | " + embed.get("description", "")
        for message in sandbox.messages_to(ERRORS_WEBHOOK)
        for embed in message.payload.get("embeds", [])
    ]


async def start_paused(sandbox: Stack, name: str, ledger: Path, **extra):
    run_name = unique("paused")
    running = asyncio.create_task(
        contract_sync.with_options(flow_run_name=run_name)(
            **block_names(name), ledger_path=str(ledger), **GUARDED, **extra, return_state=True
        )
    )
    flow_run = await wait_for_flow_run(run_name, "PAUSED")
    return running, flow_run


async def test_approval_applies_the_changes_after_showing_counts_and_a_sample(guarded):
    sandbox, name, ledger = guarded
    assert harmful(sandbox) > 1, "the provider must need approval"
    before = actives(sandbox)
    running, flow_run = await start_paused(sandbox, name, ledger)

    assert sandbox.magnus.saves == 0, "nothing is written while waiting for approval"
    assert any("approval needed" in alert for alert in alerts(sandbox)), alerts(sandbox)
    keyset = flow_run.state.state_details.run_input_keyset
    async with get_client() as client:
        form = json.loads(await client.read_flow_run_input(flow_run.id, keyset["description"]))
        schema = json.loads(await client.read_flow_run_input(flow_run.id, keyset["schema"]))
    assert f"{harmful(sandbox)} blocks/disables planned" in form
    assert "| action | customer | username | contract | reason |" in form
    some_user = sandbox.magnus.users[sorted(sandbox.drifted)[0]]["username"]  # type: ignore[attr-defined]
    assert some_user in form
    assert {"approve", "note"} <= set(schema["properties"])

    await aresume_flow_run(flow_run.id, run_input={"approve": True, "note": "checked IXC"})
    state = await asyncio.wait_for(running, 60)
    assert state.is_completed(), state.message
    after = actives(sandbox)
    assert {uid for uid in after if after[uid] != before[uid]} == set(sandbox.drifted)  # type: ignore[attr-defined]
    assert len(announced_usernames(sandbox)) == len(sandbox.drifted)  # type: ignore[attr-defined]


async def test_rejection_writes_nothing_and_alerts(guarded):
    sandbox, name, ledger = guarded
    before = actives(sandbox)
    running, flow_run = await start_paused(sandbox, name, ledger)
    await aresume_flow_run(flow_run.id, run_input={"approve": False, "note": "IXC looks wrong"})
    state = await asyncio.wait_for(running, 60)
    assert state.is_failed()
    assert "rejected by operator (IXC looks wrong)" in state.message
    assert actives(sandbox) == before
    assert sandbox.magnus.saves == 0
    assert announced_usernames(sandbox) == []
    await asyncio.sleep(0.5)  # on_failure hooks run after the state is set
    assert any("Failed" in alert and "rejected" in alert for alert in alerts(sandbox)), alerts(
        sandbox
    )


async def test_no_answer_before_the_timeout_writes_nothing_and_alerts(guarded):
    sandbox, name, ledger = guarded
    before = actives(sandbox)
    state = await contract_sync(
        **block_names(name),
        ledger_path=str(ledger),
        **GUARDED,
        approval_timeout_seconds=2,
        return_state=True,
    )
    assert state.is_failed()
    assert "no approval within 2 s" in state.message
    assert actives(sandbox) == before
    assert sandbox.magnus.saves == 0
    await asyncio.sleep(0.5)
    assert any("approval needed" in alert for alert in alerts(sandbox))
    assert any("Failed" in alert and "no approval" in alert for alert in alerts(sandbox))


async def test_unattended_runs_abort_with_an_alert_instead_of_pausing(guarded):
    sandbox, name, ledger = guarded
    before = actives(sandbox)
    state = await contract_sync(
        **block_names(name), ledger_path=str(ledger), **GUARDED, unattended=True, return_state=True
    )
    assert state.is_failed()
    assert actives(sandbox) == before
    assert sandbox.magnus.saves == 0
    await asyncio.sleep(0.5)
    assert any("mass change aborted" in alert for alert in alerts(sandbox)), alerts(sandbox)


async def test_below_the_limit_nothing_pauses(guarded):
    sandbox, name, ledger = guarded
    limit = {**GUARDED, "max_harmful_count": harmful(sandbox)}
    state = await contract_sync(
        **block_names(name), ledger_path=str(ledger), **limit, return_state=True
    )
    assert state.is_completed(), state.message
    assert not any("approval" in alert for alert in alerts(sandbox))
