"""One contract-sync run at a time per MagnusBilling server, held even while a run awaits approval.

Why not the deployment's concurrency limit: Prefect releases a deployment's slot when a run
leaves Running, so a run paused for approval loses it - the next hourly run starts and pauses
too (two approvals for one change set), and the paused run is crashed when its lease renewal
is refused. Runs must also never overlap for the notification ledger.

So the runs take a global concurrency limit of their own (limit 1, named after the Magnus
server), held by the flow process through a lease it keeps renewing - whatever the run's state,
Paused included. A run killed without cleaning up frees it when its lease expires
(`server_lock.LEASE_SECONDS`). It works alike for a process worker, a Docker worker and
`make serve`, because the lock lives in the Prefect server, not on the machine (`server_lock`,
the same mechanism as the per-save lock; switched off in the Prefect UI, it is switched on
again).

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

from contract_sync.texts import DEFAULT_LANGUAGE
from tasks.contract_sync.server_lock import LockBusy, held_alone

FLOW_NAME = "contract-sync"
RESTORE_FLOW_NAME = "contract-restore"


class LockHeld(Exception):
    """The lock is held: another run is writing or waiting for approval."""

    def __init__(self, holder: str) -> None:
        super().__init__(holder)
        self.holder = holder


def magnus_server(magnus_url: str) -> str:
    """`voip.example.com-443`: the Magnus server a URL points at, as a lock name part."""
    parts = urlsplit(magnus_url)
    where = f"{parts.hostname or 'magnus'}-{parts.port or ''}".rstrip("-")
    return re.sub(r"[^A-Za-z0-9.-]+", "-", where)


def lock_name(magnus_url: str, flow_name: str = FLOW_NAME) -> str:
    """`contract-sync-voip.example.com-443`: one lock per flow and Magnus server written to."""
    return f"{flow_name}-{magnus_server(magnus_url)}"


@asynccontextmanager
async def one_run_at_a_time(
    magnus_url: str,
    flow_run_id: UUID,
    language: str = DEFAULT_LANGUAGE,
    flow_name: str = FLOW_NAME,
) -> AsyncIterator[None]:
    """Hold `flow_name`'s lock for the block; `LockHeld` at once if another run holds it.

    A busy lock is seen before it is asked for, so the usual case - the hourly run finding
    one that awaits approval - is no timed-out acquisition (which Prefect logs as an ERROR);
    two runs that both find it free still cannot both take it.
    """
    try:
        async with held_alone(
            lock_name(magnus_url, flow_name),
            ConcurrencyLeaseHolder(type="flow_run", id=flow_run_id),
            wait_seconds=0,
            poll_seconds=1,
            language=language,
        ):
            yield
    except LockBusy:
        raise LockHeld(await _active_runs(flow_run_id, flow_name)) from None


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
