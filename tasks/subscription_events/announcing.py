"""The team the run tells (its Discord block, whose language the run speaks) and the Discord
notice about events that failed or were held back."""

from __future__ import annotations

from dataclasses import dataclass

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger
from prefect.runtime import flow_run

from blocks.discord.block import Discord
from blocks.errors import ApiError
from blocks.language import DEFAULT_LANGUAGE, Language
from subscription_events.notice import run_notice
from subscription_events.report import EventsRunReport
from subscription_events.texts import say


@dataclass(frozen=True)
class Team:
    """Who hears about the run, and in which language its operators read it: the Discord block
    (None when missing or unreadable) and its language (pt-BR without one)."""

    discord: Discord | None
    language: Language


async def team_of(discord_block: str) -> Team:
    """The Discord block `discord_block`, read once at the start of the run: its language is the
    run's. Without it (missing or unreadable) the run goes on in pt-BR, sends no notice, and
    says so in one warning; the events are processed all the same."""
    try:
        discord: Discord = await Discord.aload(discord_block)
    except Exception as error:  # missing or unreadable block: the events are processed anyway
        get_run_logger().warning(
            say(
                DEFAULT_LANGUAGE,
                "log.discord_unavailable",
                block=discord_block,
                error=type(error).__name__,
            )
        )
        return Team(discord=None, language=DEFAULT_LANGUAGE)
    return Team(discord=discord, language=discord.language)


@task(name="notify-team", cache_policy=NO_CACHE)
async def notify_team(report: EventsRunReport, team: Team) -> bool:
    """Tell the team on the Discord block's errors webhook about events that ended E or were
    held back in this run; whether a message went out.

    It runs after every event was processed and committed, and a Discord failure is only
    logged: a notice never undoes or stops the processing it reports.
    """
    if team.discord is None:  # the run's first warning said no notice goes out
        return False
    message = run_notice(report, team.language, flow_run.name or "?")
    if message is None:
        return False
    try:
        async with team.discord.errors_webhook() as webhook:
            await webhook.post(message)
    except Exception as error:  # the webhook URL is a secret: only our own error texts go out
        language = team.language
        why = (
            error.problem.describe(language)
            if isinstance(error, ApiError)
            else type(error).__name__
        )
        get_run_logger().error(say(language, "log.notice_unsent", why=why))
        return False
    return True
