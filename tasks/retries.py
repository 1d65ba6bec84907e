"""Prefect task retries for calls to external systems: transient errors only, backoff with jitter.

Retries are Prefect's own, so the UI shows each one as a state of its task run (AwaitingRetry,
then Retrying, with the run count): a read page, a write or a Discord message that failed once
and then worked is visible as such. A permanent error (refused credentials, 4xx, validation)
fails the task run at once. A 429's Retry-After is waited out inside the failing attempt,
before Prefect schedules the retry, so the next try never comes earlier than the system asked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from prefect.context import TaskRunContext
from prefect.logging import get_run_logger

from blocks.errors import RateLimited, TransientApiError
from blocks.http import RetryPolicy

T = TypeVar("T")
JITTER_FACTOR = 0.5


def only_transient(task: Any, task_run: Any, state: Any) -> bool:
    """`retry_condition_fn`: retry a failed task run only for a transient API error.

    Prefect hands the exception over as the data of a Failed state (`state.result()` would be
    a coroutine here, in the async engine).
    """
    return isinstance(state.data, TransientApiError)


def retry_options(policy: RetryPolicy) -> dict[str, Any]:
    """`Task.with_options(...)` arguments for `policy`: its attempts, doubling delays, jitter."""
    retries = max(0, policy.attempts - 1)
    delays = [min(policy.max_delay, policy.base_delay * 2**n) for n in range(retries)]
    return {
        "retries": retries,
        "retry_delay_seconds": delays or 0,
        "retry_jitter_factor": JITTER_FACTOR,
        "retry_condition_fn": only_transient,
    }


async def waiting_out_rate_limits(call: Awaitable[T], policy: RetryPolicy) -> T:
    """Await `call`; on a 429 with a Retry-After, wait that long (if a retry follows) and re-raise.

    Above the policy's ceiling the error becomes `RetryAfterTooLong`: failing clearly beats
    retrying early or waiting for an hour inside a run.
    """
    try:
        return await call
    except RateLimited as error:
        if error.retry_after is not None and _retries_left():
            wait = policy.delay(1, error)  # raises past the ceiling
            get_run_logger().warning(
                "%s asked to wait %.1f s (429); waiting before the retry", error.system, wait
            )
            await asyncio.sleep(wait)
        raise


def _retries_left() -> bool:
    context = TaskRunContext.get()
    if context is None or context.task_run is None:
        return False
    return context.task_run.run_count <= context.task.retries
