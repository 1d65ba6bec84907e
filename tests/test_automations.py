"""One alert per failed run: contract-sync's hook has its Failed runs, the automations the rest."""

from __future__ import annotations

from uuid import uuid4

import pytest
from prefect.automations import Automation, CallWebhook, EventTrigger, Posture
from prefect.client.orchestration import get_client
from prefect.events.schemas.events import ResourceSpecification

from blocks.discord.block import Discord
from contract_sync.texts import say
from deployments.automations import automations, install
from flows.contract_sync import contract_sync
from tasks.contract_sync.announcing import alert_on_failure

FAILED, CRASHED, LATE = (f"prefect.flow-run.{s}" for s in ("Failed", "Crashed", "Late"))


def watched_events(language: str = "pt-BR") -> dict[str, set[str]]:
    """Per watched flow, the run events an automation alerts on."""
    found: dict[str, set[str]] = {}
    for automation in automations(uuid4(), language):
        trigger = automation.trigger
        assert isinstance(trigger, EventTrigger)
        if trigger.posture == Posture.Reactive:
            assert isinstance(trigger.match_related, ResourceSpecification), "one related spec"
            flow = trigger.match_related.root["prefect.resource.name"]
            assert isinstance(flow, str), "one flow per automation"
            assert flow not in found
            found[flow] = set(trigger.expect)
    return found


def test_a_failed_contract_sync_run_is_alerted_by_its_hook_only():
    assert contract_sync.on_failure_hooks == [alert_on_failure]
    assert FAILED not in watched_events()["contract-sync"]


def test_the_automations_cover_what_the_hook_cannot_see():
    """Crashed (the process died, or the flow never loaded) and Late (no worker)."""
    assert contract_sync.on_crashed_hooks == []
    assert watched_events()["contract-sync"] == {CRASHED, LATE}
    assert watched_events("en")["subscription-events"] == {FAILED, CRASHED, LATE}  # no hook


@pytest.mark.prefect
async def test_install_removes_the_automation_that_alerted_failed_runs_twice(prefect_harness):
    await Discord(webhook_url="https://discord.test/api/webhooks/1/x").save(
        "automations-test", overwrite=True
    )
    old_name = say("pt-BR", "automation.run_name")
    async with get_client() as client:
        for automation in await client.read_automations_by_name(old_name):
            await client.delete_automation(automation.id)
    await Automation(
        name=old_name,
        trigger=EventTrigger(expect={FAILED}),
        actions=[CallWebhook(block_document_id=uuid4(), payload="{}")],
    ).acreate()

    await install("automations-test")
    done = await install("automations-test")  # again: updates, never duplicates

    assert not any(line.startswith("created") for line in done), done
    async with get_client() as client:
        assert await client.read_automations_by_name(old_name) == []
        for key in (
            "automation.contract_sync_name",
            "automation.subscription_events_name",
            "automation.quiet_name",
        ):
            assert len(await client.read_automations_by_name(say("pt-BR", key))) == 1, key
