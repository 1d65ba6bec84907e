"""Processing the events: one task run per customer lane, retried by Prefect from the event
that met a transient gateway error."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger

from blocks.errors import TransientApiError
from blocks.gym_erp.rows import EventRow
from blocks.http import RetryPolicy
from blocks.language import Language
from subscription_events.events import Lane
from subscription_events.handlers import Services
from subscription_events.lanes import (
    EventResult,
    LaneProgress,
    Retrying,
    process_lane,
)
from subscription_events.texts import reason, say, status_name
from tasks.retries import retry_options, wait_before_retry
from tasks.subscription_events.systems import EventsSystems


@task(name="process-customer-events", task_run_name="eventos-{lane.key}", cache_policy=NO_CACHE)
async def process_customer_events(
    lane: Lane,
    services: Services,
    progress: LaneProgress,
    policy: RetryPolicy,
    language: Language,
) -> list[EventResult]:
    """The customer's events in order, from where `progress` stopped (a retry goes on from the
    event that met a transient gateway error), each tried up to `policy.attempts` times; each
    try that failed and each event's result logged in `language` (the reason as written to
    `rec_log_sync`, in Portuguese)."""
    logger = get_run_logger()

    async def before_retry(event: EventRow, failed: int, error: TransientApiError) -> None:
        logger.warning(
            say(
                language,
                "log.try_failed",
                code=event.sigla,
                guid=event.id_guid,
                failed=failed,
                attempts=policy.attempts,
                error=error.problem.describe(language),
            )
        )
        await wait_before_retry(error, policy, failed)

    retrying = Retrying(policy.attempts, before_retry)
    results = await process_lane(lane, services, retrying, progress=progress)
    for result in results:
        status = status_name(language, result.status)
        logger.info(f"{status}: {result.sigla} {result.id_guid}: {reason(language, result)}")
    return results


async def process_all_lanes(
    lanes: Sequence[Lane], systems: EventsSystems, max_concurrent: int, language: Language
) -> list[EventResult]:
    """One task run per customer lane, at most `max_concurrent` at a time, logging in
    `language`."""
    limit = asyncio.Semaphore(max_concurrent)
    policy = systems.gateway_retry

    async def bounded(lane: Lane) -> list[EventResult]:
        # Retries enough for every event of the lane to use its own tries.
        retried = process_customer_events.with_options(
            **{**retry_options(policy), "retries": (policy.attempts - 1) * len(lane.events)}
        )
        async with limit:
            return await retried(lane, systems.services, LaneProgress(), policy, language)

    # A failing lane (the ERP database is down) stops the others: their events stay pending,
    # and a cancelled event is safe to repeat thanks to its idempotency keys.
    async with asyncio.TaskGroup() as group:
        running = [group.create_task(bounded(lane)) for lane in lanes]
    return [result for task in running for result in task.result()]
