"""The team's Discord notice for a subscription-events run that needs someone: events that ended
`E`, or events it held back behind one of them.

One message a run, only when that run failed events or newly held some (not for events held
since an earlier run, which were announced then: the flow runs every minute). It carries the
counts and the first reasons as they are written to `rec_log_sync` (in Portuguese, for the
gym's staff); the rest is in the run's language, the Discord block's (`subscription_events.texts`).
Those reasons never hold card data: they are built from field names and masked gateway excerpts.
"""

from __future__ import annotations

from blocks.discord.models import DiscordMessage, Embed, EmbedField
from subscription_events.lanes import EventResult
from subscription_events.report import EventsRunReport
from subscription_events.texts import customer_name, reason, say

FIRST_REASONS = 5
FIRST_HELD = 3
ALERT_COLOUR = 0xE74C3C


def run_notice(report: EventsRunReport, language: str, run_name: str) -> DiscordMessage | None:
    """The message for this run, or None when it failed nothing and held nothing back."""
    failed, held = report.failed, report.newly_held
    if not failed and not held:
        return None
    lines = [
        *_listed(say(language, "notice.first_failed"), failed, FIRST_REASONS, language),
        *_listed(say(language, "notice.first_held"), held, FIRST_HELD, language),
        "",
        say(language, "notice.how"),
    ]
    counts = report.counts
    embed = Embed(
        title=say(language, "notice.title", run=run_name, failed=len(failed), held=len(held)),
        description="\n".join(lines),
        color=ALERT_COLOUR,
        fields=[
            EmbedField(name=say(language, "notice.failed"), value=str(len(failed))),
            EmbedField(name=say(language, "notice.held"), value=str(len(held))),
            EmbedField(name=say(language, "notice.waiting"), value=str(report.waiting)),
            EmbedField(name=say(language, "notice.processed"), value=str(counts["P"])),
        ],
    )
    return DiscordMessage(embeds=[embed.clipped()])


def _listed(heading: str, results: list[EventResult], shown: int, language: str) -> list[str]:
    if not results:
        return []
    lines = [heading]
    lines += [
        f"- {customer_name(language, result)} (`{result.id_guid}`): {reason(language, result)}"
        for result in results[:shown]
    ]
    if len(results) > shown:
        lines.append(say(language, "notice.more", count=len(results) - shown))
    return lines
