"""Deploy every deployment of prefect.yaml whose work pool exists (`make deploy`).

`prefect deploy --all` stops at the first deployment whose work pool is missing, so on a server
without a Docker pool it never gets past `hourly-docker`. This deploys each deployment whose
pool exists, one `prefect deploy --name` at a time, says which it skipped and why, and exits
non-zero if a deployment whose pool exists could not be deployed.

    python -m deployments.deploy [--only NAME ...]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
from pathlib import Path

import yaml
from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound

ROOT = Path(__file__).resolve().parents[1]


def deployments_in(prefect_yaml: Path) -> list[tuple[str, str]]:
    """(deployment name, work pool name) of each deployment, in file order."""
    document = yaml.safe_load(prefect_yaml.read_text())
    return [
        (deployment["name"], deployment["work_pool"]["name"])
        for deployment in document.get("deployments", [])
    ]


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
    options = parser.parse_args()
    wanted = [
        (name, pool)
        for name, pool in deployments_in(ROOT / "prefect.yaml")
        if not options.only or name in options.only
    ]
    pools = asyncio.run(existing_pools({pool for _, pool in wanted}))
    failed = []
    for name, pool in wanted:
        if pool not in pools:
            print(
                f"skipped {name}: work pool {pool!r} does not exist (see the README to create it)"
            )
            continue
        command = [sys.executable, "-m", "prefect", "--no-prompt", "deploy", "--name", name]
        if subprocess.run(command, cwd=ROOT, check=False).returncode != 0:
            failed.append(name)
    if failed:
        print(f"could not deploy: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
