"""The mass-change guard for real, through Prefect: pause with a form, approve / reject / time out.

The flow runs as a task of the test's event loop; the test waits until Prefect shows the run
PAUSED, reads the form the operator would see, and resumes the run with input the way the UI
does (`resume_flow_run(run_input=...)`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import LogFilter
from prefect.flow_runs import aresume_flow_run
from prefect.logging.handlers import APILogHandler
from prefect_runs import PATIENCE_SECONDS, eventually, finished
from sync_helpers import (
    Stack,
    actives,
    announced_usernames,
    block_names,
    execute_here,
    save_fast_blocks,
    stack,
    start_as_deployment,
    unique,
    wait_for_flow_run,
)

from blocks.discord.block import Discord
from contract_sync.outcome import Result
from deployments import approve as approve_command
from flows.contract_sync import contract_sync
from sandbox.stack import ERRORS_WEBHOOK, decision_rows, run_artifact
from sandbox.world import synthetic_provider

pytestmark = pytest.mark.prefect

GUARDED = {"max_harmful_share": 0.5, "max_harmful_count": 1, "approval_poll_seconds": 1}


@pytest.fixture
def guarded(prefect_harness: None, tmp_path: Path) -> Iterator[tuple[Stack, str, Path]]:
    provider = synthetic_provider(customers=40, contracts=60, drift=0.4, seed=5)
    with stack(provider) as sandbox:
        name = unique("guard")
        save_fast_blocks(sandbox, name)
        yield sandbox, name, tmp_path / "ledger.sqlite3"


def harmful(sandbox: Stack) -> int:
    drifted = sandbox.drifted
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
            **{**block_names(name), **extra}, ledger_path=str(ledger), **GUARDED, return_state=True
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
    assert flow_run.state.message.startswith("Aguardando aprovação até ")
    assert f"{harmful(sandbox)} bloqueio(s)/desativação(ões) planejados" in flow_run.state.message
    assert any("aprovação necessária" in alert for alert in alerts(sandbox)), alerts(sandbox)
    assert any(f"/runs/flow-run/{flow_run.id}" in alert for alert in alerts(sandbox))
    keyset = flow_run.state.state_details.run_input_keyset
    async with get_client() as client:
        form = json.loads(await client.read_flow_run_input(flow_run.id, keyset["description"]))
        schema = json.loads(await client.read_flow_run_input(flow_run.id, keyset["schema"]))
    assert "Responda até **" in form
    counted = [line.split("|")[1].strip() for line in form.splitlines() if line.count("|") == 3]
    order = ["Bloqueio", "Desativação", "Desbloqueio", "Ativação"]
    counted = [name for name in counted if name in order]
    assert len(counted) > 1 and counted == sorted(counted, key=order.index), "harmful first"
    # The first 20 as a list (a narrow form cuts a wide table): every part on the line.
    rows = [line for line in form.splitlines() if line.startswith("- **")]
    assert rows and not any(line.startswith("| ") and line.count("|") > 3 for line in form)
    ranks = [order.index(row.removeprefix("- **").split("**")[0]) for row in rows]
    assert ranks == sorted(ranks), "blocks, then disables, unblocks, enables"
    assert all("(usuário " in row and ", contrato " in row and "): " in row for row in rows)
    decision = schema["properties"]["decision"]
    assert decision["enum"] == ["escolha", "aprovar", "rejeitar"]
    assert decision["default"] == "escolha", "a preset that answers nothing, not a rejection"
    assert "Escolha aprovar ou rejeitar" in decision["description"]

    await aresume_flow_run(
        flow_run.id, run_input={"decision": "aprovar", "note": "conferido no IXC"}
    )
    state = await finished(running)
    assert state.is_completed(), state.message
    after = actives(sandbox)
    assert {uid for uid in after if after[uid] != before[uid]} == set(sandbox.drifted)
    assert len(announced_usernames(sandbox)) == len(sandbox.drifted)
    summary = await run_artifact(flow_run.id, "contract-sync-summary")
    assert "## Aprovação" in summary and "Aprovado por operador em " in summary
    assert "conferido no IXC" in summary
    answered = [a for a in alerts(sandbox) if "aprovação respondida: Aprovado" in a]
    assert len(answered) == 1 and "conferido no IXC" in answered[0], alerts(sandbox)
    await APILogHandler.aflush()
    async with get_client() as client:
        logs = await client.read_logs(LogFilter(flow_run_id={"any_": [flow_run.id]}), limit=200)
    assert any(log.message == flow_run.state.message for log in logs), "why it paused, logged"


async def test_a_form_sent_without_a_choice_pauses_again_saying_so_in_portuguese(guarded):
    """Prefect's own check of a required field would answer in English; the preset choice
    "escolha" passes it, and the run asks again in the operators' language."""
    sandbox, name, ledger = guarded
    running, flow_run = await start_paused(sandbox, name, ledger)
    for empty in ({"note": "sem escolher"}, {"decision": "escolha"}):
        await aresume_flow_run(flow_run.id, run_input=empty)
        again = await _paused_again(flow_run.id)
        assert again.state.message.startswith(
            "O formulário foi enviado sem decisão: escolha aprovar ou rejeitar. "
            "Aguardando aprovação até "
        ), again.state.message
    assert sandbox.magnus.saves == 0
    assert not any("aprovação respondida" in alert for alert in alerts(sandbox))
    await aresume_flow_run(flow_run.id, run_input={"decision": "rejeitar"})
    assert (await finished(running)).is_failed()
    assert sandbox.magnus.saves == 0


