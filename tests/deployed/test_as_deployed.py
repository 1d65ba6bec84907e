"""contract-sync as operators run it: `prefect server`, `prefect deploy`, a process worker.

Once on a SQLite-backed and once on a PostgreSQL-backed Prefect server (scheduler and all its
services on), following the README's set-up: work pool, blocks, automations, `make deploy`
(deployments.deploy), `prefect worker start`. The sandbox serves MagnusBilling, IXC and
Discord on loopback from this process. Checked:

- the scheduler creates runs for the deployment from prefect.yaml;
- an ad-hoc parameterised run (two usernames, one Block) completes without approval, and a
  transient fault on its write shows as a Prefect retry (AwaitingRetry, run count 2);
- a run that needs approval stays Paused past several renewals of its run lock's lease, says
  why and until when, alerts with a link to the run; a second run meanwhile ends Pulada
  (Completed, no ERROR logged) without pausing; after approval IXC is read again, a customer
  who paid meanwhile is not blocked, and the rest is applied;
- the automations fire on a Late run (no worker) and on a run that crashes before its flow
  loads, posting to the errors webhook;
- the explain deployment answers for one customer (a markdown artifact);
- the restore lane (`contract-restore/restore`) gives a customer who paid the line back while
  an hourly run is still writing slow blocks (a save as slow as on a real server with 10,000
  SIP accounts), and no two Magnus saves of either run overlapped;
- the server lets no one in without the credential `make server` generates (the API answers
  401, the UI asks for it at its login), and every step above used it;
- the server logs no errors.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from operator_env import (
    LATE_AFTER_SECONDS,
    PrefectServer,
    api_request,
    cli,
    prefect_server,
    python,
    worker,
)
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterId,
    FlowRunFilter,
    FlowRunFilterId,
    FlowRunFilterState,
    FlowRunFilterStateType,
    LogFilter,
)
from prefect.client.schemas.objects import StateType
from prefect.exceptions import ObjectNotFound
from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

from sandbox.faults import FaultKind
from sandbox.stack import (
    CHANGES_WEBHOOK,
    ERRORS_WEBHOOK,
    SandboxStack,
    run_artifact,
    running_stack,
)
from sandbox.world import synthetic_provider

pytestmark = [pytest.mark.deployed]

POOL = "billing-sync-process"
UNSERVED_POOL = "billing-sync-unserved"
LOCK_RENEWALS_SEEN = 100.0  # seconds: the run lock's 60 s lease is renewed about every 45 s


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def deployed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[PrefectServer, SandboxStack]]:
    provider = synthetic_provider(customers=40, contracts=60, drift=0.35, seed=11)
    workdir = tmp_path_factory.mktemp(f"deployed-{request.param}")
    with (
        prefect_server(request.param, workdir) as server,
        running_stack(provider) as sandbox,
        temporary_settings(
            {PREFECT_API_URL: server.api_url, PREFECT_API_AUTH_STRING: server.credential}
        ),
    ):
        cli(server, "work-pool", "create", POOL, "--type", "process", "--overwrite")
        cli(server, "work-pool", "create", UNSERVED_POOL, "--type", "process", "--overwrite")
        sandbox.save_blocks("default")
        python(server, "-m", "deployments.automations")
        deployed_output = python(server, "-m", "deployments.deploy")
        assert "skipped hourly-docker: work pool 'billing-sync-docker'" in deployed_output
        # No gym ERP here: a deployed every-minute would fail (and alert) every minute.
        assert "skipped every-minute: no blocks gym-erp-database/default" in deployed_output
        asyncio.run(_no_deployment_named("subscription-events/every-minute"))
        with worker(server, POOL):
            yield server, sandbox
        assert server.errors_in_log() == []


async def _no_deployment_named(name: str) -> None:
    async with get_client() as client:
        with pytest.raises(ObjectNotFound):
            await client.read_deployment_by_name(name)


async def _stop_schedules(client: Any, deployment_id: UUID) -> None:
    for schedule in await client.read_deployment_schedules(deployment_id):
        await client.update_deployment_schedule(deployment_id, schedule.id, active=False)
    for run in await _runs(client, deployment_id, [StateType.SCHEDULED]):
        await client.delete_flow_run(run.id)


async def _runs(client: Any, deployment_id: UUID, states: list[StateType]) -> list[Any]:
    return await client.read_flow_runs(
        deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
        flow_run_filter=FlowRunFilter(
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=states))
        ),
    )


async def _wait_for(run_id: UUID, done: Any, within: float = 180) -> Any:
    deadline = time.monotonic() + within
    async with get_client() as client:
        while True:
            run = await client.read_flow_run(run_id)
            if done(run.state):
                return run
            assert time.monotonic() < deadline, f"run {run_id} still {run.state}"
            await asyncio.sleep(1)


def _final(state: Any) -> bool:
    return state is not None and state.is_final()


async def _start(deployment: str, **parameters: Any) -> UUID:
    async with get_client() as client:
        found = await client.read_deployment_by_name(deployment)
        run = await client.create_flow_run_from_deployment(found.id, parameters=parameters)
    return run.id


def _errors_posted(sandbox: SandboxStack) -> list[str]:
    return [
        f"{embed.get('title', '')} {embed.get('description', '')}"
        for message in sandbox.messages_to(ERRORS_WEBHOOK)
        for embed in message.payload.get("embeds") or []
    ]


async def _wait_for_alert(sandbox: SandboxStack, *needles: str, within: float = 60) -> str:
    deadline = time.monotonic() + within
    while True:
        found = [text for text in _errors_posted(sandbox) if all(n in text for n in needles)]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"no alert with {needles}: {_errors_posted(sandbox)}"
        await asyncio.sleep(0.5)


def _drifted(sandbox: SandboxStack, action: str) -> list[int]:
    return sorted(uid for uid, what in sandbox.drifted.items() if what == action)


async def test_the_schedule_creates_runs(deployed: tuple[PrefectServer, SandboxStack]) -> None:
    async with get_client() as client:
        for name, minutes in (("contract-sync/hourly", 60), ("contract-restore/restore", 5)):
            deployment = await client.read_deployment_by_name(name)
            deadline = time.monotonic() + 60
            while not (scheduled := await _runs(client, deployment.id, [StateType.SCHEDULED])):
                assert time.monotonic() < deadline, f"the scheduler created no run for {name}"
                await asyncio.sleep(1)
            assert all(run.expected_start_time.minute % minutes == 0 for run in scheduled)
            # The next scheduled run must not start in the middle of the other tests.
            await _stop_schedules(client, deployment.id)


async def test_an_ad_hoc_run_completes_and_its_retry_shows_in_prefect(
    deployed: tuple[PrefectServer, SandboxStack],
) -> None:
    _, sandbox = deployed
    blocked = _drifted(sandbox, "block")[0]
    unchanged = next(uid for uid in sandbox.magnus.users if uid not in sandbox.drifted)
    unchanged_before = sandbox.magnus.user(unchanged)["active"]
    username = sandbox.magnus.users[blocked]["username"]
    usernames = [username, sandbox.magnus.users[unchanged]["username"]]
    sandbox.magnus.faults.add(FaultKind.HTTP_503, match=r"user/save", times=1)

    run = await _wait_for(
        await _start("contract-sync/hourly", usernames=usernames), _final, within=240
    )

    assert run.state.is_completed(), run.state.message
    assert sandbox.magnus.user(blocked)["active"] == 4
    assert sandbox.magnus.user(unchanged)["active"] == unchanged_before
    async with get_client() as client:
        task_runs = await client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id]))
        )
        (write,) = [t for t in task_runs if t.name.endswith(username)]
        states = [s.name for s in await client.read_task_run_states(write.id)]
    assert write.run_count == 2 and "AwaitingRetry" in states, (write.name, states)
    assert write.state.is_completed()


async def test_an_approval_survives_and_blocks_nobody_who_paid_meanwhile(
    deployed: tuple[PrefectServer, SandboxStack],
) -> None:
    server, sandbox = deployed
    harmful = _drifted(sandbox, "block")[1:] + _drifted(sandbox, "disable")
    assert len(harmful) >= 2
    paid_meanwhile = _drifted(sandbox, "block")[1]
    paused_id = await _start(
        "contract-sync/hourly",
        max_harmful_count=0,
        approval_timeout_seconds=600,
        approval_poll_seconds=2,
    )
    paused = await _wait_for(paused_id, lambda s: s is not None and s.is_paused(), within=240)
    paused_at = time.monotonic()
    assert "Aguardando aprovação até" in paused.state.message
    alert = await _wait_for_alert(sandbox, "aprovação necessária")
    assert f"{server.ui_url}/runs/flow-run/{paused_id}" in alert  # the run, behind the login

    second = await _wait_for(await _start("contract-sync/hourly"), _final, within=240)
    assert second.state.type == StateType.COMPLETED and second.state.name == "Pulada", second.state
    assert "aguardando aprovação" in second.state.message
    async with get_client() as client:
        logs = await client.read_logs(LogFilter(flow_run_id={"any_": [second.id]}), limit=200)
    assert [log.message for log in logs if log.level >= logging.ERROR] == []

    late = await _late_run()
    await _wait_for_alert(sandbox, late.name, "atrasada", within=LATE_AFTER_SECONDS + 60)
    crashed = await _wait_for(await _start_broken(), _final, within=240)
    assert crashed.state.type == StateType.CRASHED
    await _wait_for_alert(sandbox, crashed.name, "caiu")

    contract = int(sandbox.magnus.users[paid_meanwhile]["dist"])
    sandbox.ixc.update_contract(contract, status="A", status_internet="A")
    await asyncio.sleep(max(0.0, LOCK_RENEWALS_SEEN - (time.monotonic() - paused_at)))
    async with get_client() as client:
        assert (await client.read_flow_run(paused_id)).state.is_paused()
    waiting = await asyncio.to_thread(python, server, "-m", "deployments.approve")
    assert str(paused_id) in waiting and "Aguardando aprovação até" in waiting
    answer = await api_request(  # the README's way
        server,
        "POST",
        f"/flow_runs/{paused_id}/resume",
        credential=server.credential,
        json={"run_input": {"decision": "aprovar", "note": "conferido com o financeiro"}},
    )
    assert answer.status_code == 201 and answer.json()["status"] == "ACCEPT", answer.text

    done = await _wait_for(paused_id, _final, within=240)
    assert done.state.is_completed(), done.state.message
    assert sandbox.magnus.user(paid_meanwhile)["active"] == 1
    for uid in harmful:
        if uid != paid_meanwhile:
            assert sandbox.magnus.user(uid)["active"] in (0, 4), uid
    summary = await run_artifact(paused_id, "contract-sync-summary")
    assert "Aprovado" in summary and "conferido com o financeiro" in summary
    assert "o IXC mudou depois da aprovação" in summary


async def _run_like_hourly(
    name: str, pool: str, entrypoint: str | None = None, **parameters: Any
) -> Any:
    """A run of a contract-sync deployment made like `hourly`, on `pool`, maybe other code."""
    async with get_client() as client:
        hourly = await client.read_deployment_by_name("contract-sync/hourly")
        deployment = await client.create_deployment(
            flow_id=hourly.flow_id,
            name=name,
            work_pool_name=pool,
            entrypoint=entrypoint or hourly.entrypoint,
            pull_steps=hourly.pull_steps,
        )
        return await client.create_flow_run_from_deployment(deployment, parameters=parameters)


async def _late_run() -> Any:
    """A contract-sync run on a pool no worker serves: it goes Late."""
    return await _run_like_hourly("late-probe", UNSERVED_POOL, dry_run=True)


async def _start_broken() -> UUID:
    """A contract-sync deployment whose code is gone: it crashes before the flow loads."""
    return (await _run_like_hourly("stale-code", POOL, "flows/gone.py:contract_sync")).id


async def test_the_explain_deployment_answers_for_one_customer(
    deployed: tuple[PrefectServer, SandboxStack],
) -> None:
    """`contract-sync-explain/explain` from prefect.yaml, run by the worker with a username,
    finds the records the `hourly` deployment's runs keep (a real ad-hoc run of it here: a dry
    run never says where they are)."""
    _, sandbox = deployed
    uid = _drifted(sandbox, "block")[0]
    username = sandbox.magnus.users[uid]["username"]
    real = await _wait_for(
        await _start("contract-sync/hourly", usernames=[username]), _final, within=240
    )
    assert real.state.is_completed(), real.state.message
    run = await _wait_for(
        await _start("contract-sync-explain/explain", username=username), _final, within=240
    )
    assert run.state.is_completed(), run.state.message
    markdown = await run_artifact(run.id, "contract-sync-explain")
    assert f"# Por que o cliente {username} está assim?" in markdown
    active = sandbox.magnus.user(uid)["active"]
    assert f"| Status no Magnus | {active} - " in markdown
    assert "## O que a sincronização faria agora" in markdown


async def test_the_server_lets_no_one_in_without_the_credential(
    deployed: tuple[PrefectServer, SandboxStack],
) -> None:
    server, _ = deployed
    hourly = "/deployments/name/contract-sync/hourly"
    for credential in (None, "operator:guessed", f"{server.credential}x"):
        for method, path, body in [
            ("GET", hourly, None),
            ("POST", "/block_documents/filter", {"include_secrets": True}),
            ("POST", "/flow_runs/filter", {}),
        ]:
            answer = await api_request(server, method, path, credential=credential, json=body)
            assert answer.status_code == 401, (credential, path, answer.status_code)
    allowed = await api_request(server, "GET", hourly, credential=server.credential)
    assert allowed.status_code == 200, allowed.text
    assert (await api_request(server, "GET", "/health", credential=None)).status_code == 200

    # What a browser gets at an alert's link to a run: the UI, whose settings make it show its
    # login first and then send the credential it was given to its API.
    run_link = f"{server.ui_url}/runs/flow-run/{uuid4()}"
    async with httpx.AsyncClient(headers={"Accept": "text/html"}, timeout=30) as browser:
        page = await browser.get(run_link, follow_redirects=True)
        ui_settings = (await browser.get(f"{server.ui_url}/ui-settings")).json()
    assert page.status_code == 200 and "<html" in page.text.lower(), page.status_code
    assert ui_settings["auth"] == "BASIC"
    assert ui_settings["api_url"] == server.api_url


SLOW_SIP_ACCOUNTS = 10_000  # a save then takes ~4.5 s, as measured on a real server


async def test_the_restore_lane_restores_a_paying_customer_while_an_hourly_run_writes_blocks(
    deployed: tuple[PrefectServer, SandboxStack],
) -> None:
    """Last of the module: it leaves most customers blocked."""
    server, sandbox = deployed
    async with get_client() as client:  # no scheduled run in the middle (also when run alone)
        for name in ("contract-sync/hourly", "contract-restore/restore"):
            await _stop_schedules(client, (await client.read_deployment_by_name(name)).id)
    magnus, ixc = sandbox.magnus, sandbox.ixc
    users = {uid: magnus.user(uid) for uid in magnus.users if magnus.user(uid)["dist"]}
    to_block = sorted(uid for uid, user in users.items() if user["active"] == 1)
    paying = next(
        uid for uid, user in users.items() if user["active"] == 4 and uid not in sandbox.drifted
    )
    assert len(to_block) >= 20, "enough blocks to keep the hourly run writing for minutes"
    for uid in to_block:
        ixc.update_contract(int(users[uid]["dist"]), status="A", status_internet="CA")
    magnus.sip_accounts = SLOW_SIP_ACCOUNTS
    magnus.reset_counters()
    try:
        # Asking for looser limits than the deployment's (as a custom run from the UI can)
        # needs an operator's approval: the deployment's limits hold.
        hourly_id = await _start(
            "contract-sync/hourly",
            max_harmful_share=1.0,
            max_harmful_count=1000,
            approval_poll_seconds=1,
        )
        paused = await _wait_for(hourly_id, lambda s: s is not None and s.is_paused(), within=240)
        assert "o da implantação contract-sync/hourly" in paused.state.message
        assert magnus.saves == 0
        answer = await api_request(
            server,
            "POST",
            f"/flow_runs/{hourly_id}/resume",
            credential=server.credential,
            json={"run_input": {"decision": "aprovar"}},
        )
        assert answer.status_code == 201 and answer.json()["status"] == "ACCEPT", answer.text
        deadline = time.monotonic() + 240
        while not any(magnus.user(uid)["active"] == 4 for uid in to_block):
            assert time.monotonic() < deadline, "the hourly run wrote no block"
            await asyncio.sleep(0.5)

        ixc.update_contract(int(users[paying]["dist"]), status="A", status_internet="A")
        restore = await _wait_for(await _start("contract-restore/restore"), _final, within=240)

        assert restore.state.is_completed(), restore.state.message
        assert magnus.user(paying)["active"] == 1
        async with get_client() as client:
            hourly = await client.read_flow_run(hourly_id)
        assert hourly.state.is_running(), f"the hourly run no longer writing: {hourly.state}"
        still_unblocked = [uid for uid in to_block if magnus.user(uid)["active"] == 1]
        assert still_unblocked, "the restore came after every block"

        done = await _wait_for(hourly_id, _final, within=600)
        assert done.state.is_completed(), done.state.message
        assert all(magnus.user(uid)["active"] == 4 for uid in to_block)
        assert magnus.user(paying)["active"] == 1, "the hourly run did not undo the restore"
        assert magnus.overlapping_saves == 0 and magnus.torn_reloads == 0
        rows = json.loads(await run_artifact(restore.id, "contract-restore-decisions"))
        (row,) = [r for r in rows if r["usuário"] == magnus.users[paying]["username"]]
        assert (row["ação"], row["resultado"]) == ("Desbloqueio", "aplicada")
        restored = [
            embed["title"]
            for message in sandbox.messages_to(CHANGES_WEBHOOK)
            for embed in message.payload.get("embeds") or []
            if embed.get("title") == "contract-restore (religamento)"
        ]
        assert restored, "the restore lane announced its run"
    finally:
        magnus.sip_accounts = None
