"""Telling the team on Discord: every applied change exactly once, a run summary, and alerts.

Changes are announced from the notification ledger: this run's and any an interrupted earlier
run applied but never announced, each marked announced as soon as Discord accepts its message.
Every message is one `post-discord-message` task run with Prefect retries on transient errors,
in order; after one that still fails, the rest is not tried and stays owed to the next run. A
failed notification never undoes or hides a change: the run report lists it.

Alerts (a run failed or crashed, an approval is needed, a mass change was aborted) go to the
errors webhook, in the operators' language, with a link to the run in the Prefect UI. An alert
that cannot be sent is logged by its error type and never masks what it was about.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import FlowRun, State
from prefect.flows import Flow
from prefect.logging import get_run_logger
from prefect.utilities.urls import url_for

from blocks.discord.block import Discord
from blocks.discord.client import DiscordWebhook
from blocks.discord.models import DiscordMessage
from blocks.errors import ApiError
from contract_sync.decide import Action
from contract_sync.failures import failure_text
from contract_sync.ledger import LedgerEntry, NotificationLedger, WriteState
from contract_sync.messages import announcements, summary_message
from contract_sync.plan import PlannedChange
from contract_sync.report import RunReport
from contract_sync.texts import DEFAULT_LANGUAGE, label, say
from tasks.contract_sync.systems import Systems
from tasks.retries import retry_options, waiting_before_retry


@dataclass
class Outgoing:
    """One Discord message and the ledger entries it announces (marked once it is accepted)."""

    message: DiscordMessage
    announces: list[tuple[str, int]] = field(default_factory=list)


def run_link(flow_run_id: UUID | str | None, language: str) -> list[str]:
    """A line linking the run in the Prefect UI (none when no UI address is known)."""
    url = url_for("flow-run", obj_id=flow_run_id) if flow_run_id else None
    return [say(language, "alert.open_run", url=url)] if url else []


async def post_alert(
    discord: Discord,
    title: str,
    lines: Sequence[str],
    *,
    counts: Mapping[Action, int] | None = None,
    flow_run_id: UUID | str | None = None,
) -> None:
    """One alert on the errors webhook; a failure to send it is logged, never raised."""
    language = discord.language
    message = summary_message(
        title, [*lines, *run_link(flow_run_id, language)], counts or {}, language
    )
    try:
        async with discord.errors_webhook() as webhook:
            await webhook.post(message)
    except Exception as error:  # an alert must never mask what it reports
        get_run_logger().error(
            say(language, "log.alert_unsent", title=title, error=type(error).__name__)
        )


async def alert_on_failure(flow: Flow[..., Any], flow_run: FlowRun, state: State[Any]) -> None:
    """`on_failure` hook: tell the errors webhook a run failed, with its state message.

    Crashed and Late runs are the Prefect automations' (deployments/automations.py): this
    hook cannot see a run whose process died or never loaded the flow, and each failure is
    alerted once.
    """
    params = flow_run.parameters
    if params.get("dry_run") or not params.get("notify", True):
        return
    try:
        discord: Discord = await Discord.aload(params.get("discord_block", "default"))
    except Exception as error:  # no block, no alert: said in the run's log
        get_run_logger().error(
            say(DEFAULT_LANGUAGE, "log.no_discord_block", error=type(error).__name__)
        )
        return
    language = discord.language
    state_label = say(language, f"state.{state.type.value.title()}") if state.type else "?"
    await post_alert(
        discord,
        say(language, "alert.run_ended", run=flow_run.name, state=state_label),
        [state.message or say(language, "alert.no_message")],
        flow_run_id=flow_run.id,
    )


async def announce(
    systems: Systems, report: RunReport, notify: bool, *, restore_lane: bool = False
) -> None:
    """Announce every applied-but-unannounced change (this run's and earlier runs'), once.

    A dry run announces nothing: its plan is in its report. The restore lane announces only its
    own changes, under its own title: it runs beside the hourly run, whose applied changes are
    the hourly run's to announce (they are not an interrupted run's). Whatever goes wrong here,
    the run still publishes its report: an unexpected error is listed as notifications not sent
    (by its type only - its text may quote a webhook URL), with what the next run will announce.
    """
    ledger = systems.ledger
    if ledger is None:
        return
    try:
        await _announce(systems, ledger, report, notify, restore_lane)
    except Exception as error:
        unexpected = say(systems.language, "notify.unexpected", error=type(error).__name__)
        get_run_logger().error(unexpected)
        report.unsent_notifications.append(unexpected)
        with contextlib.suppress(Exception):
            report.unannounced_changes = [
                describe_change(e.change, systems.language) for e in ledger.unannounced()
            ]


async def _announce(
    systems: Systems,
    ledger: NotificationLedger,
    report: RunReport,
    notify: bool,
    restore_lane: bool,
) -> None:
    run_id, discord = systems.run_id, systems.discord
    pending = [e for e in ledger.unannounced() if not restore_lane or e.run_id == run_id]
    if not notify:  # this run's changes stay silent; earlier runs' wait for a run that notifies
        ledger.mark([e.key for e in pending if e.run_id == run_id], WriteState.SILENCED)
        return
    if not pending and report.complete:
        return
    title = say(discord.language, "summary.title_restore" if restore_lane else "summary.title")
    outgoing = _outgoing(pending, run_id, report, discord, title)
    async with discord.webhook() as webhook:
        report.unsent_notifications = await post_in_order(webhook, outgoing, ledger, discord)
    still = {e.key for e in ledger.unannounced()}
    language = discord.language
    report.unannounced_changes = [
        describe_change(e.change, language) for e in pending if e.key in still
    ]
    report.announced_late = [
        describe_change(e.change, language)
        for e in pending
        if e.run_id != run_id and e.key not in still
    ]


def describe_change(change: PlannedChange, language: str) -> str:
    return say(
        language,
        "describe.change",
        action=label(language, "action", change.action),
        customer=change.customer or change.username,
        username=change.username,
        contract=change.contract_id,
        before=change.magnus_active,
        after=change.target_active,
    )


def _outgoing(
    pending: list[LedgerEntry], run_id: str, report: RunReport, discord: Discord, title: str
) -> list[Outgoing]:
    """Announcements, each with the ledger keys of the changes it carries, then a summary."""
    language = discord.language
    changes = [entry.change for entry in pending]
    late = [entry.run_id != run_id for entry in pending]  # by ledger entry, not customer
    messages = announcements(changes, language, discord.max_embeds, late)
    outgoing: list[Outgoing] = []
    if len(changes) > discord.max_embeds:  # one summary message with the CSV of them all
        outgoing = [Outgoing(messages[0], [entry.key for entry in pending])]
    else:
        offset = 0
        for message in messages:
            carried = pending[offset : offset + len(message.embeds)]
            outgoing.append(Outgoing(message, [entry.key for entry in carried]))
            offset += len(message.embeds)
    lines = report.problems[:5] + [
        say(language, "summary.failed_line", who=o.magnus_id, detail=o.detail)
        for o in report.failed_changes[:5]
    ]
    if any(late):
        lines.append(say(language, "summary.late", count=sum(late)))
    lines += report.hold_lines()
    summary = summary_message(title, [report.headline(), *lines], {}, language)
    outgoing.append(Outgoing(summary))
    return outgoing


@task(name="post-discord-message", cache_policy=NO_CACHE)
async def post_message(webhook: DiscordWebhook, message: DiscordMessage, discord: Discord) -> None:
    await waiting_before_retry(webhook.post(message), discord.retry_policy())


async def post_in_order(
    webhook: DiscordWebhook,
    outgoing: Sequence[Outgoing],
    ledger: NotificationLedger,
    discord: Discord,
) -> list[str]:
    """Post in order, one task run each; after one fails for good the rest is not tried.

    Returns what was not sent. Each message's changes are marked announced in the ledger as
    soon as Discord accepts it, so a crash or an outage leaves exactly the unannounced ones.
    """
    poster = post_message.with_options(**retry_options(discord.retry_policy()))
    language = discord.language
    for position, item in enumerate(outgoing):
        state = await poster(webhook, item.message, discord, return_state=True)  # type: ignore[misc]  # Prefect types an async task's State as not awaited
        error = await state.aresult(raise_on_failure=False) if state.is_failed() else None
        if error is not None:
            why = (
                failure_text(error, language)
                if isinstance(error, ApiError)
                else say(language, "notify.unexpected_type", error=type(error).__name__)
            )
            get_run_logger().error(
                say(language, "log.message_unsent", position=position + 1, why=why)
            )
            return [
                say(
                    language,
                    "notify.unsent_line",
                    position=n + 1,
                    total=len(outgoing),
                    subject=_subject(o.message, language),
                    error=why,
                )
                for n, o in enumerate(outgoing[position:], start=position)
            ]
        if item.announces:
            ledger.mark(item.announces, WriteState.ANNOUNCED)
    return []


def _subject(message: DiscordMessage, language: str) -> str:
    titles = [embed.title for embed in message.embeds]
    more = len(titles) - 3
    return "; ".join(titles[:3]) + (
        f" {say(language, 'notify.more', count=more)}" if more > 0 else ""
    )
