"""The explain command, flow and the holds command against the sandbox: both sides now, the
same decision the sync makes (holds included), the history newest first with links, in the
operators' language, and no secret anywhere."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from prefect.client.orchestration import get_client
from prefect.states import State
from sync_helpers import (
    NO_GUARD,
    Stack,
    block_names,
    execute_here,
    run,
    save_fast_blocks,
    stack,
    start_as_deployment,
    unique,
)

from blocks.discord.block import Discord
from blocks.ixc.models import IxcStatusMapping
from blocks.magnusbilling.models import MagnusUser
from contract_sync.explain import Explanation
from contract_sync.ledger import LEDGER_ENV
from contract_sync.plan import build_plan
from contract_sync.records.store import Records, sqlite_url
from deployments import explain as explain_command
from deployments import holds as holds_command
from flows.contract_sync_explain import explain
from sandbox.stack import IXC_TOKEN, SANDBOX_KEY, run_artifact
from sandbox.world import synthetic_provider
from tasks.contract_sync.explaining import explain_customer
from tasks.contract_sync.records import RECORDS_FILENAME
from tasks.contract_sync.systems import Where, connected

pytestmark = pytest.mark.prefect


@pytest.fixture
def synced(prefect_harness: None, tmp_path: Path) -> Iterator[tuple[Stack, str, Path, str]]:
    """A provider synchronised once, with one drifted customer held before the second run."""
    provider = synthetic_provider(customers=40, contracts=60, drift=0.3, seed=3)
    with stack(provider) as sandbox:
        name = unique("explain")
        save_fast_blocks(sandbox, name)
        ledger = tmp_path / "ledger.sqlite3"
        first = asyncio.run(run(name, ledger, **NO_GUARD))
        assert first.is_completed(), first.message
        yield sandbox, name, ledger, str(first.state_details.flow_run_id)


def options(name: str, ledger: Path) -> list[str]:
    return [
        "--magnus-block", name, "--ixc-block", name, "--discord-block", name,
        "--ledger-path", str(ledger),
    ]  # fmt: skip


def drifted(sandbox: Stack, action: str) -> list[int]:
    return sorted(uid for uid, what in sandbox.drifted.items() if what == action)


def secrets(sandbox: Stack) -> list[str]:
    passwords = [str(user["password"]) for user in sandbox.magnus.users.values()]
    return [SANDBOX_KEY.key, SANDBOX_KEY.secret, IXC_TOKEN, IXC_TOKEN.split(":")[1], *passwords]


def test_why_is_this_customer_blocked_in_one_command(synced, capsys):
    sandbox, name, ledger, first_run = synced
    uid = drifted(sandbox, "block")[0]
    username = sandbox.magnus.users[uid]["username"]

    assert explain_command.main([username, *options(name, ledger)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Por que o cliente {username} está assim?")
    assert re.search(r"\nStatus no Magnus +4 - Bloqueado \(entrada e saída\)\n", out)
    contract = sandbox.magnus.users[uid]["dist"]
    assert re.search(rf"\nContrato no Magnus +{contract}\n", out)
    ixc = sandbox.ixc.contracts[int(contract)]
    codes = f"status {ixc['status']}, internet {ixc['status_internet']}"
    assert f"{contract}: {codes} (bloqueado)" in out
    assert re.search(r"\nAção +Sem alteração\n", out)
    assert "nenhuma retenção para este usuário" in out
    history = out.split("Histórico (mais recente primeiro)")[1]
    (entry,) = [line for line in history.splitlines() if "Bloqueio" in line]
    assert "aplicada" in entry and "1 -> 4" in entry
    assert f"/runs/flow-run/{first_run}" in history, "a link to the run that blocked them"
    assert not [secret for secret in secrets(sandbox) if secret in out]


def test_a_held_customer_is_explained_with_the_hold_and_what_the_sync_would_do(synced, capsys):
    sandbox, name, ledger, _ = synced
    uid = sorted(set(sandbox.magnus.users) - set(sandbox.drifted) - {1})[0]
    username = sandbox.magnus.users[uid]["username"]
    contract = int(sandbox.magnus.users[uid]["dist"])
    sandbox.ixc.update_contract(contract, status="A", status_internet="CA")  # now unpaid
    assert holds_command.main(["add", username, "--reason", "linha interna", "--by", "maria",
                               *options(name, ledger)]) == 0  # fmt: skip
    assert f"Retido: {sandbox.magnus.users[uid]['firstname']}" in capsys.readouterr().out
    second = asyncio.run(run(name, ledger, **NO_GUARD))
    assert second.is_completed(), second.message
    assert sandbox.magnus.user(uid)["active"] == 1

    assert explain_command.main([username, "--markdown", *options(name, ledger)]) == 0
    out = capsys.readouterr().out
    assert f"# Por que o cliente {username} está assim?" in out
    assert "| Ação | Retido |" in out
    assert "| Sem a retenção | Bloqueio |" in out
    assert "- ativa: linha interna (por maria em" in out
    assert "| Retido (Bloqueio) | retida: o cliente está em retenção |" in out
    run_name = asyncio.run(_run_name(second.state_details.flow_run_id))
    assert f"[{run_name}](http" in out, "history entries link to their runs"


async def _run_name(flow_run_id) -> str:
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        return (await client.read_flow_run(flow_run_id)).name


async def test_the_explanation_agrees_with_the_sync_for_every_customer(synced):
    sandbox, name, ledger, _ = synced
    records = Records(sqlite_url(ledger.with_name(RECORDS_FILENAME)))
    held = sandbox.magnus.users[drifted(sandbox, "unblock")[0]]["username"]
    records.add_hold(held, "parceiro", "maria")
    for uid in drifted(sandbox, "block")[:3]:  # more changes pending than the first run left
        sandbox.ixc.update_contract(int(sandbox.magnus.users[uid]["dist"]), status_internet="A")
    dry = await run(name, ledger, dry_run=True, **NO_GUARD)
    rows = json.loads(await run_artifact(dry.state_details.flow_run_id, "contract-sync-decisions"))
    where = Where(name, name, name, "America/Sao_Paulo", str(ledger), None)
    async with connected(where, dry_run=True) as systems:
        for row in rows:
            explained = await explain_customer(systems, row["usuário"])
            assert explained.decision is not None
            assert explained.decision["reason"] == row["motivo"], row["usuário"]
            action = explained.sections()[1].pairs[0][1]
            assert action == row["ação"], row["usuário"]
        paid = sandbox.magnus.users[drifted(sandbox, "block")[0]]["username"]
        history = (await explain_customer(systems, paid)).terminal()
    assert "planejada (simulação)" in history and "(simulação) (simulação)" not in history
    assert any(row["ação"] == "Retido" for row in rows)
    assert any(row["ação"] == "Desbloqueio" for row in rows)
    records.close()


def test_an_unknown_customer_is_said_so_and_english_is_available(synced, capsys):
    sandbox, name, ledger, _ = synced
    assert explain_command.main(["nobody-here", *options(name, ledger)]) == 1
    assert "o usuário nobody-here não existe no MagnusBilling" in capsys.readouterr().out
    english = unique("english")
    _, _, discord = sandbox.blocks()
    Discord(**{**discord.model_dump(), "language": "en"}).save(english, overwrite=True)
    username = sandbox.magnus.users[drifted(sandbox, "disable")[0]]["username"]
    command = [username, *options(name, ledger), "--discord-block", english]
    assert explain_command.main(command) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Why is customer {username} like this?")
    assert "Magnus status" in out and "History (newest first)" in out and "applied" in out


def test_a_contract_ixc_does_not_have_is_said_so_not_called_malformed():
    user = MagnusUser(id=7, username="u7", active=1, contract_ref="4242", name="C", document="")
    plan = build_plan([user], {}, {}, IxcStatusMapping(), 4).iloc[0].to_dict()
    for language, expected in [
        ("pt-BR", "contrato 4242 não encontrado no IXC"),
        ("en", "contract 4242 not found in IXC"),
    ]:
        explanation = Explanation(
            "u7", language, ZoneInfo("America/Sao_Paulo"), datetime(2026, 1, 1, tzinfo=UTC),
            user, None, None, None, plan, [], [], 0,
        )  # fmt: skip
        (ixc,) = [value for name, value in explanation.sections()[0].pairs if "IXC" in name]
        assert ixc == expected
    malformed = user.model_copy(update={"contract_ref": "abc"})
    explanation = Explanation(
        "u7", "pt-BR", ZoneInfo("America/Sao_Paulo"), datetime(2026, 1, 1, tzinfo=UTC),
        malformed, None, None, None, plan, [], [], 0,
    )  # fmt: skip
    assert "vazio ou não é um número" in explanation.terminal()


def test_the_holds_command_refuses_what_it_cannot_do_safely(synced, capsys):
    sandbox, name, ledger, _ = synced
    username = sandbox.magnus.users[drifted(sandbox, "block")[0]]["username"]
    where = options(name, ledger)
    add = ["add", username, "--reason", "acordo", "--by", "ana", "--until", "31/12/2099"]
    assert holds_command.main([*add, *where]) == 0
    assert "até o fim de 31/12/2099" in capsys.readouterr().out
    assert holds_command.main([*add, *where]) == 1
    assert f"{username} já está retido: acordo (por ana" in capsys.readouterr().err
    assert holds_command.main(["add", "nobody-here", "--reason", "x", *where]) == 1
    assert "não existe no MagnusBilling; confira o nome" in capsys.readouterr().err
    assert holds_command.main(["add", "nobody-here", "--reason", "x", "--force", *where]) == 0
    assert holds_command.main(["add", "x2", "--reason", "x", "--until", "1/1/2000", *where]) == 2
    assert "a data 1/1/2000 já passou" in capsys.readouterr().err
    assert holds_command.main(["add", "x2", "--reason", "x", "--until", "amanhã", *where]) == 2
    assert "amanhã não é uma data" in capsys.readouterr().err

    assert holds_command.main(["list", *where]) == 0
    listed = capsys.readouterr().out.splitlines()
    columns = ["usuário", "situação", "motivo", "por", "desde", "até", "encerrada"]
    assert listed[0].split() == columns
    assert [line.split()[0] for line in listed[2:]] == sorted(["nobody-here", username])
    assert holds_command.main(["remove", username, "--by", "ana", "--note", "pagou", *where]) == 0
    assert holds_command.main(["remove", username, *where]) == 1
    capsys.readouterr()
    assert holds_command.main(["list", "--all", *where]) == 0
    ended = [line for line in capsys.readouterr().out.splitlines() if line.startswith(username)]
    assert len(ended) == 1 and "encerrada" in ended[0] and "ana: pagou" in ended[0]


async def test_the_explain_flow_leaves_the_answer_as_a_markdown_artifact(synced):
    sandbox, name, ledger, first_run = synced
    username = sandbox.magnus.users[drifted(sandbox, "enable")[0]]["username"]
    state = await explain(username=username, **block_names(name), ledger_path=str(ledger),
                          return_state=True)  # fmt: skip
    assert state.is_completed(), state.message
    assert state.message.startswith(f"{username}: Sem alteração - ")
    markdown = await run_artifact(state.state_details.flow_run_id, "contract-sync-explain")
    assert f"# Por que o cliente {username} está assim?" in markdown
    assert "| Ativação | aplicada | 0 -> 1 |" in markdown
    assert f"/runs/flow-run/{first_run})" in markdown
    assert not [secret for secret in secrets(sandbox) if secret in markdown]
    missing = await explain(username="nobody-here", **block_names(name), ledger_path=str(ledger),
                            return_state=True)  # fmt: skip
    assert missing.is_failed() and "não existe no MagnusBilling" in missing.message


async def run_as_deployment(
    deployment: str, parameters: dict[str, Any], **ad_hoc: Any
) -> tuple[State[Any], UUID]:
    """A completed run of the deployment `deployment` (see `start_as_deployment`)."""
    flow_run, deployment_id = await start_as_deployment(deployment, parameters, **ad_hoc)
    state = await execute_here(flow_run)
    assert state.is_completed(), state.message
    return state, deployment_id


async def delete_deployment(deployment_id: UUID) -> None:
    async with get_client() as client:
        await client.delete_deployment(deployment_id)


def test_holds_go_where_the_deployments_runs_read_them_whatever_other_runs_did(
    synced, capsys, tmp_path, monkeypatch
):
    """Issue 16.1: a dry run from a laptop, a flow called by hand, an ad-hoc run with its own
    ledger never move where `make hold` writes; a second deployment writing elsewhere (`make
    serve` with another ledger, the Docker deployment's volume) makes the commands refuse."""
    sandbox, name, ledger, _ = synced
    uid = drifted(sandbox, "block")[0]
    username = sandbox.magnus.users[uid]["username"]
    blocks = ["--magnus-block", name, "--discord-block", name]
    explain_blocks = [username, *blocks, "--ixc-block", name]
    add = ["add", username, "--reason", "parceiro", *blocks]
    deployed = {**block_names(name), **NO_GUARD, "ledger_path": str(ledger)}
    # The fixture's run was a flow called by hand, not a deployment's: nobody has said yet.
    assert holds_command.main(add) == 2
    assert "nenhuma implantação de contract-sync disse ainda" in capsys.readouterr().err

    hourly = unique("hourly")
    _, hourly_id = asyncio.run(run_as_deployment(hourly, deployed))
    laptop = tmp_path / "laptop" / "ledger.sqlite3"
    laptop.parent.mkdir()
    # None of these moves it: a dry run of the deployment with another ledger, a dry run and
    # a real run called by hand elsewhere, a real ad-hoc run of the deployment with its own.
    asyncio.run(run_as_deployment(hourly, deployed, dry_run=True, ledger_path=str(laptop)))
    dry_elsewhere = asyncio.run(run(name, laptop, dry_run=True, **NO_GUARD))
    assert dry_elsewhere.is_completed(), dry_elsewhere.message
    by_hand = asyncio.run(run(name, laptop, **NO_GUARD))
    assert by_hand.is_completed(), by_hand.message
    asyncio.run(run_as_deployment(hourly, deployed, ledger_path=str(laptop)))
    assert holds_command.main(add) == 0
    capsys.readouterr()
    sandbox.magnus.update_user(uid, active=1)  # unblocked by hand: the sync would block again
    asyncio.run(run_as_deployment(hourly, deployed))
    assert sandbox.magnus.user(uid)["active"] == 1, "the deployment's runs read the hold"
    assert explain_command.main(explain_blocks) == 0
    assert "ativa: parceiro" in capsys.readouterr().out
    assert holds_command.main(["list", *blocks, "--ledger-path", str(laptop)]) == 2
    assert "não é onde as implantações de contract-sync guardam" in capsys.readouterr().err

    # `make serve` on another host, with its own ledger: two writers, two databases.
    served_ledger = tmp_path / "served" / "ledger.sqlite3"
    served_ledger.parent.mkdir()
    served = {**deployed, "ledger_path": str(served_ledger)}
    _, served_id = asyncio.run(run_as_deployment(unique("hourly-served"), served))
    assert sandbox.magnus.user(uid)["active"] == 4, "its runs do not see the hold: the danger"
    sandbox.magnus.update_user(uid, active=1)
    for command in (lambda: holds_command.main(add), lambda: explain_command.main(explain_blocks)):
        assert command() == 2
        err = capsys.readouterr().err
        assert "guardam as retenções em lugares diferentes" in err
        assert f"{hourly}: {ledger.with_name(RECORDS_FILENAME)}" in err
        assert "hourly-served" in err and str(served_ledger.parent) in err
    asyncio.run(delete_deployment(served_id))  # what the message asks: one writer again
    assert holds_command.main(["list", *blocks]) == 0
    assert username in capsys.readouterr().out

    # The Docker deployment: its ledger is a volume path of the worker ($CONTRACT_SYNC_LEDGER_PATH
    # in its job variables), which is not on this machine.
    volume = tmp_path / "volume"
    volume.mkdir()
    monkeypatch.setenv(LEDGER_ENV, str(volume / "ledger.sqlite3"))
    docker = {**block_names(name), **NO_GUARD}
    _, docker_id = asyncio.run(run_as_deployment(unique("hourly-docker"), docker))
    monkeypatch.delenv(LEDGER_ENV)
    shutil.rmtree(volume)
    assert holds_command.main(add) == 2
    assert "guardam as retenções em lugares diferentes" in capsys.readouterr().err
    asyncio.run(delete_deployment(docker_id))
    assert holds_command.main(["list", *blocks]) == 0
    capsys.readouterr()
    asyncio.run(delete_deployment(hourly_id))

    other = synthetic_provider(customers=5, contracts=5, seed=1)
    with stack(other) as unseen:
        fresh = unique("fresh")
        save_fast_blocks(unseen, fresh)
        assert holds_command.main(["list", "--magnus-block", fresh]) == 2
        assert "nenhuma implantação de contract-sync disse ainda" in capsys.readouterr().err


def test_a_sqlite_file_not_on_this_machine_is_refused_never_created(synced, capsys, tmp_path):
    _, name, _, _ = synced
    elsewhere = str(tmp_path / "elsewhere" / "ledger.sqlite3")
    blocks = ["--magnus-block", name, "--discord-block", name, "--ledger-path", elsewhere]
    assert holds_command.main(["list", *blocks]) == 2
    assert "que não existe nesta máquina" in capsys.readouterr().err, "never a new, empty file"
