"""What the gateway already holds of a subscription: found by its `code`, items paired."""

from __future__ import annotations

from collections.abc import Sequence

from blocks.gym_erp.rows import ItemRow, RowUpdate, SubscriptionRow
from blocks.gym_erp.schema import subscription_items
from blocks.mundipagg.models import GatewayItem, GatewaySubscription
from subscription_events.failures import EventFailed
from subscription_events.handlers.event_run import EventRun


async def same_code_at_gateway(
    run: EventRun, subscription: SubscriptionRow, nothing_done: str = "nada criado"
) -> tuple[GatewaySubscription | None, int]:
    """(the live subscription this flow created at the gateway with this subscription's code,
    how many canceled ones share the code). Canceled ones charge nobody and are left alone;
    a live one this flow did not create, or two of them, stop the event (`nothing_done` says
    what it did not do): creating another could charge the customer twice, adopting the wrong
    one would bill the wrong items, cancelling someone else's would stop their service."""
    code = str(subscription.id)
    same_code = await run.services.gateway.subscriptions_with_code(code)
    live = [found for found in same_code if found.status != "canceled"]
    canceled = len(same_code) - len(live)
    if not live:
        return None, canceled
    ids = ", ".join(found.id for found in live)
    if len(live) > 1:
        raise EventFailed(
            f"{len(live)} assinaturas ativas com o code {code} no gateway ({ids}): cancele a "
            f"duplicada e volte o evento para N; {nothing_done}"
        )
    (found,) = live
    if (found.metadata or {}).get("id_assinatura") != code:
        raise EventFailed(
            f"a assinatura {found.id} do gateway tem o code {code} mas não foi criada para a "
            f"assinatura {code} do ERP (metadata): confira; {nothing_done}"
        )
    return found, canceled


async def subscription_at_gateway(
    run: EventRun, subscription: SubscriptionRow, nothing_done: str
) -> tuple[GatewaySubscription | None, str]:
    """(the subscription as the gateway holds it - by the ERP's `id_api`, or else the live one
    this flow created with its `code` - or None, and how it was found or why not)."""
    if subscription.id_api:
        return await run.services.gateway.subscription(subscription.id_api), "já no gateway"
    found, canceled = await same_code_at_gateway(run, subscription, nothing_done)
    if found is None:
        ignored = f"; {canceled} cancelada(s) com o mesmo code" if canceled else ""
        return None, f"nenhuma assinatura ativa com o code {subscription.id}{ignored}"
    return found, f"encontrada pelo code {subscription.id}"


def paired_item_ids(
    items: Sequence[ItemRow], at_gateway: Sequence[GatewayItem]
) -> tuple[list[RowUpdate], list[str]]:
    """(ids for the ERP's active items that lack one, what kept that from being done).

    The gateway lists a subscription's items in the order they were sent (it may normalise their
    text): those no ERP item claims yet, removed ones aside, are paired in order with the ERP
    items without an id - only when there are as many of each.
    """
    unpaired = [item for item in items if not item.id_api]
    free = unclaimed_items(items, at_gateway)
    if len(unpaired) != len(free):
        return [], [
            f"o gateway mostra {len(free)} item(ns) sem par no ERP para {len(unpaired)} item(ns) "
            "ativo(s) do ERP sem id_api"
        ]
    return [
        RowUpdate(subscription_items.name, item.id, {"id_api": answer.id})
        for item, answer in zip(unpaired, free, strict=True)
    ], []


def unclaimed_items(
    items: Sequence[ItemRow], at_gateway: Sequence[GatewayItem]
) -> list[GatewayItem]:
    """The gateway's live items that no ERP item claims by its `id_api`."""
    claimed = {item.id_api for item in items if item.id_api}
    return [item for item in at_gateway if item.id not in claimed and item.status != "deleted"]
