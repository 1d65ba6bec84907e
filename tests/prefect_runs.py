"""What a flow run's tasks did, read back from the Prefect API as an operator's UI shows it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.objects import State, TaskRun

# How long a test waits for a run (or its record) to get somewhere it should. Long on purpose: in
# CI six test processes share two cores and a run takes 3-4 times its idle time (a guarded run
# with 16 saves took 22 s idle and over 60 s there); a run that never gets there still fails.
PATIENCE_SECONDS = 300.0


async def finished_task_runs(
    flow_run_id: UUID,
    named: Callable[[str], bool],
    count: int = 1,
    within: float = PATIENCE_SECONDS,
) -> list[TaskRun]:
    """The flow run's task runs whose name is `named` - at least `count`, all finished.
    Prefect records task runs from events, a little after they happen: wait up to `within`."""
    deadline = time.monotonic() + within
    async with get_client() as client:
        while True:
            found = [
                task_run
                for task_run in await client.read_task_runs(
                    flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
                )
                if named(task_run.name)
            ]
            if len(found) >= count and all(t.state and t.state.is_final() for t in found):
                return found
            assert time.monotonic() < deadline, f"{count} finished task run(s) not recorded"
            await asyncio.sleep(0.3)


async def state_history(task_run: TaskRun) -> list[State[Any]]:
    """Every state the task run went through, oldest first (retries included)."""
    async with get_client() as client:
        states = await client.read_task_run_states(task_run.id)
    return sorted(states, key=lambda state: state.timestamp)


async def finished(running: asyncio.Task[State[Any]]) -> State[Any]:
    """The final state of a flow run the test started as a task, within `PATIENCE_SECONDS`."""
    return await asyncio.wait_for(running, PATIENCE_SECONDS)


async def eventually(check: Callable[[], bool], what: str) -> None:
    """Wait until `check()` holds (a hook or a batch that lands a little after the state), up
    to `PATIENCE_SECONDS`; fail saying `what` did not happen."""
    deadline = time.monotonic() + PATIENCE_SECONDS
    while not check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.1)
