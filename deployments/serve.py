"""Run the schedules in one long-lived process, without a work pool (`make serve`).

Useful on a single server: `make server` (or any Prefect server), then this. It serves only the
flows whose blocks exist (contract-sync and its restore lane need the MagnusBilling, IXC and
Discord blocks; subscription-events its gym ERP, card key and Mundipagg blocks), under deployment
names of its own (`hourly-served`, `restore-served`, `every-minute-served`): serving under the
names `prefect deploy` uses would take those deployments over (their pull steps and work pool)
and break them. Schedules are not paused when this process stops. The restore lane's schedule:
$CONTRACT_RESTORE_CRON (every 5 minutes by default).
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from prefect import serve
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.schedules import Cron

from clock import DEFAULT_TIMEZONE
from deployments.needed_blocks import CONTRACT_SYNC, SUBSCRIPTION_EVENTS, missing_blocks
from flows.contract_restore import contract_restore
from flows.contract_sync import contract_sync
from flows.subscription_events import subscription_events


def deployments() -> list[Any]:
    served = []
    if not (missing := asyncio.run(missing_blocks(CONTRACT_SYNC))):
        # No deployment concurrency limit: the runs' own lock holds through approvals.
        served.append(
            contract_sync.to_deployment(
                name="hourly-served",
                schedules=[
                    Cron(
                        os.environ.get("CONTRACT_SYNC_CRON", "0 * * * *"), timezone=DEFAULT_TIMEZONE
                    )
                ],
                parameters={
                    "unattended": os.environ.get("CONTRACT_SYNC_UNATTENDED", "false") == "true"
                },
                tags=["contract-sync"],
            )
        )
        served.append(
            contract_restore.to_deployment(
                name="restore-served",
                schedules=[
                    Cron(
                        os.environ.get("CONTRACT_RESTORE_CRON", "*/5 * * * *"),
                        timezone=DEFAULT_TIMEZONE,
                    )
                ],
                tags=["contract-sync", "contract-restore"],
            )
        )
    else:
        print(f"not serving contract-sync: no blocks {', '.join(missing)} (make blocks)")
    if not (missing := asyncio.run(missing_blocks(SUBSCRIPTION_EVENTS))):
        served.append(
            subscription_events.to_deployment(
                name="every-minute-served",
                schedules=[
                    Cron(
                        os.environ.get("SUBSCRIPTION_EVENTS_CRON", "* * * * *"),
                        timezone=DEFAULT_TIMEZONE,
                    )
                ],
                concurrency_limit=ConcurrencyLimitConfig(
                    limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
                ),
                tags=["subscription-events"],
            )
        )
    else:
        print(f"not serving subscription-events: no blocks {', '.join(missing)}")
    return served


def main() -> int:
    served = deployments()
    if not served:
        print("nothing to serve: create the blocks first (make blocks)", file=sys.stderr)
        return 2
    serve(*served, pause_on_shutdown=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
