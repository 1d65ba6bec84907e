"""The rows an event names, read from the ERP; a missing or unusable one fails the event."""

from __future__ import annotations

from blocks.gym_erp.rows import CustomerRow, ItemRow, SubscriptionRow
from subscription_events.events import parse_id
from subscription_events.failures import EventFailed
from subscription_events.handlers.event_run import EventRun


def target_id(run: EventRun) -> int:
    return id_in(run.event.id_tabela, "id_tabela")


def id_in(text: str | None, what: str) -> int:
    row_id = parse_id(text)
    if row_id is None:
        raise EventFailed(f"{what} '{text or ''}' não é um id numérico")
    return row_id


async def subscription_row(run: EventRun, subscription_id: int) -> SubscriptionRow:
    subscription = await run.services.erp.subscription(subscription_id)
    if subscription is None:
        raise EventFailed(f"assinatura {subscription_id} não existe em rec_assinatura")
    return subscription


async def registered_subscription(run: EventRun) -> tuple[SubscriptionRow, CustomerRow, str]:
    """The event's subscription, its customer and its gateway id (it must have one)."""
    subscription = await subscription_row(run, target_id(run))
    customer = await customer_row(run, subscription.id_cliente)
    return subscription, customer, gateway_id_of(subscription)


def gateway_id_of(subscription: SubscriptionRow) -> str:
    if not subscription.id_api:
        raise EventFailed(
            f"assinatura {subscription.id} ainda não está no gateway (A_N pendente ou com erro)"
        )
    return subscription.id_api


async def customer_row(run: EventRun, cod_cli: int) -> CustomerRow:
    customer = await run.services.erp.customer(cod_cli)
    if customer is None:
        raise EventFailed(f"cliente {cod_cli} não existe em cad_cliente")
    run.customer = customer.nome
    return customer


async def item_and_subscription(run: EventRun) -> tuple[ItemRow, SubscriptionRow]:
    item_id = target_id(run)
    item = await run.services.erp.item(item_id)
    if item is None:
        raise EventFailed(f"item {item_id} não existe em rec_assinatura_item")
    subscription = await run.services.erp.subscription(item.id_assinatura)
    if subscription is None:
        raise EventFailed(
            f"item {item.id} aponta para a assinatura {item.id_assinatura}, que não existe"
        )
    await customer_row(run, subscription.id_cliente)
    run.value = item.quant * item.valor
    return item, subscription


async def item_of_registered_subscription(run: EventRun) -> tuple[ItemRow, str]:
    item, subscription = await item_and_subscription(run)
    return item, gateway_id_of(subscription)
