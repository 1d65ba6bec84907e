"""Run both schedules in one long-lived process, without a work pool (`make serve`).

Useful on a single server: `prefect server start` somewhere (or Prefect Cloud), then this.
Each deployment runs one flow run at a time (a slow run cancels the next one instead of
overlapping it), and deployments stay scheduled when the process stops.
"""

from __future__ import annotations

import os

from prefect import serve
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.schedules import Cron

from flows.contract_sync import contract_sync
from flows.subscription_events import subscription_events

TIMEZONE = "America/Sao_Paulo"
ONE_AT_A_TIME = ConcurrencyLimitConfig(
    limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
)


def main() -> None:
    hourly = contract_sync.to_deployment(
        name="hourly",
        schedules=[Cron(os.environ.get("CONTRACT_SYNC_CRON", "0 * * * *"), timezone=TIMEZONE)],
        parameters={"unattended": os.environ.get("CONTRACT_SYNC_UNATTENDED", "false") == "true"},
        concurrency_limit=ONE_AT_A_TIME,
        tags=["contract-sync"],
    )
    every_minute = subscription_events.to_deployment(
        name="every-minute",
        schedules=[
            Cron(os.environ.get("SUBSCRIPTION_EVENTS_CRON", "* * * * *"), timezone=TIMEZONE)
        ],
        concurrency_limit=ONE_AT_A_TIME,
        tags=["subscription-events"],
    )
    serve(hourly, every_minute, pause_on_shutdown=False)


if __name__ == "__main__":
    main()
