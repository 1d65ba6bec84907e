"""Prefect automations that alert the team when a run fails, crashes, is late or never happens.

    python -m deployments.automations [--discord-block default]     (make automations)

One alert per failure. A failed contract-sync run tells the errors webhook itself (its
`on_failure` hook, in the language of the run's own Discord block, silent for dry runs and
`notify=false`). That hook runs inside the flow process, so it says nothing when no worker
picks a run up (it goes Late), when a run crashes (the process died, or the flow was never
loaded), or when the schedule stopped producing runs. These automations live in the Prefect
server and fire on its events, worker or no worker, for exactly what the hook cannot see:

- a contract-sync or contract-restore run is Crashed or Late (their hook tells Failed);
- a subscription-events run (it has no hook) is Failed, Crashed or Late;
- no contract-sync run has Completed for 2 hours (a proactive trigger).

Each posts to the Discord errors webhook of the Discord block (the changes webhook when it has
none), in that block's language, with a link to the run in the Prefect UI (the server's
PREFECT_UI_URL). The webhook URL is kept in a Prefect `Webhook` block as a secret. Running the
command again updates what it created (matched by name), never duplicates it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import timedelta
from uuid import UUID

from prefect.automations import Automation, CallWebhook, EventTrigger, Posture
from prefect.blocks.webhook import Webhook
from prefect.client.orchestration import get_client

from blocks.discord.block import Discord
from contract_sync.texts import LANGUAGES, say
from deployments.server_auth import exit_clearly_when_refused

WEBHOOK_BLOCK = "billing-sync-discord-errors"
QUIET_FOR = timedelta(hours=2)
ALERT_COLOUR = 0xE74C3C

RUN_EVENTS = {
    "prefect.flow-run.Failed": "automation.failed",
    "prefect.flow-run.Crashed": "automation.crashed",
    "prefect.flow-run.Late": "automation.late",
}
# Per flow: the run events its automation alerts on (contract-sync's hook has the Failed ones),
# and the texts naming and describing that automation.
WATCHED: dict[str, tuple[set[str], str, str]] = {
    "contract-sync": (
        {"prefect.flow-run.Crashed", "prefect.flow-run.Late"},
        "automation.contract_sync_name",
        "automation.contract_sync_description",
    ),
    "contract-restore": (
        {"prefect.flow-run.Crashed", "prefect.flow-run.Late"},
        "automation.contract_restore_name",
        "automation.contract_restore_description",
    ),
    "subscription-events": (
        set(RUN_EVENTS),
        "automation.subscription_events_name",
        "automation.subscription_events_description",
    ),
}
NAME_KEYS = (*(name for _, name, _ in WATCHED.values()), "automation.quiet_name")
# Names of automations an earlier version created; `install` removes them.
RETIRED_NAME_KEYS = ("automation.run_name",)  # Failed too, for both flows: alerted twice


def run_alert_payload(language: str) -> str:
    """A Jinja template of Discord's JSON: what happened to which run, its message and link."""
    what = (
        "{"
        + ", ".join(
            f"{json.dumps(event)}: {json.dumps(say(language, key))}"
            for event, key in RUN_EVENTS.items()
        )
        + "}"
    )
    run = json.dumps(say(language, "automation.run"))
    title = f'(flow.name ~ " - " ~ {run} ~ " " ~ flow_run.name ~ " " ~ {what}[event.event])'
    description = (
        f"((flow_run.state.message or {json.dumps(say(language, 'alert.no_message'))}) "
        f'~ "\\n" ~ {json.dumps(say(language, "automation.open"))} ~ " " ~ (flow_run|ui_url))'
    )
    return (
        '{"username": "billing-sync", "embeds": [{'
        f'"title": {{{{ {title} | tojson }}}}, '
        f'"description": {{{{ {description} | tojson }}}}, '
        f'"color": {ALERT_COLOUR}'
        "}]}"
    )


def quiet_payload(language: str) -> str:
    return json.dumps(
        {
            "username": "billing-sync",
            "embeds": [
                {
                    "title": say(language, "automation.quiet_title"),
                    "description": say(language, "automation.quiet_description"),
                    "color": ALERT_COLOUR,
                }
            ],
        }
    )


def automations(webhook_block_id: UUID, language: str) -> list[Automation]:
    """One automation per watched flow, then the proactive one, in `NAME_KEYS` order."""
    return [
        *(
            Automation(
                name=say(language, name),
                description=say(language, description),
                trigger=EventTrigger(
                    expect=events,
                    match={"prefect.resource.id": "prefect.flow-run.*"},
                    match_related={"prefect.resource.role": "flow", "prefect.resource.name": flow},
                    posture=Posture.Reactive,
                    threshold=1,
                ),
                actions=[
                    CallWebhook(
                        block_document_id=webhook_block_id, payload=run_alert_payload(language)
                    )
                ],
            )
            for flow, (events, name, description) in WATCHED.items()
        ),
        Automation(
            name=say(language, "automation.quiet_name"),
            description=say(language, "automation.quiet_description"),
            trigger=EventTrigger(
                expect={"prefect.flow-run.Completed"},
                match={"prefect.resource.id": "prefect.flow-run.*"},
                match_related={
                    "prefect.resource.role": "flow",
                    "prefect.resource.name": "contract-sync",
                },
                posture=Posture.Proactive,
                threshold=1,
                within=QUIET_FOR,
            ),
            actions=[
                CallWebhook(block_document_id=webhook_block_id, payload=quiet_payload(language))
            ],
        ),
    ]


async def install(discord_block: str = "default") -> list[str]:
    """Create or update the webhook block and the automations; what was done, one line each."""
    discord: Discord = await Discord.aload(discord_block)
    url = discord.errors_webhook_url or discord.webhook_url
    webhook = Webhook(url=url, headers={"Content-Type": "application/json"})
    webhook_id = await webhook.save(WEBHOOK_BLOCK, overwrite=True)
    done = [f"webhook block {WEBHOOK_BLOCK}"]
    async with get_client() as client:
        for key in RETIRED_NAME_KEYS:
            for language in LANGUAGES:
                for retired in await client.read_automations_by_name(say(language, key)):
                    await client.delete_automation(retired.id)
                    done.append(f"deleted automation {retired.name!r}")
        for automation, key in zip(
            automations(webhook_id, discord.language), NAME_KEYS, strict=True
        ):
            existing = [
                found
                for language in LANGUAGES  # the same automation under another language's name
                for found in await client.read_automations_by_name(say(language, key))
            ]
            for duplicate in existing[1:]:
                await client.delete_automation(duplicate.id)
            if existing:
                automation.id = existing[0].id
                await automation.aupdate()
                done.append(f"updated automation {automation.name!r}")
            else:
                await automation.acreate()
                done.append(f"created automation {automation.name!r}")
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--discord-block", default="default", help="the Discord block to alert")
    options = parser.parse_args()
    for line in asyncio.run(install(options.discord_block)):
        print(line)


if __name__ == "__main__":
    exit_clearly_when_refused(main)
