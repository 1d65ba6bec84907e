"""A_N, A_ECT, A_EDP, A_C: a subscription created, its card or billing day changed, cancelled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

from blocks.gym_erp.rows import CardRow, Change, CustomerRow, ItemRow, RowUpdate, SubscriptionRow
from blocks.gym_erp.schema import customers, subscriptions
from blocks.mundipagg.models import GatewaySubscription
from subscription_events.billing_dates import next_billing_date, start_of_day
from subscription_events.failures import EventFailed
from subscription_events.handlers.at_gateway import paired_item_ids, same_code_at_gateway
from subscription_events.handlers.cards import (
    card_row,
    gateway_card_id,
    register_card,
    registration_of,
    subscription_card,
)
from subscription_events.handlers.erp_rows import (
    customer_row,
    id_in,
    registered_subscription,
    subscription_row,
    target_id,
)
from subscription_events.handlers.event_run import Done, EventRun
from subscription_events.payloads import new_card, new_subscription


async def create_subscription(run: EventRun) -> Done:
    """A_N: the subscription with its active items, customer and card - once.

    Before creating it, the gateway is asked for a subscription with its `code` (the ERP id it is
    created with): one whose answer was lost (a timeout, a crash) is found there and completed
    instead of created again, even after the gateway forgot the idempotency key. The event ends
    `P` only with every id stored - subscription, customer, card (its data wiped) and items.
    """
    subscription = await subscription_row(run, target_id(run))
    customer = await customer_row(run, subscription.id_cliente)
    items = await run.services.erp.active_items(subscription.id)
    run.value = sum((item.quant * item.valor for item in items), Decimal(0))
    card = await subscription_card(run, subscription, customer)
    if subscription.id_api:
        run.id_api = subscription.id_api
        if card.id_api and all(item.id_api for item in items):
            return Done("assinatura já estava no gateway; nada enviado")
        at_gateway = await run.services.gateway.subscription(subscription.id_api)
        return _completed(run, subscription, customer, card, items, at_gateway, "já no gateway")
    if subscription.status != "A":
        raise EventFailed(
            f"assinatura {subscription.id} não está ativa (status {subscription.status})"
        )
    # Built first: ERP data the gateway could not take fails the event before any call.
    card_to_register = new_card(card, run.services.decryptor) if card.id_api is None else None
    request = new_subscription(
        subscription,
        items,
        customer=customer,
        card=card,
        card_to_register=card_to_register,
        zone=run.services.clock.zone,
    )
    found, canceled = await same_code_at_gateway(run, subscription)
    if found is not None:
        how = f"já no gateway (encontrada pelo code {found.code})"
        return _completed(run, subscription, customer, card, items, found, how)
    if card_to_register is not None and customer.id_api is not None:
        # A known customer's new card is registered (and committed) on its own first.
        registered = await register_card(run, customer.id_api, card, card_to_register)
        card = replace(card, id_api=registered)
        request = request.model_copy(update={"card": None, "card_id": registered})
    created = await run.services.gateway.create_subscription(
        request, idempotency_key=run.key("subscription")
    )
    how = "criada no gateway" + (
        f" ({canceled} cancelada(s) com o mesmo code ignorada(s))" if canceled else ""
    )
    return _completed(run, subscription, customer, card, items, created, how)


def _completed(
    run: EventRun,
    subscription: SubscriptionRow,
    customer: CustomerRow,
    card: CardRow,
    items: Sequence[ItemRow],
    at_gateway: GatewaySubscription,
    how: str,
) -> Done:
    """Store every id the gateway's subscription gives that the ERP lacks; `E` (keeping them)
    unless that makes every id known: subscription, customer, card and each active item."""
    run.id_api = at_gateway.id
    changes: list[Change] = []
    problems: list[str] = []
    if subscription.id_api is None:
        changes.append(RowUpdate(subscriptions.name, subscription.id, {"id_api": at_gateway.id}))
    if customer.id_api is None:
        changes.append(
            RowUpdate(customers.name, customer.cod_cli, {"id_api": at_gateway.customer.id})
        )
    elif customer.id_api != at_gateway.customer.id:
        problems.append(
            f"ela é do cliente {at_gateway.customer.id} do gateway, não de {customer.id_api}"
        )
    if card.id_api is None and at_gateway.card is None:
        problems.append(f"o gateway não devolveu o cartão {card.id}")
    elif card.id_api is None and at_gateway.card is not None:
        changes.append(registration_of(card, at_gateway.card))
    item_ids, item_problem = paired_item_ids(items, at_gateway.items)
    changes += item_ids
    problems += item_problem
    if problems:
        raise EventFailed(
            f"assinatura {at_gateway.id} {how}, mas {'; '.join(problems)}", keep=changes
        )
    return Done(f"assinatura {how} com {len(items)} item(ns)", changes)


async def change_card(run: EventRun) -> Done:
    """A_ECT: charge the subscription's next invoices on the card named in `codaux_1`."""
    subscription, customer, subscription_api_id = await registered_subscription(run)
    card = await card_row(run, id_in(run.event.codaux_1, "codaux_1 (id do cartão)"), customer)
    card_id = await gateway_card_id(run, customer, card)
    await run.services.gateway.change_subscription_card(
        subscription_api_id, card_id, idempotency_key=run.key("subscription-card")
    )
    run.id_api = card_id
    return Done(
        f"cobrança passa para o cartão {card.id}",
        [RowUpdate(subscriptions.name, subscription.id, {"id_cartao": card.id})],
    )


