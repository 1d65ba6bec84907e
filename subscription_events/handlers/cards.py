"""The event's card: checked against its owner, registered at the gateway once, then wiped."""

from __future__ import annotations

from blocks.gym_erp.database import card_registered
from blocks.gym_erp.rows import CardRow, CustomerRow, RowUpdate, SubscriptionRow
from blocks.mundipagg.models import GatewayCard, NewCard
from subscription_events.failures import EventFailed
from subscription_events.handlers.event_run import EventRun
from subscription_events.payloads import new_card


async def subscription_card(
    run: EventRun, subscription: SubscriptionRow, customer: CustomerRow
) -> CardRow:
    if subscription.id_cartao is None:
        raise EventFailed(f"assinatura {subscription.id} sem cartão (id_cartao vazio)")
    return await card_row(run, subscription.id_cartao, customer)


async def card_row(run: EventRun, card_id: int, owner: CustomerRow) -> CardRow:
    card = await run.services.erp.card(card_id)
    if card is None:
        raise EventFailed(f"cartão {card_id} não existe em cad_cliente_cartao")
    if card.cod_cli != owner.cod_cli:
        raise EventFailed(f"cartão {card_id} não pertence ao cliente {owner.cod_cli}")
    return card


async def gateway_card_id(run: EventRun, customer: CustomerRow, card: CardRow) -> str:
    """The card's gateway id, registering the card first if needed."""
    if card.id_api:
        return card.id_api
    if not customer.id_api:
        raise EventFailed(f"cliente {customer.cod_cli} ainda não está no gateway")
    return await register_card(run, customer.id_api, card, new_card(card, run.services.decryptor))


async def register_card(run: EventRun, customer_id: str, card: CardRow, card_data: NewCard) -> str:
    """Register the card with the gateway's customer `customer_id`; its id. The registration
    (and the wipe of the card data) is committed at once, even if the event fails later: the
    gateway holds the card, the ERP must not."""
    registered = await run.services.gateway.create_card(
        customer_id, card_data, idempotency_key=run.key("card")
    )
    await run.services.erp.apply([registration_of(card, registered)])
    return registered.id


def registration_of(card: CardRow, gateway_card: GatewayCard) -> RowUpdate:
    return card_registered(
        card.id,
        id_api=gateway_card.id,
        brand=gateway_card.brand,
        last_four_digits=gateway_card.last_four_digits,
    )
