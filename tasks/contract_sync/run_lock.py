"""One contract-sync run at a time per MagnusBilling server, held even while a run awaits approval.

Why not the deployment's concurrency limit: Prefect releases a deployment's slot when a run
leaves Running, so a run paused for approval loses it - the next hourly run starts and pauses
too (two approvals for one change set), and the paused run is crashed when its lease renewal
is refused. Runs must also never overlap for the notification ledger.

So the runs take a global concurrency limit of their own (limit 1, named after the Magnus
server), held by the flow process through a lease it keeps renewing - whatever the run's state,
Paused included. A run killed without cleaning up frees it when its lease expires
(`LEASE_SECONDS`). It works alike for a process worker, a Docker worker and `make serve`,
because the lock lives in the Prefect server, not on the machine.

The restore lane (flows/contract_restore.py) has a lock of its own (`RESTORE_FLOW_NAME`): two
restore runs never both act, and a restore run never waits for a long hourly run - both only
ever hold one Magnus save at a time, under the per-save lock of the write path.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterId,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import ConcurrencyLeaseHolder, StateType
from prefect.concurrency.asyncio import concurrency

FLOW_NAME = "contract-sync"
RESTORE_FLOW_NAME = "contract-restore"
LEASE_SECONDS = 60  # a crashed holder blocks the next run at most this long
WAIT_SECONDS = 5  # a busy lock means another run is at work: do not queue behind it


class LockHeld(Exception):
    """The lock is held: another run is writing or waiting for approval."""

    def __init__(self, holder: str) -> None:
        super().__init__(holder)
        self.holder = holder


def lock_name(magnus_url: str, flow_name: str = FLOW_NAME) -> str:
    """`contract-sync-voip.example.com-443`: one lock per flow and Magnus server written to."""
    parts = urlsplit(magnus_url)
    where = f"{parts.hostname or 'magnus'}-{parts.port or ''}".rstrip("-")
    return f"{flow_name}-{re.sub(r'[^A-Za-z0-9.-]+', '-', where)}"


@asynccontextmanager
async def one_run_at_a_time(
    magnus_url: str, flow_run_id: UUID, flow_name: str = FLOW_NAME
) -> AsyncIterator[None]:
    """Hold `flow_name`'s lock for the block; `LockHeld` if another run holds it."""
    name = lock_name(magnus_url, flow_name)
    # Looked at first so that the usual case - the hourly run finding one that awaits approval -
    # is not a timed-out acquisition, which Prefect logs as an ERROR; two runs that both find it
    # free still cannot both take it.
    if await _taken(name):
        raise LockHeld(await _active_runs(flow_run_id, flow_name))
    try:
        async with concurrency(
            name,
            occupy=1,
            timeout_seconds=WAIT_SECONDS,
            lease_duration=LEASE_SECONDS,
            strict=True,
            holder=ConcurrencyLeaseHolder(type="flow_run", id=flow_run_id),
            raise_on_lease_renewal_failure=True,
        ):
            yield
    except TimeoutError:
        raise LockHeld(await _active_runs(flow_run_id, flow_name)) from None


async def _taken(name: str) -> bool:
    """Whether the lock `name` (created on first use) is held."""
    async with get_client() as client:
        await client.upsert_global_concurrency_limit_by_name(name, limit=1)
        lock = await client.read_global_concurrency_limit_by_name(name)
    return lock.active_slots >= lock.limit


async def _active_runs(own_id: UUID, flow_name: str) -> str:
    """Names and states of the other runs of `flow_name` that are running or paused."""
    async with get_client() as client:
        runs = await client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])),
            flow_run_filter=FlowRunFilter(
                id=FlowRunFilterId(not_any_=[own_id]),
                state=FlowRunFilterState(
                    type=FlowRunFilterStateType(any_=[StateType.RUNNING, StateType.PAUSED])
                ),
            ),
            limit=5,
        )
    return ", ".join(f"{run.name} ({run.state_name})" for run in runs) or "?"
