"""Running the events without Prefect, and reading back what the ERP holds."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from blocks.gym_erp.schema import metadata, sync_log
from subscription_events.handlers import Services
from subscription_events.lanes import (
    EventResult,
    plan_pending,
    process_lane,
    read_queue,
    take_back_stale_claims,
)


async def run_pending(services: Services, limit: int = 10_000) -> dict[str, EventResult]:
    """One pass over the queue as a flow run makes it, lane after lane; results by event guid."""
    await take_back_stale_claims(services.erp)
    queue = await read_queue(services.erp, limit)
    lanes = await plan_pending(services.erp, queue.events)
    return {
        result.id_guid: result for lane in lanes for result in await process_lane(lane, services)
    }


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
