"""The team's Discord notice for a subscription-events run that needs someone: events that ended
`E`, or events it held back behind one of them.

One message a run, only when that run failed events or newly held some (not for events held
since an earlier run, which were announced then: the flow runs every minute). It carries the
counts and the first reasons as they are written to `rec_log_sync` (in Portuguese, for the
gym's staff; the titles follow the Discord block's language). Those reasons never hold card
data: they are built from field names and masked gateway excerpts.
"""

from __future__ import annotations

from blocks.discord.models import DiscordMessage, Embed, EmbedField
from subscription_events.lanes import EventResult
from subscription_events.report import EventsRunReport

FIRST_REASONS = 5
FIRST_HELD = 3
ALERT_COLOUR = 0xE74C3C

TEXT = {
    "pt-BR": {
        "title": "subscription-events ({run}): {failed} evento(s) com erro, {held} retido(s)",
        "failed": "Com erro",
        "held": "Passaram a aguardar",
        "waiting": "Aguardando no total",
        "processed": "Processados",
        "first_failed": "**Primeiros erros**",
        "first_held": "**Retidos atrás de um erro**",
        "more": "… e mais {count}",
        "how": "Corrija os dados e volte o evento com erro para N; os retidos seguem depois dele.",
    },
    "en": {
        "title": "subscription-events ({run}): {failed} event(s) failed, {held} held back",
        "failed": "Failed",
        "held": "Newly held back",
        "waiting": "Waiting in all",
        "processed": "Processed",
        "first_failed": "**First failures**",
        "first_held": "**Held behind a failure**",
        "more": "… and {count} more",
        "how": "Fix the data and set the failed event back to N; the held ones follow it.",
    },
}


def run_notice(report: EventsRunReport, language: str, run_name: str) -> DiscordMessage | None:
    """The message for this run, or None when it failed nothing and held nothing back."""
    failed, held = report.failed, report.newly_held
    if not failed and not held:
        return None
    text = TEXT.get(language, TEXT["pt-BR"])
    lines = [
        *_listed(text["first_failed"], failed, FIRST_REASONS, text),
        *_listed(text["first_held"], held, FIRST_HELD, text),
        "",
        text["how"],
    ]
    counts = report.counts
    embed = Embed(
        title=text["title"].format(run=run_name, failed=len(failed), held=len(held)),
        description="\n".join(lines),
        color=ALERT_COLOUR,
        fields=[
            EmbedField(name=text["failed"], value=str(len(failed))),
            EmbedField(name=text["held"], value=str(len(held))),
            EmbedField(name=text["waiting"], value=str(report.waiting)),
            EmbedField(name=text["processed"], value=str(counts["P"])),
        ],
    )
    return DiscordMessage(embeds=[embed.clipped()])


def _listed(
    heading: str, results: list[EventResult], shown: int, text: dict[str, str]
) -> list[str]:
    if not results:
        return []
    lines = [heading]
    lines += [
        f"- {result.customer} (`{result.id_guid}`): {result.description}"
        for result in results[:shown]
    ]
    if len(results) > shown:
        lines.append(text["more"].format(count=len(results) - shown))
    return lines
