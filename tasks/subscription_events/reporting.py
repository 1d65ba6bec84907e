"""The run's report: the Prefect artifacts and the counts in the log."""

from __future__ import annotations

from collections.abc import Sequence

from prefect import task
from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger

from blocks.language import Language
from subscription_events.lanes import EventResult, Queue
from subscription_events.report import EventsRunReport
from subscription_events.texts import say


@task(name="publish-events-report", cache_policy=NO_CACHE)
async def publish_events_report(
    results: Sequence[EventResult], queue: Queue, language: Language
) -> EventsRunReport:
    """The run's summary and (when it ran events) its table of events as artifacts, and its
    counts in the log, in `language`."""
    report = EventsRunReport(results, held_not_listed=queue.held_total - len(queue.held))
    await acreate_markdown_artifact(
        report.markdown(language),
        key="subscription-events-summary",
        description=say(language, "report.summary"),
    )
    if results:
        await acreate_table_artifact(
            report.table(language),
            key="subscription-events",
            description=say(language, "report.each_event"),
        )
    counts = report.counts
    get_run_logger().info(
        say(
            language,
            "log.counts",
            processed=counts["P"],
            failed=counts["E"],
            waiting=counts["N"],
        )
    )
    return report
