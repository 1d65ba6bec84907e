"""The run's report: the Prefect artifacts and the counts in the log."""

from __future__ import annotations

from collections.abc import Sequence

from prefect import task
from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger

from subscription_events.lanes import (
    EventResult,
    Queue,
)
from subscription_events.report import EventsRunReport


@task(name="publish-events-report", cache_policy=NO_CACHE)
async def publish_events_report(results: Sequence[EventResult], queue: Queue) -> EventsRunReport:
    report = EventsRunReport(results, held_not_listed=queue.held_total - len(queue.held))
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