async def _paused_again(flow_run_id, within: float = PATIENCE_SECONDS):
    """The run once it is Paused again after an answer resumed it."""
    async with get_client() as client:
        for _ in range(int(within / 0.2)):
            run = await client.read_flow_run(flow_run_id)
            if run.state.is_paused() and run.state.message.startswith("O formulário"):
                return run
            await asyncio.sleep(0.2)
    raise AssertionError("the run did not pause again")


async def test_make_approve_answers_in_the_runs_own_language(guarded, capsys):
    """A run that uses an English Discord block asks "approve"/"reject": `make approve`
    answers it in that language, whatever the `default` block says, and says what it did."""
    sandbox, name, ledger = guarded
    english = unique("english")
    _, _, discord = sandbox.blocks()
    await Discord(**{**discord.model_dump(), "language": "en"}).asave(english, overwrite=True)
    running, flow_run = await start_paused(sandbox, name, ledger, discord_block=english)

    assert await asyncio.to_thread(approve_command.main, [flow_run.name]) == 2
    assert "--approve" in capsys.readouterr().err
    assert await asyncio.to_thread(approve_command.main, ["nobody", "--approve"]) == 2
    assert "'nobody'" in capsys.readouterr().err
    assert await asyncio.to_thread(approve_command.main, []) == 0
    assert flow_run.name in capsys.readouterr().out
    answered = [flow_run.name, "--reject", "--note", "not today"]
    assert await asyncio.to_thread(approve_command.main, answered) == 0
    assert capsys.readouterr().out.strip() == f"{flow_run.name}: reject"
    state = await finished(running)
    assert state.is_failed() and "not today" in state.message
    assert sandbox.magnus.saves == 0


