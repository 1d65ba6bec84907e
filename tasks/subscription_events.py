"""subscription-events' Prefect tasks: thin, named steps over `subscription_events`.

Each customer's events are one `process-customer-events` task run, retried by Prefect - each
retry a state of the task run in the UI (AwaitingRetry, then Retrying) - when an event's gateway
call meets a transient error (timeout, reset, 429 after its Retry-After, 5xx, garbled answer) and
the event has tries left (the Mundipagg block's `attempts`, per event). The retry goes on from
that event, still claimed, making its calls again with the same idempotency keys; its last try
records its outcome, so a task run never fails because of one event. (One task run per event
would cost Prefect's own ~7 ms per task run on every event.) Clients and the database are
passed in, so tasks are `NO_CACHE`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from prefect import task
from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger
from prefect.runtime import flow_run

from blocks.discord.block import Discord
from blocks.errors import ApiError, TransientApiError
from blocks.gym_erp.block import GymErpDatabase
from blocks.gym_erp.cards import FernetCardKey
from blocks.gym_erp.database import ErpDatabase
from blocks.gym_erp.rows import EventRow
from blocks.http import RetryPolicy
from blocks.mundipagg.block import Mundipagg
from clock import Clock
from subscription_events.events import Lane
from subscription_events.handlers import Services
from subscription_events.lanes import (
    STALE_CLAIM,
    EventResult,
    LaneProgress,
    Queue,
    Retrying,
    plan_pending,
    process_lane,
    read_queue,
    take_back_stale_claims,
)
from subscription_events.notice import run_notice
from subscription_events.report import RunReport
from tasks.retries import retry_options, wait_before_retry


@dataclass(frozen=True)
class Connected:
    """What the events run with, and how an event is retried on transient gateway errors."""

    services: Services
    gateway_retry: RetryPolicy


@asynccontextmanager
async def connected(
    erp_block: str, gateway_block: str, card_key_block: str, timezone: str
) -> AsyncIterator[Connected]:
    """The ERP database, the gateway client, the card decryptor and the gym's clock."""
    clock = Clock.in_zone(timezone)
    erp_settings = await GymErpDatabase.aload(erp_block)
    gateway_settings = await Mundipagg.aload(gateway_block)
    card_key = await FernetCardKey.aload(card_key_block)
    erp = erp_settings.database(clock)
    try:
        async with gateway_settings.client() as gateway:
            services = Services(erp, gateway, card_key.cipher(), clock)
            yield Connected(services, gateway_settings.retry_policy())
    finally:
        erp.dispose()


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
    lanes: Sequence[Lane], connected: Connected, max_concurrent: int
) -> list[EventResult]:
    """One task run per customer lane, at most `max_concurrent` at a time."""
    limit = asyncio.Semaphore(max_concurrent)
    policy = connected.gateway_retry

    async def bounded(lane: Lane) -> list[EventResult]:
        # Retries enough for every event of the lane to use its own tries.
        retried = process_customer_events.with_options(
            **{**retry_options(policy), "retries": (policy.attempts - 1) * len(lane.events)}
        )
        async with limit:
            return await retried(lane, connected.services, LaneProgress(), policy)

    # A failing lane (the ERP database is down) stops the others: their events stay pending,
    # and a cancelled event is safe to repeat thanks to its idempotency keys.
    async with asyncio.TaskGroup() as group:
        running = [group.create_task(bounded(lane)) for lane in lanes]
    return [result for task in running for result in task.result()]


@task(name="publish-report", cache_policy=NO_CACHE)
async def publish_report(results: Sequence[EventResult], queue: Queue) -> RunReport:
    report = RunReport(results, held_not_listed=queue.held_total - len(queue.held))
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


@task(name="notify-team", cache_policy=NO_CACHE)
async def notify_team(report: RunReport, discord_block: str) -> bool:
    """Tell the team on the Discord block's errors webhook about events that ended E or were
    held back in this run; whether a message went out.

    It runs after every event was processed and committed, and a missing block or a Discord
    failure is only logged: a notice never undoes or stops the processing it reports.
    """
    logger = get_run_logger()
    if not report.failed and not report.newly_held:
        return False
    try:
        discord = await Discord.aload(discord_block)
    except Exception as error:  # missing or unreadable block: the events are processed anyway
        logger.warning(
            "Aviso no Discord não enviado: bloco Discord '%s' indisponível (%s)",
            discord_block,
            type(error).__name__,
        )
        return False
    message = run_notice(report, discord.language, flow_run.name or "?")
    if message is None:
        return False
    try:
        async with discord.errors_webhook() as webhook:
            await webhook.post(message)
    except Exception as error:  # the webhook URL is a secret: only our own error texts go out
        detail = str(error) if isinstance(error, ApiError) else type(error).__name__
        logger.error("Aviso no Discord não enviado: %s", detail)
        return False
    return True
