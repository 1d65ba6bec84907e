"""IA_N, IA_E, IA_R: an item added to, changed in or removed from its subscription."""

from __future__ import annotations

from blocks.gym_erp.rows import Change, ItemRow, RowUpdate
from blocks.gym_erp.schema import subscription_items, subscriptions
from blocks.mundipagg.models import GatewaySubscription
from subscription_events.failures import EventFailed
from subscription_events.handlers.at_gateway import (
    paired_item_ids,
    subscription_at_gateway,
    unclaimed_items,
)
from subscription_events.handlers.erp_rows import (
    item_and_subscription,
    item_of_registered_subscription,
)
from subscription_events.handlers.event_run import Done, EventRun
from subscription_events.payloads import item_data, item_update


async def add_item(run: EventRun) -> Done:
    """IA_N: add the item to its subscription at the gateway."""
    item, subscription_api_id = await item_of_registered_subscription(run)
    if item.id_api:
        run.id_api = item.id_api
        return Done("item já estava no gateway; nada enviado")
    if item.status != "A":
        # Removed in the ERP meanwhile (its IA_R ran first, or the ERP marked it): adding it
        # would bill a removed item.
        return Done(f"item '{item.descricao}' inativo no ERP (status {item.status}); nada enviado")
    added = await run.services.gateway.add_item(
        subscription_api_id, item_data(item), idempotency_key=run.key("item")
    )
    run.id_api = added.id
    return Done(
        f"item '{item.descricao}' incluído na assinatura",
        [RowUpdate(subscription_items.name, item.id, {"id_api": added.id})],
    )


async def update_item(run: EventRun) -> Done:
    """IA_E: send the item's new quantity, price or description."""
    item, subscription_api_id = await item_of_registered_subscription(run)
    if not item.id_api:
        raise EventFailed(f"item {item.id} ainda não está no gateway (IA_N pendente ou com erro)")
    run.id_api = item.id_api
    if item.status != "A":
        # Sending it would make a removed item active (and charged) again.
        return Done(f"item '{item.descricao}' inativo no ERP (status {item.status}); nada enviado")
    await run.services.gateway.update_item(
        subscription_api_id, item.id_api, item_update(item), idempotency_key=run.key("item")
    )
    return Done(f"item '{item.descricao}' alterado na assinatura")


async def remove_item(run: EventRun) -> Done:
    """IA_R: remove the item from the subscription and mark it inactive (I).

    An item without an `id_api` may be at the gateway all the same: sent with an A_N whose
    answer lacked it or was lost. It is then looked for on the gateway's subscription (by the
    ERP's `id_api`, or else by `code`), paired with the ERP's items as A_N pairs them, and
    removed there; only when the gateway has no such subscription is it "not at the gateway".
    What the pairing cannot tell apart ends `E` with nothing removed."""
    item, subscription = await item_and_subscription(run)
    if item.id_api and subscription.id_api:
        run.id_api = item.id_api
        await run.services.gateway.remove_item(
            subscription.id_api, item.id_api, idempotency_key=run.key("remove-item")
        )
        return Done(
            f"item '{item.descricao}' removido da assinatura",
            [RowUpdate(subscription_items.name, item.id, {"status": "I"})],
        )
    at_gateway, how = await subscription_at_gateway(run, subscription, "nada removido")
    if at_gateway is None:
        return Done(
            f"item não estava no gateway ({how}); marcado como inativo",
            [RowUpdate(subscription_items.name, item.id, {"status": "I"})],
        )
    found: list[Change] = []
    if subscription.id_api is None:
        found.append(RowUpdate(subscriptions.name, subscription.id, {"id_api": at_gateway.id}))
    item_id_api = item.id_api
    if item_id_api is None:
        item_id_api, others = await _paired_item(run, item, at_gateway)
        found += others
    if item_id_api is None:
        return Done(
            f"item não estava no gateway (a assinatura {at_gateway.id} não tem item sem par no "
            "ERP); marcado como inativo",
            [*found, RowUpdate(subscription_items.name, item.id, {"status": "I"})],
        )
    run.id_api = item_id_api
    await run.services.gateway.remove_item(
        at_gateway.id, item_id_api, idempotency_key=run.key("remove-item")
    )
    removed = RowUpdate(subscription_items.name, item.id, {"status": "I", "id_api": item_id_api})
    return Done(f"item '{item.descricao}' removido da assinatura ({how})", [*found, removed])


async def _paired_item(
    run: EventRun, item: ItemRow, at_gateway: GatewaySubscription
) -> tuple[str | None, list[RowUpdate]]:
    """(the gateway's id of this item - None when the gateway has no live item that no ERP item
    claims, so it cannot be there - and ids for the subscription's other active ERP items that
    lack one), pairing them with the gateway's items as A_N does; `E` when it cannot."""
    items = await run.services.erp.active_items(item.id_assinatura)
    if not unclaimed_items(items, at_gateway.items):
        return None, []
    paired, problems = paired_item_ids(items, at_gateway.items)
    this = [str(pair.values["id_api"]) for pair in paired if pair.row_id == item.id]
    if not this and not problems:
        problems = [f"o item não está ativo no ERP (status {item.status})"]
    if problems:
        raise EventFailed(
            f"não foi possível saber qual item da assinatura {at_gateway.id} do gateway é o "
            f"item {item.id}: {'; '.join(problems)}; confira; nada removido"
        )
    return this[0], [pair for pair in paired if pair.row_id != item.id]
