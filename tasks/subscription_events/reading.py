"""Reading the queue: stale claims taken back, the pending and held events, the lanes."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger

from blocks.gym_erp.database import ErpDatabase
from subscription_events.events import Lane
from subscription_events.lanes import (
    STALE_CLAIM,
    Queue,
    plan_pending,
    read_queue,
    take_back_stale_claims,
)


@task(name="read-pending-events", cache_policy=NO_CACHE)
async def read_pending_events(erp: ErpDatabase, limit: int) -> Queue:
    """The oldest `limit` events that may run (held ones never take their place), and those
    held behind an older failed event of their chain; first, events claimed by a run that
    crashed are taken back."""
    logger = get_run_logger()
    taken_back = await take_back_stale_claims(erp)
    if taken_back:
        logger.warning(
            "%d evento(s) reservado(s) há mais de %d minutos por uma execução que não terminou "
            "voltaram para N e serão processados de novo (mesmas chaves de idempotência)",
            taken_back,
            STALE_CLAIM.total_seconds() // 60,
        )
    queue = await read_queue(erp, limit)
    logger.info(
        "%d evento(s) pendente(s) (limite %d); %d aguardam um evento com erro",
        len(queue.runnable),
        limit,
        queue.held_total,
    )
    return queue


@task(name="group-events-by-customer", cache_policy=NO_CACHE)
async def group_events(erp: ErpDatabase, queue: Queue) -> list[Lane]:
    """Lanes of events per customer, noting events held behind an earlier failed one."""
    lanes = await plan_pending(erp, queue.events)
    held = sum(1 for lane in lanes for planned in lane.events if planned.held_by is not None)
    get_run_logger().info(
        "%d evento(s) em %d fila(s) de cliente; %d aguardam um evento com erro",
        len(queue.events),
        len(lanes),
        held,
    )
    return lanes
