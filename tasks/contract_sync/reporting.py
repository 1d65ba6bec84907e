"""The audit trail every run leaves: a table of every decision and a markdown summary."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.logging import get_run_logger
from prefect.runtime import flow_run as flow_run_context
from prefect.states import Completed, Failed, State

from contract_sync.report import RunReport
from contract_sync.texts import say

DECISIONS_KEY = "contract-sync-decisions"
SUMMARY_KEY = "contract-sync-summary"


RESTORE_DECISIONS_KEY = "contract-restore-decisions"
RESTORE_SUMMARY_KEY = "contract-restore-summary"


@task(name="report", cache_policy=NO_CACHE)
async def publish_report(report: RunReport, restore_lane: bool = False) -> None:
    """The decision table and summary as artifacts; the restore lane's under keys of its own,
    so its runs every few minutes do not bury the hourly run's latest report in the UI."""
    headline = report.headline()
    decisions, summary = (
        (RESTORE_DECISIONS_KEY, RESTORE_SUMMARY_KEY)
        if restore_lane
        else (DECISIONS_KEY, SUMMARY_KEY)
    )
    await acreate_table_artifact(key=decisions, table=report.table_rows(), description=headline)
    await acreate_markdown_artifact(key=summary, markdown=report.markdown(), description=headline)
    get_run_logger().info(headline)


async def label_as_dry_run(language: str) -> None:
    """A dry run says so in the runs list: its name ends with the label, and it is tagged with
    it (parameters are only seen on the run's page). A name that already says it is kept."""
    dry = say(language, "run.dry_label")
    name, tags = flow_run_context.name or "", list(flow_run_context.tags or [])
    async with get_client() as client:
        await client.update_flow_run(
            flow_run_context.id,
            name=name if dry in name else f"{name}-{dry}",
            tags=tags if dry in tags else [*tags, dry],
        )


def final_state(report: RunReport) -> State[Any]:
    """Completed when the run did everything it should have; Failed, saying why, otherwise."""
    if report.complete:
        return Completed(message=report.headline())
    get_run_logger().error(report.headline())
    return Failed(message=failure_message(report))


def failure_message(report: RunReport) -> str:
    language = report.language
    reasons = [report.stopped_because] if report.stopped_because else []
    reasons += report.problems[:3]
    if report.failed_changes:
        reasons.append(say(language, "failure.changes_failed", count=len(report.failed_changes)))
    if report.unsent_notifications:
        reasons.append(
            say(
                language,
                "failure.unsent",
                messages=len(report.unsent_notifications),
                changes=len(report.unannounced_changes),
            )
        )
    return f"{report.headline()} | " + "; ".join(reasons)