async def change_billing_day(run: EventRun) -> Done:
    """A_EDP: the ERP already holds the new `dia_cobranca`; move the next charge to it.

    The next charge is the first date on the new day after today and not before the gateway's
    `next_billing_at` (the end of the cycle already charged): an earlier one would charge the
    customer twice for one cycle."""
    subscription, _, subscription_api_id = await registered_subscription(run)
    clock = run.services.clock
    if not 1 <= subscription.dia_cobranca <= 31:
        raise EventFailed(
            f"assinatura {subscription.id}: dia de cobrança {subscription.dia_cobranca} fora de "
            "1..31"
        )
    at_gateway = await run.services.gateway.subscription(subscription_api_id)
    if at_gateway.next_billing_at is None:
        raise EventFailed(
            f"o gateway não informou a próxima cobrança da assinatura {subscription_api_id} "
            "(next_billing_at): sem ela a nova data poderia cobrar o ciclo já pago; nada alterado"
        )
    paid_until = at_gateway.next_billing_at.astimezone(clock.zone).date()
    next_charge = next_billing_date(clock.today(), subscription.dia_cobranca, paid_until)
    await run.services.gateway.change_next_billing_date(
        subscription_api_id,
        start_of_day(next_charge, run.services.clock.zone),
        idempotency_key=run.key("billing-date"),
    )
    run.id_api = subscription_api_id
    return Done(
        f"dia de cobrança {subscription.dia_cobranca}: próxima cobrança em {next_charge:%d/%m/%Y}"
        f" (o gateway cobraria em {paid_until:%d/%m/%Y})"
    )


async def cancel_subscription(run: EventRun) -> Done:
    """A_C: cancel at the gateway (with its pending invoices) and mark the subscription C.

    Without an `id_api` in the ERP (an A_N whose outcome was unknown, then skipped), the
    subscription may be at the gateway all the same, charging: it is looked up by its `code`
    as A_N does, cancelled there and its id stored. Only when no live one has the code is it
    "not at the gateway"."""
    subscription = await subscription_row(run, target_id(run))
    await customer_row(run, subscription.id_cliente)
    canceled: dict[str, object] = {"status": "C"}
    gateway_id, how = subscription.id_api, ""
    if not gateway_id:
        found, ignored = await same_code_at_gateway(run, subscription, "nada cancelado")
        if found is None:
            also = f"; {ignored} cancelada(s) com o mesmo code" if ignored else ""
            return Done(
                f"assinatura não estava no gateway (nenhuma ativa com o code {subscription.id}"
                f"{also}); marcada como cancelada",
                [RowUpdate(subscriptions.name, subscription.id, canceled)],
            )
        gateway_id, how = found.id, f" (encontrada pelo code {subscription.id})"
        canceled["id_api"] = found.id
    run.id_api = gateway_id
    await run.services.gateway.cancel_subscription(
        gateway_id, idempotency_key=run.key("cancel-subscription")
    )
    return Done(
        f"assinatura cancelada no gateway{how}",
        [RowUpdate(subscriptions.name, subscription.id, canceled)],
    )
