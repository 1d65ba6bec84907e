"""Prefect task retries for calls to external systems: transient errors only, backoff with jitter.

Retries are Prefect's own, so the UI shows each one as a state of its task run (AwaitingRetry,
then Retrying, with the run count): a read page, a write or a Discord message that failed once
and then worked is visible as such. A permanent error (refused credentials, 4xx, validation)
fails the task run at once. Prefect waits the policy's first delay before each retry: one
number, which the UI shows as the task's Retry Delay (a list of growing delays shows as
"Retry Delay: NaNs"). What a longer wait asks for beyond it - the doubling backoff, a 429's
Retry-After - is waited inside the failing attempt, before Prefect schedules the retry, so the
next try never comes earlier than the backoff or the system asked.
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


def only_transient(task: Any, task_run: Any, state: Any) -> bool:
    """`retry_condition_fn`: retry a failed task run only for a transient API error.

    Prefect hands the exception over as the data of a Failed state (`state.result()` would be
    a coroutine here, in the async engine).
    """
    return isinstance(state.data, TransientApiError)


def retry_options(policy: RetryPolicy) -> dict[str, Any]:
    """`Task.with_options(...)` arguments for `policy`: its attempts, transient errors only.

    Prefect waits the first delay; `waiting_before_retry` the rest of a longer one.
    """
    return {
        "retries": max(0, policy.attempts - 1),
        "retry_delay_seconds": policy.base_delay,
        "retry_condition_fn": only_transient,
    }


async def waiting_before_retry(call: Awaitable[T], policy: RetryPolicy) -> T:
    """Await `call`; on a transient error, if a retry follows, wait what the policy's backoff
    (or a 429's Retry-After, when longer) asks for beyond Prefect's own delay, then re-raise.

    Above the policy's ceiling the error becomes `RetryAfterTooLong`: failing clearly beats
    retrying early or waiting for an hour inside a run.
    """
    try:
        return await call
    except TransientApiError as error:
        failed_attempts = _failed_attempts_if_retried()
        if failed_attempts is not None:
            wait = _beyond_prefects_delay(error, policy, failed_attempts)
            if isinstance(error, RateLimited) and error.retry_after is not None:
                get_run_logger().warning(
                    "%s asked to wait %.1f s (429); waiting before the retry", error.system, wait
                )
            if wait > 0:
                await asyncio.sleep(wait)
        raise


async def wait_before_retry(
    error: TransientApiError, policy: RetryPolicy, failed_attempts: int
) -> None:
    """After `failed_attempts` failed tries, the last with `error`, wait what `policy` asks for
    beyond Prefect's own delay before its retry; `RetryAfterTooLong` when a 429 asks for more
    than the policy waits. Silent: the caller logs why it waits, in its run's language."""
    wait = _beyond_prefects_delay(error, policy, failed_attempts)
    if wait > 0:
        await asyncio.sleep(wait)


def _beyond_prefects_delay(
    error: TransientApiError, policy: RetryPolicy, failed_attempts: int
) -> float:
    """What `policy` asks to wait after `failed_attempts` failed tries (a 429's Retry-After when
    longer) minus Prefect's own delay (`base_delay`); `RetryAfterTooLong` past its ceiling."""
    return policy.delay(failed_attempts, error) - policy.base_delay


def _failed_attempts_if_retried() -> int | None:
    """How many tries of this task run failed, this one included, when Prefect retries it."""
    context = TaskRunContext.get()
    if context is None or context.task_run is None:
        return None
    run_count = context.task_run.run_count
    return run_count if run_count <= context.task.retries else None
