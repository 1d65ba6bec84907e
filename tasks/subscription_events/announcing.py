"""The Discord notice about events that failed or were held back."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger
from prefect.runtime import flow_run

from blocks.discord.block import Discord
from blocks.errors import ApiError
from subscription_events.notice import run_notice
from subscription_events.report import EventsRunReport


@task(name="notify-team", cache_policy=NO_CACHE)
async def notify_team(report: EventsRunReport, discord_block: str) -> bool:
    """Tell the team on the Discord block's errors webhook about events that ended E or were
    held back in this run; whether a message went out.

    It runs after every event was processed and committed, and a missing block or a Discord
    failure is only logged: a notice never undoes or stops the processing it reports.
    """
    logger = get_run_logger()
    if not report.failed and not report.newly_held:
        return False
    try:
        discord: Discord = await Discord.aload(discord_block)
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
