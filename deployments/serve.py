"""Run the schedules in one long-lived process, without a work pool (`make serve`).

Useful on a single server: `prefect server start` somewhere (or Prefect Cloud), then this.
Deployments stay scheduled when the process stops (`pause_on_shutdown=False`).
"""

from __future__ import annotations

import os

from prefect import serve
from prefect.schedules import Cron

from flows.contract_sync import contract_sync

TIMEZONE = "America/Sao_Paulo"


def main() -> None:
    hourly = contract_sync.to_deployment(
        name="hourly",
        schedules=[Cron(os.environ.get("CONTRACT_SYNC_CRON", "0 * * * *"), timezone=TIMEZONE)],
        parameters={"unattended": os.environ.get("CONTRACT_SYNC_UNATTENDED", "false") == "true"},
        concurrency_limit=1,
        tags=["contract-sync"],
    )
    serve(hourly, pause_on_shutdown=False)


if __name__ == "__main__":
    main()
