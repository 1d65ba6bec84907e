"""subscription-events: the gym ERP's Mundipagg event queue.

The gym's ERP sells subscriptions charged by card through Mundipagg, and writes a row into
`util_eventos_mundipagg` whenever something must reach the gateway: a new subscription, a card
or billing-day change, a cancellation, a customer edit, an item added, changed or removed, an
invoice import or cancellation. Every minute this flow takes the pending events oldest first,
makes the gateway calls each one needs, stores the ids the gateway returns and marks every event
processed (P) or failed (E) with the reason in `rec_log_sync`, where the gym's staff see it.

Events of one customer run in order (those the ERP wrote in the same instant in the order their
effects need), and a failed event holds back the later events of its subscription instead of
letting them run out of order; different customers run concurrently. Each event is claimed by
one run before any gateway call, so two runs at once never process it twice.
Every gateway write carries an idempotency key made from the event, so a retried or crashed
run never charges, creates or cancels anything twice, and a new subscription is looked up at the
gateway by its ERP id before it is created. When a run ends events in error or holds events back,
the team is told on Discord.

The run speaks its Discord block's language (pt-BR without one): its report, its log and the
notice. The reasons written to the ERP's `rec_log_sync` stay in Portuguese, for the gym's staff.
"""

from __future__ import annotations

from typing import Annotated

from prefect import flow
from pydantic import AfterValidator, Field

from clock import DEFAULT_TIMEZONE, zone_named
from subscription_events.report import EventsRunReport
from tasks.subscription_events.announcing import notify_team, team_of
from tasks.subscription_events.processing import process_all_lanes
from tasks.subscription_events.reading import group_events, read_pending_events
from tasks.subscription_events.reporting import publish_events_report
from tasks.subscription_events.systems import connected_for_events

# Bounds checked before a run starts (the Prefect UI's form and the API refuse other values):
# 0 customers at a time would wait forever holding the deployment's slot, and 0 events would
# leave the queue untouched while every run ends Completed.
EventsPerRun = Annotated[int, Field(ge=1, le=100_000)]
CustomersAtOnce = Annotated[int, Field(ge=1, le=100)]
TimeZoneName = Annotated[str, AfterValidator(lambda name: zone_named(name).key)]


@flow(name="subscription-events")
async def subscription_events(
    max_events: EventsPerRun = 5000,
    max_concurrent_customers: CustomersAtOnce = 10,
    erp_block: str = "default",
    mundipagg_block: str = "default",
    card_key_block: str = "default",
    discord_block: str = "default",
    timezone: TimeZoneName = DEFAULT_TIMEZONE,
) -> EventsRunReport:
    """Bring the ERP's pending Mundipagg events to the gateway and record how each ended.

    Args:
        max_events: events read a run, oldest first (1 to 100,000).
        max_concurrent_customers: customers whose events run at the same time (1 to 100).
        timezone: the gym's IANA zone: billing dates and the times written to the ERP are its
            local ones.
        discord_block: the Discord block whose errors webhook hears about failed and held
            events, and whose language the run speaks; without it the events are processed
            all the same, in pt-BR (a warning is logged).
    """
    team = await team_of(discord_block)
    language = team.language
    async with connected_for_events(
        erp_block, mundipagg_block, card_key_block, timezone
    ) as systems:
        erp = systems.services.erp
        queue = await read_pending_events(erp, max_events, language)
        lanes = await group_events(erp, queue, language)
        results = await process_all_lanes(lanes, systems, max_concurrent_customers, language)
        report = await publish_events_report(results, queue, language)
    await notify_team(report, team)
    return report
