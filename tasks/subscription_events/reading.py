"""Reading the queue: stale claims taken back, the pending and held events, the lanes."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger

from blocks.gym_erp.database import ErpDatabase
from blocks.language import Language
from subscription_events.events import Lane
from subscription_events.lanes import (
    STALE_CLAIM,
    Queue,
    plan_pending,
    read_queue,
    take_back_stale_claims,
)
from subscription_events.texts import say


@task(name="read-pending-events", cache_policy=NO_CACHE)
async def read_pending_events(erp: ErpDatabase, limit: int, language: Language) -> Queue:
    """The oldest `limit` events that may run (held ones never take their place), and those
    held behind an older failed event of their chain; first, events claimed by a run that
    crashed are taken back."""
    logger = get_run_logger()
    taken_back = await take_back_stale_claims(erp)
    if taken_back:
        minutes = int(STALE_CLAIM.total_seconds() // 60)
        logger.warning(
            say(language, "log.stale_claims_taken_back", count=taken_back, minutes=minutes)
        )
    queue = await read_queue(erp, limit)
    logger.info(
        say(
            language,
            "log.pending",
            runnable=len(queue.runnable),
            limit=limit,
            held=queue.held_total,
        )
    )
    return queue


@task(name="group-events-by-customer", cache_policy=NO_CACHE)
async def group_events(erp: ErpDatabase, queue: Queue, language: Language) -> list[Lane]:
    """Lanes of events per customer, noting events held behind an earlier failed one."""
    lanes = await plan_pending(erp, queue.events)
    held = sum(1 for lane in lanes for planned in lane.events if planned.held_by is not None)
    get_run_logger().info(
        say(language, "log.lanes", events=len(queue.events), lanes=len(lanes), held=held)
    )
    return lanes
