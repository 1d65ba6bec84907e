"""subscription-events' Prefect tasks: thin, named steps over `subscription_events`.

Gateway retries happen inside the Mundipagg client, per call, and only for transient errors
(timeouts, 429, 5xx); a task never fails because of one event, it records the event's outcome.
Clients and the database are passed in, so tasks are `NO_CACHE`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from prefect import task
from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger

from blocks.gym_erp.block import GymErpDatabase
from blocks.gym_erp.cards import FernetCardKey
from blocks.gym_erp.database import ErpDatabase
from blocks.gym_erp.rows import EventRow
from blocks.mundipagg.block import Mundipagg
from clock import Clock
from subscription_events.events import Lane
from subscription_events.handlers import Services
from subscription_events.lanes import EventResult, plan_pending, process_lane
from subscription_events.report import RunReport


@asynccontextmanager
async def connected(
    erp_block: str, gateway_block: str, card_key_block: str, timezone: str
) -> AsyncIterator[Services]:
    """The ERP database, the gateway client, the card decryptor and the gym's clock."""
    clock = Clock.in_zone(timezone)
    erp_settings = await GymErpDatabase.aload(erp_block)
    gateway_settings = await Mundipagg.aload(gateway_block)
    card_key = await FernetCardKey.aload(card_key_block)
    erp = erp_settings.database(clock)
    try:
        async with gateway_settings.client() as gateway:
            yield Services(erp, gateway, card_key.cipher(), clock)
    finally:
        erp.dispose()


@task(name="read-pending-events", cache_policy=NO_CACHE)
async def read_pending_events(erp: ErpDatabase, limit: int) -> list[EventRow]:
    pending = await erp.pending_events(limit)
    get_run_logger().info("%d evento(s) pendente(s) (limite %d)", len(pending), limit)
    return pending


@task(name="group-events-by-customer", cache_policy=NO_CACHE)
async def group_events(erp: ErpDatabase, pending: Sequence[EventRow]) -> list[Lane]:
    """Lanes of events per customer, noting events held behind an earlier failed one."""
    lanes = await plan_pending(erp, pending)
    held = sum(1 for lane in lanes for planned in lane.events if planned.held_by is not None)
    get_run_logger().info(
        "%d evento(s) em %d fila(s) de cliente; %d aguardam um evento com erro",
        len(pending),
        len(lanes),
        held,
    )
    return lanes


@task(name="process-customer-events", task_run_name="eventos-{lane.key}", cache_policy=NO_CACHE)
async def process_customer_events(lane: Lane, services: Services) -> list[EventResult]:
    results = await process_lane(lane, services)
    logger = get_run_logger()
    for result in results:
        logger.info("%s %s %s: %s", result.status, result.sigla, result.id_guid, result.description)
    return results


async def process_all_lanes(
    lanes: Sequence[Lane], services: Services, max_concurrent: int
) -> list[EventResult]:
    """One task per customer lane, at most `max_concurrent` at a time."""
    limit = asyncio.Semaphore(max_concurrent)

    async def bounded(lane: Lane) -> list[EventResult]:
        async with limit:
            return await process_customer_events(lane, services)

    # A failing lane (the ERP database is down) stops the others: their events stay pending,
    # and a cancelled event is safe to repeat thanks to its idempotency keys.
    async with asyncio.TaskGroup() as group:
        running = [group.create_task(bounded(lane)) for lane in lanes]
    return [result for task in running for result in task.result()]


@task(name="publish-report", cache_policy=NO_CACHE)
async def publish_report(results: Sequence[EventResult]) -> RunReport:
    report = RunReport(results)
    await acreate_markdown_artifact(
        report.markdown(), key="subscription-events-summary", description="Resumo da execução"
    )
    if results:
        await acreate_table_artifact(
            report.table(), key="subscription-events", description="Cada evento e seu resultado"
        )
    counts = report.counts
    get_run_logger().info(
        "%d processado(s), %d com erro, %d aguardando", counts["P"], counts["E"], counts["N"]
    )
    return report