async def test_a_customer_who_paid_while_the_approval_waited_is_not_blocked(guarded):
    sandbox, name, ledger = guarded
    blocks = sorted(uid for uid, a in sandbox.drifted.items() if a == "block")
    assert blocks, "the provider must plan a block"
    paid = blocks[0]
    before = actives(sandbox)
    running, flow_run = await start_paused(sandbox, name, ledger)
    sandbox.ixc.update_contract(
        int(sandbox.magnus.users[paid]["dist"]), status="A", status_internet="A"
    )

    await aresume_flow_run(flow_run.id, run_input={"decision": "aprovar"})
    state = await finished(running)

    assert state.is_completed(), state.message
    assert actives(sandbox)[paid] == before[paid]
    assert sandbox.magnus.users[paid]["username"] not in announced_usernames(sandbox)
    rows = {row["username"]: row for row in await decision_rows(flow_run.id)}
    withdrawn = rows[sandbox.magnus.users[paid]["username"]]
    assert withdrawn["result"] == Result.WITHDRAWN
    assert "o IXC mudou depois da aprovação" in withdrawn["detail"]
    others = set(sandbox.drifted) - {paid}
    assert {uid for uid, a in actives(sandbox).items() if a != before[uid]} == others


async def test_a_second_run_while_one_waits_for_approval_ends_without_pausing(guarded):
    sandbox, name, ledger = guarded
    running, flow_run = await start_paused(sandbox, name, ledger)
    second = await contract_sync(
        **block_names(name), ledger_path=str(ledger), **GUARDED, return_state=True
    )
    assert second.is_completed() and second.name == "Pulada", second
    assert "está em andamento ou aguardando aprovação" in second.message
    assert flow_run.name in second.message
    assert sandbox.magnus.saves == 0
    await APILogHandler.aflush()
    async with get_client() as client:
        logs = await client.read_logs(
            LogFilter(flow_run_id={"any_": [second.state_details.flow_run_id]}), limit=200
        )
    assert any("Finished in state Pulada" in log.message for log in logs), logs
    errors = [log.message for log in logs if log.level >= logging.ERROR]
    assert errors == [], "operators grep the worker log for ERROR: the normal case has none"
    await aresume_flow_run(flow_run.id, run_input={"decision": "rejeitar"})
    await finished(running)


async def test_rejection_writes_nothing_and_alerts(guarded):
    sandbox, name, ledger = guarded
    before = actives(sandbox)
    running, flow_run = await start_paused(sandbox, name, ledger)
    await aresume_flow_run(
        flow_run.id, run_input={"decision": "rejeitar", "note": "IXC parece errado"}
    )
    state = await finished(running)
    assert state.is_failed()
    assert "rejeitado pelo operador (IXC parece errado)" in state.message
    assert actives(sandbox) == before
    assert sandbox.magnus.saves == 0
    assert announced_usernames(sandbox) == []
    await eventually(
        lambda: any("falhou" in alert and "rejeitado" in alert for alert in alerts(sandbox)),
        f"no failure alert among {alerts(sandbox)}",
    )
    answered = [a for a in alerts(sandbox) if "aprovação respondida: Rejeitado" in a]
    assert len(answered) == 1 and "IXC parece errado" in answered[0], alerts(sandbox)


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
    assert "sem aprovação em 2 s" in state.message
    assert actives(sandbox) == before
    assert sandbox.magnus.saves == 0
    await eventually(
        lambda: any("falhou" in alert and "sem aprovação" in alert for alert in alerts(sandbox)),
        f"no failure alert among {alerts(sandbox)}",
    )
    assert any("aprovação necessária" in alert for alert in alerts(sandbox))


async def test_unattended_runs_abort_with_an_alert_instead_of_pausing(guarded):
    sandbox, name, ledger = guarded
    before = actives(sandbox)
    state = await contract_sync(
        **block_names(name), ledger_path=str(ledger), **GUARDED, unattended=True, return_state=True
    )
    assert state.is_failed()
    assert actives(sandbox) == before
    assert sandbox.magnus.saves == 0
    await eventually(
        lambda: any("alteração em massa abortada" in alert for alert in alerts(sandbox)),
        f"no abort alert among {alerts(sandbox)}",
    )


async def test_below_the_limit_nothing_pauses(guarded):
    sandbox, name, ledger = guarded
    limit = {**GUARDED, "max_harmful_count": harmful(sandbox)}
    state = await contract_sync(
        **block_names(name), ledger_path=str(ledger), **limit, return_state=True
    )
    assert state.is_completed(), state.message
    assert not any("aprovação" in alert for alert in alerts(sandbox))


