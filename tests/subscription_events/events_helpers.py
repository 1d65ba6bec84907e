"""Running the events without Prefect (each tried once) or as a flow run does (each lane a task
run that Prefect retries), and reading back what the ERP holds."""

from __future__ import annotations

from typing import Any

from prefect import flow
from sqlalchemy import select
from sqlalchemy.engine import Engine

from blocks.gym_erp.schema import metadata, sync_log
from blocks.http import RetryPolicy
from blocks.language import DEFAULT_LANGUAGE
from subscription_events.handlers import Services
from subscription_events.lanes import (
    EventResult,
    plan_pending,
    process_lane,
    read_queue,
    take_back_stale_claims,
)
from tasks.subscription_events.processing import process_all_lanes
from tasks.subscription_events.systems import EventsSystems

# Three tries an event, at once (the Mundipagg block's attempts and retry_base_seconds).
FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)


async def run_pending(services: Services, limit: int = 10_000) -> dict[str, EventResult]:
    """One pass over the queue as a flow run makes it, lane after lane, each event tried once;
    results by event guid."""
    await take_back_stale_claims(services.erp)
    queue = await read_queue(services.erp, limit)
    lanes = await plan_pending(services.erp, queue.events)
    return {
        result.id_guid: result for lane in lanes for result in await process_lane(lane, services)
    }


async def run_pending_retried(
    services: Services, policy: RetryPolicy = FAST_RETRY
) -> dict[str, EventResult]:
    """`run_pending` inside a flow run, each lane a `process-customer-events` task run that
    Prefect retries on transient gateway errors (needs the `prefect_harness`)."""

    @flow(name="subscription-events-pass")
    async def one_pass() -> dict[str, EventResult]:
        await take_back_stale_claims(services.erp)
        queue = await read_queue(services.erp, 10_000)
        lanes = await plan_pending(services.erp, queue.events)
        systems = EventsSystems(services, policy)
        results = await process_all_lanes(lanes, systems, 10, DEFAULT_LANGUAGE)
        return {result.id_guid: result for result in results}

    return await one_pass()


def row(engine: Engine, table: str, **key: Any) -> dict[str, Any]:
    (found,) = rows(engine, table, **key)
    return found


def rows(engine: Engine, table: str, **equal_to: Any) -> list[dict[str, Any]]:
    source = metadata.tables[table]
    query = select(source)
    for column, value in equal_to.items():
        query = query.where(source.c[column] == value)
    with engine.connect() as connection:
        return [dict(found._mapping) for found in connection.execute(query)]


def log_of(engine: Engine, guid: str) -> list[dict[str, Any]]:
    return sorted(rows(engine, sync_log.name, id_evento=guid), key=lambda entry: entry["id"])
