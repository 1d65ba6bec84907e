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
from subscription_events.events import Lane
from subscription_events.handlers import Services
from subscription_events.lanes import (
    EventResult,
    LaneProgress,
    Retrying,
    process_lane,
)
from tasks.retries import retry_options, wait_before_retry
from tasks.subscription_events.systems import EventsSystems


@task(name="process-customer-events", task_run_name="eventos-{lane.key}", cache_policy=NO_CACHE)
async def process_customer_events(
    lane: Lane, services: Services, progress: LaneProgress, policy: RetryPolicy
) -> list[EventResult]:
    """The customer's events in order, from where `progress` stopped (a retry goes on from the
    event that met a transient gateway error), each tried up to `policy.attempts` times."""
    logger = get_run_logger()

    async def before_retry(event: EventRow, failed: int, error: TransientApiError) -> None:
        logger.warning(
            "%s %s: tentativa %d de %d falhou no gateway (%s); o evento será tentado de novo",
            event.sigla,
            event.id_guid,
            failed,
            policy.attempts,
            error,
        )
        await wait_before_retry(error, policy, failed)

    retrying = Retrying(policy.attempts, before_retry)
    results = await process_lane(lane, services, retrying, progress=progress)
    for result in results:
        logger.info("%s %s %s: %s", result.status, result.sigla, result.id_guid, result.description)
    return results


async def process_all_lanes(
    lanes: Sequence[Lane], systems: EventsSystems, max_concurrent: int
) -> list[EventResult]:
    """One task run per customer lane, at most `max_concurrent` at a time."""
    limit = asyncio.Semaphore(max_concurrent)
    policy = systems.gateway_retry

    async def bounded(lane: Lane) -> list[EventResult]:
        # Retries enough for every event of the lane to use its own tries.
        retried = process_customer_events.with_options(
            **{**retry_options(policy), "retries": (policy.attempts - 1) * len(lane.events)}
        )
        async with limit:
            return await retried(lane, systems.services, LaneProgress(), policy)

    # A failing lane (the ERP database is down) stops the others: their events stay pending,
    # and a cancelled event is safe to repeat thanks to its idempotency keys.
    async with asyncio.TaskGroup() as group:
        running = [group.create_task(bounded(lane)) for lane in lanes]
    return [result for task in running for result in task.result()]
