"""contract-sync on the Docker work pool, as the README's "The Docker deployment" sets it up.

A Docker daemon of the test's own (docker_env), a registry on loopback and a SQLite-backed
`prefect server`; `prefect work-pool create billing-sync-docker --type docker`, the sandbox's
blocks, then `python -m deployments.deploy --only hourly-docker`: prefect.yaml's own build step
builds deployments/Dockerfile on this machine's Python 3.11 base image and pushes it to the
registry; `prefect worker start --pool billing-sync-docker --type docker` runs every flow run in
a container of that image on the host network. Checked:

- a dry run and a real run complete, each in its own container; the notification ledger and the
  records database are on the `billing-sync-state` volume and outlive the containers;
- a run that needs approval pauses in its container while a second run, in another container,
  ends Pulada (the run lock); approved over the REST API, it applies the change set;
- a run whose container has no ledger path fails and says so (the image refuses the default).

Skipped, with the reason, where no Docker daemon can be started (not root, or no dockerd,
debootstrap or docker-registry); with CI=true that fails instead.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import docker
import pytest
from docker_env import base_image, docker_daemon, loopback_registry, why_no_docker
from operator_env import PrefectServer, api_request, cli, prefect_server, python, worker
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import StateType
from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

from sandbox.stack import SandboxStack, running_stack
from sandbox.world import synthetic_provider

pytestmark = [pytest.mark.deployed, pytest.mark.docker]

POOL = "billing-sync-docker"
DEPLOYMENT = "contract-sync/hourly-docker"
VOLUME = "billing-sync-state"  # prefect.yaml's job_variables.volumes
FLOW_RUN_LABEL = "io.prefect.flow-run-id"  # prefect-docker's container label


@dataclass
class DockerDeployment:
    server: PrefectServer
    sandbox: SandboxStack
    docker: docker.DockerClient

    def containers_of(self, run_id: UUID) -> list[Any]:
        return self.docker.containers.list(
            all=True, filters={"label": f"{FLOW_RUN_LABEL}={run_id}"}
        )

    def volume_file(self, name: str) -> Path:
        return Path(self.docker.volumes.get(VOLUME).attrs["Mountpoint"]) / name


@pytest.fixture(scope="module")
def on_docker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockerDeployment]:
    reason = why_no_docker()
    if reason:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI=true: no Docker deployment test: {reason}")
        pytest.skip(f"no Docker daemon can be started here: {reason}")
    provider = synthetic_provider(customers=30, contracts=45, drift=0.35, seed=17)
    workdir = tmp_path_factory.mktemp("docker")
    with (
        pytest.MonkeyPatch.context() as environment,
        docker_daemon(workdir) as docker_host,
        loopback_registry(workdir) as registry,
        prefect_server("sqlite", workdir) as server,
        running_stack(provider) as sandbox,
        temporary_settings(
            {PREFECT_API_URL: server.api_url, PREFECT_API_AUTH_STRING: server.credential}
        ),
    ):
        client = docker.DockerClient(base_url=docker_host)
        environment.setenv("DOCKER_HOST", docker_host)  # for every command below
        environment.setenv("BILLING_SYNC_BASE_IMAGE", base_image(client, registry, workdir))
        environment.setenv("BILLING_SYNC_IMAGE", f"{registry}/billing-sync")
        cli(server, "work-pool", "create", POOL, "--type", "docker", "--overwrite")
        sandbox.save_blocks("default")
        started = time.monotonic()
        python(server, "-m", "deployments.deploy", "--only", "hourly-docker", timeout=900)
        print(f"image built and pushed by prefect deploy in {time.monotonic() - started:.0f} s")
        assert client.images.get_registry_data(f"{registry}/billing-sync:latest")
        with worker(server, POOL, "--type", "docker"):
            yield DockerDeployment(server, sandbox, client)
        client.close()
        assert server.errors_in_log() == []


async def _start(
    parameters: dict[str, Any] | None = None, job_variables: dict[str, Any] | None = None
) -> UUID:
    async with get_client() as client:
        deployment = await client.read_deployment_by_name(DEPLOYMENT)
        run = await client.create_flow_run_from_deployment(
            deployment.id, parameters=parameters or {}, job_variables=job_variables
        )
    return run.id


async def _wait_for(run_id: UUID, done: Any, within: float = 300) -> Any:
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


def _drifted(sandbox: SandboxStack, action: str) -> list[int]:
    return sorted(uid for uid, what in sandbox.drifted.items() if what == action)


def _rows(database: Path, query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(database) as connection:
        return connection.execute(query).fetchall()


async def test_a_dry_run_and_a_real_run_complete_and_their_state_outlives_the_containers(
    on_docker: DockerDeployment,
) -> None:
    sandbox = on_docker.sandbox
    blocked = _drifted(sandbox, "block")[0]
    username = sandbox.magnus.users[blocked]["username"]
    active_before = sandbox.magnus.user(blocked)["active"]

    dry = await _wait_for(await _start({"dry_run": True}), _final)
    assert dry.state.is_completed(), dry.state.message
    assert sandbox.magnus.user(blocked)["active"] == active_before
    real = await _wait_for(await _start({"usernames": [username]}), _final)
    assert real.state.is_completed(), real.state.message
    assert sandbox.magnus.user(blocked)["active"] == 4

    for run in (dry, real):
        (container,) = on_docker.containers_of(run.id)
        assert container.attrs["HostConfig"]["NetworkMode"] == "host"
        assert container.wait(timeout=120)["StatusCode"] == 0  # it exits just after its run ends
        container.remove()
    ledger = on_docker.volume_file("contract-sync-ledger.sqlite3")
    assert _rows(ledger, "SELECT run_id, magnus_id, state FROM writes") == [
        (str(real.id), blocked, "announced")
    ]
    records = on_docker.volume_file("contract-sync-records.sqlite3")
    recorded = {run_id for (run_id,) in _rows(records, "SELECT run_id FROM contract_sync_history")}
    assert {str(dry.id), str(real.id)} <= recorded


async def test_the_run_lock_and_an_approval_pause_work_across_containers(
    on_docker: DockerDeployment,
) -> None:
    server, sandbox = on_docker.server, on_docker.sandbox
    harmful = _drifted(sandbox, "block") + _drifted(sandbox, "disable")
    paused_id = await _start(
        {
            "unattended": False,
            "max_harmful_count": 0,
            "approval_timeout_seconds": 600,
            "approval_poll_seconds": 2,
        }
    )
    paused = await _wait_for(paused_id, lambda s: s is not None and s.is_paused())
    assert "Aguardando aprovação até" in paused.state.message

    second = await _wait_for(await _start(), _final)
    assert second.state.type == StateType.COMPLETED and second.state.name == "Pulada", second.state
    assert "aguardando aprovação" in second.state.message
    (waiting,) = on_docker.containers_of(paused_id)
    (refused,) = on_docker.containers_of(second.id)
    waiting.reload()
    assert waiting.status == "running" and refused.id != waiting.id

    answer = await api_request(  # the README's way
        server,
        "POST",
        f"/flow_runs/{paused_id}/resume",
        credential=server.credential,
        json={"run_input": {"decision": "aprovar", "note": "conferido no contêiner"}},
    )
    assert answer.status_code == 201 and answer.json()["status"] == "ACCEPT", answer.text
    done = await _wait_for(paused_id, _final)
    assert done.state.is_completed(), done.state.message
    assert all(sandbox.magnus.user(uid)["active"] in (0, 4) for uid in harmful)


async def test_a_container_without_a_ledger_path_refuses_to_run(
    on_docker: DockerDeployment,
) -> None:
    """The deployment's env gives the ledger's path on the volume; a run whose job variables
    blank it (the UI's custom run allows that) fails and says why."""
    blank = {"env": {"CONTRACT_SYNC_LEDGER_PATH": ""}}
    run = await _wait_for(await _start(job_variables=blank), _final)
    assert run.state.type == StateType.FAILED, run.state
    assert "nenhum caminho de ledger definido neste contêiner" in run.state.message
    ledger = on_docker.volume_file("contract-sync-ledger.sqlite3")
    assert _rows(ledger, f"SELECT * FROM writes WHERE run_id = '{run.id}'") == []