async def test_an_ad_hoc_run_for_two_customers_with_one_block_needs_no_approval(guarded):
    """The README's example: 10% of two customers is 0, but only the absolute limit applies."""
    sandbox, name, ledger = guarded
    blocked = sorted(uid for uid, a in sandbox.drifted.items() if a == "block")[0]
    steady = next(uid for uid in sandbox.magnus.users if uid not in sandbox.drifted)
    usernames = [sandbox.magnus.users[uid]["username"] for uid in (blocked, steady)]
    state = await contract_sync(
        **block_names(name), ledger_path=str(ledger), usernames=usernames, return_state=True
    )
    assert state.is_completed(), state.message
    assert actives(sandbox)[blocked] == 4


@pytest.mark.parametrize(("limit", "needed"), [(0, True), (1000, False)])  # share: 100%
async def test_a_dry_run_says_whether_a_real_run_would_need_approval(guarded, limit, needed):
    sandbox, name, _ = guarded
    state = await contract_sync(
        **block_names(name),
        dry_run=True,
        max_harmful_share=1.0,
        max_harmful_count=limit,
        return_state=True,
    )
    assert state.is_completed()
    summary = await run_artifact(state.state_details.flow_run_id, "contract-sync-summary")
    expected = "precisaria de aprovação" if needed else "não precisaria de aprovação"
    assert f"Uma execução real {expected}" in summary
    assert sandbox.magnus.saves == 0 and alerts(sandbox) == []


async def test_a_custom_run_cannot_loosen_its_deployments_limits_without_approval(guarded):
    """A custom run (the UI, `prefect deployment run -p`) asking for looser limits than its
    deployment's pauses where the deployment's would, says so, and writes nothing if rejected;
    the deployment's own settings are the operators' choice and hold without asking."""
    sandbox, name, ledger = guarded
    before = actives(sandbox)
    strict = {**block_names(name), "ledger_path": str(ledger), **GUARDED}
    deployment = unique("hourly")
    loosened = {"max_harmful_share": 1.0, "max_harmful_count": 1000, "max_ixc_age_seconds": 3600}
    dry = await execute_here(
        (await start_as_deployment(deployment, strict, dry_run=True, **loosened))[0]
    )
    summary = await run_artifact(dry.state_details.flow_run_id, "contract-sync-summary")
    assert f"mais folgado que a implantação contract-sync/{deployment} permite" in summary
    assert "Uma execução real precisaria de aprovação: " in summary

    flow_run, _ = await start_as_deployment(deployment, strict, **loosened)
    running = asyncio.create_task(execute_here(flow_run))
    paused = await wait_for_flow_run(flow_run.name, "PAUSED")
    assert f"o da implantação contract-sync/{deployment}" in paused.state.message
    assert "esta execução pediu limites mais folgados" in paused.state.message
    assert any(f"contract-sync/{deployment}" in alert for alert in alerts(sandbox))
    await aresume_flow_run(paused.id, run_input={"decision": "rejeitar", "note": "não"})
    state = await finished(running)
    assert state.is_failed() and actives(sandbox) == before and sandbox.magnus.saves == 0
    summary = await run_artifact(paused.id, "contract-sync-summary")
    assert (
        "Esta execução pediu max_harmful_share=1, max_harmful_count=1000, "
        "max_ixc_age_seconds=3600, mais folgado que a implantação "
        f"contract-sync/{deployment} permite (max_harmful_share=0.5, max_harmful_count=1, "
        "max_ixc_age_seconds=120)"
    ) in summary

    loose = unique("first-sync")
    flow_run, _ = await start_as_deployment(loose, {**strict, **loosened})
    state = await finished(asyncio.create_task(execute_here(flow_run)))
    assert state.is_completed(), state.message
    after = actives(sandbox)
    assert {uid for uid in after if after[uid] != before[uid]} == set(sandbox.drifted)
