"""Deploy every deployment of prefect.yaml that can run here (`make deploy`).

`prefect deploy --all` stops at the first deployment whose work pool is missing, so on a server
without a Docker pool it never gets past `hourly-docker`; and it deploys `every-minute` on a
server with no gym ERP blocks, whose runs then fail (and alert) every minute. This deploys each
deployment whose work pool and blocks exist, one `prefect deploy --name` at a time, says which
it skipped and why, and exits non-zero if a deployment it tried could not be deployed.

    python -m deployments.deploy [--only NAME ...] [--without-blocks]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound

from deployments.needed_blocks import missing_blocks
from deployments.server_auth import exit_clearly_when_refused

ROOT = Path(__file__).resolve().parents[1]


def deployments_in(prefect_yaml: Path) -> list[dict[str, Any]]:
    """The deployments of `prefect_yaml`, in file order."""
    return list(yaml.safe_load(prefect_yaml.read_text()).get("deployments", []))


async def why_not(deployment: dict[str, Any], pools: set[str], check_blocks: bool) -> str | None:
    """Why `deployment` cannot run on this server, or None if it can."""
    pool = deployment["work_pool"]["name"]
    if pool not in pools:
        return f"work pool {pool!r} does not exist (see the README to create it)"
    if check_blocks:
        missing = await missing_blocks(deployment["entrypoint"], deployment.get("parameters"))
        if missing:
            return (
                f"no blocks {', '.join(missing)} (make blocks; --without-blocks deploys it anyway)"
            )
    return None


async def reasons_to_skip(
    deployments: list[dict[str, Any]], check_blocks: bool
) -> dict[str, str | None]:
    """Each deployment's name -> why it cannot run here (None: deploy it)."""
    pools = await existing_pools({d["work_pool"]["name"] for d in deployments})
    return {d["name"]: await why_not(d, pools, check_blocks) for d in deployments}


async def existing_pools(names: set[str]) -> set[str]:
    found: set[str] = set()
    async with get_client() as client:
        for name in names:
            try:
                await client.read_work_pool(name)
            except ObjectNotFound:
                continue
            found.add(name)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", help="deploy only this one (repeatable)")
    parser.add_argument(
        "--without-blocks", action="store_true", help="deploy even where its blocks do not exist"
    )
    options = parser.parse_args()
    wanted = [
        deployment
        for deployment in deployments_in(ROOT / "prefect.yaml")
        if not options.only or deployment["name"] in options.only
    ]
    failed = []
    for name, reason in asyncio.run(reasons_to_skip(wanted, not options.without_blocks)).items():
        if reason:
            print(f"skipped {name}: {reason}")
            continue
        command = [sys.executable, "-m", "prefect", "--no-prompt", "deploy", "--name", name]
        if subprocess.run(command, cwd=ROOT, check=False).returncode != 0:
            failed.append(name)
    if failed:
        print(f"could not deploy: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(exit_clearly_when_refused(main))
