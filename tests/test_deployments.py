"""`make deploy` deploys only what can run on this server: its work pool and its blocks exist."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from prefect.utilities.importtools import import_object

from deployments.deploy import deployments_in, why_not
from deployments.needed_blocks import BLOCKS_BY_ENTRYPOINT
from sandbox.stack import sandbox_blocks

pytestmark = pytest.mark.prefect

ROOT = Path(__file__).resolve().parents[1]
URLS = {name: f"http://127.0.0.1:1/{name}" for name in ("magnus", "ixc", "discord")}


def _deployment(name: str) -> dict[str, Any]:
    (found,) = [d for d in deployments_in(ROOT / "prefect.yaml") if d["name"] == name]
    return found


def test_every_deployment_names_a_flow_whose_blocks_are_known() -> None:
    for deployment in deployments_in(ROOT / "prefect.yaml"):
        assert deployment["entrypoint"] in BLOCKS_BY_ENTRYPOINT, deployment["name"]


@pytest.mark.parametrize(
    "entrypoint", sorted({d["entrypoint"] for d in deployments_in(ROOT / "prefect.yaml")})
)
def test_every_entrypoint_loads_as_a_worker_loads_it(entrypoint: str) -> None:
    """In a fresh process, from the project's directory, as Prefect's deploy and its workers do.

    A script path (`flows/contract_restore.py:...`) puts flows/ first on sys.path, where
    flows/contract_sync.py hides the `contract_sync` package: the run fails before it starts.
    """
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from prefect.flows import load_flow_from_entrypoint; "
            "print(load_flow_from_entrypoint(sys.argv[1]).name)",
            entrypoint,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert loaded.stdout.split()[-1] == getattr(import_object(entrypoint), "name", None)


async def test_a_deployment_is_skipped_while_its_pool_or_a_block_is_missing(
    prefect_harness: None,
) -> None:
    hourly = _deployment("hourly")
    pools = {"billing-sync-process"}
    assert "work pool 'billing-sync-docker' does not exist" in str(
        await why_not(_deployment("hourly-docker"), pools, check_blocks=True)
    )
    webhook = URLS["discord"] + "/api/webhooks/1/token"
    magnus, ixc, discord = sandbox_blocks(URLS, changes_webhook=webhook, errors_webhook=webhook)
    unique_name = f"deploy-test-{uuid4().hex}"
    parameters = {"magnus_block": "deploy-test", "ixc_block": "deploy-test"}
    named = {**hourly, "parameters": {**parameters, "discord_block": unique_name}}
    for block in (magnus, ixc):
        await block.save("deploy-test", overwrite=True)
    assert await why_not(named, pools, check_blocks=True) == (
        f"no blocks discord/{unique_name} (make blocks; --without-blocks deploys it anyway)"
    )
    assert await why_not(named, pools, check_blocks=False) is None
    await discord.save(unique_name)
    assert await why_not(named, pools, check_blocks=True) is None
    every_minute = {**_deployment("every-minute"), "parameters": {"erp_block": unique_name}}
    assert f"gym-erp-database/{unique_name}" in str(
        await why_not(every_minute, pools, check_blocks=True)
    )
