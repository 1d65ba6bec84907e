"""ERP rows <-> Mundipagg models. Missing or invalid data raises `EventFailed` with the reason."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, get_args
from zoneinfo import ZoneInfo

from blocks.gym_erp.cards import CardDecryptor
from blocks.gym_erp.rows import CardRow, CustomerRow, ItemRow, SubscriptionRow
from blocks.mundipagg.models import (
    CustomerData,
    GatewayInvoice,
    Interval,
    ItemData,
    ItemUpdate,
    NewCard,
    NewSubscription,
    PhoneNumber,
    Phones,
    PricingScheme,
)
from clock import Clock
from subscription_events.billing_dates import start_of_day
from subscription_events.failures import EventFailed
from subscription_events.money import from_cents, to_cents

_NOT_DIGITS = re.compile(r"\D")


def customer_data(customer: CustomerRow) -> CustomerData:
    document = _NOT_DIGITS.sub("", customer.cpf_cnpj or "")
    if len(document) not in (11, 14):
        raise EventFailed(f"cliente {customer.cod_cli} sem CPF/CNPJ válido")
    return CustomerData(
        name=customer.nome,
        email=customer.email or None,
        document=document,
        type="individual" if len(document) == 11 else "company",
        code=str(customer.cod_cli),
        phones=_phones(customer.celular),
    )


def _phones(mobile: str | None) -> Phones | None:
    digits = _NOT_DIGITS.sub("", mobile or "").removeprefix("55")
    if len(digits) not in (10, 11):
        return None
    return Phones(mobile_phone=PhoneNumber(area_code=digits[:2], number=digits[2:]))


def new_card(card: CardRow, decryptor: CardDecryptor) -> NewCard:
    """The card as the gateway needs it, decrypted in memory only."""
    if not card.numero_cartao or not card.cvc or not card.val_mes or not card.val_ano:
        raise EventFailed(f"cartão {card.id} sem dados para cadastrar e sem id_api")
    holder_document = _NOT_DIGITS.sub("", decryptor.decrypt(card.cpf)) if card.cpf else None
    return NewCard(
        number=decryptor.decrypt(card.numero_cartao),
        holder_name=decryptor.decrypt(card.nome_cartao) if card.nome_cartao else "",
        holder_document=holder_document or None,
        exp_month=card.val_mes,
        exp_year=card.val_ano,
        cvv=decryptor.decrypt(card.cvc),
    )


def invoice_values(
    invoice: GatewayInvoice, subscription: SubscriptionRow, clock: Clock
) -> dict[str, Any]:
    """A gateway invoice as a `rec_fatura` row: times in the provider's zone, as the ERP keeps."""
    created = clock.wall_time_of(invoice.created_at)
    return {
        "id_api": invoice.id,
        "url": invoice.url,
        "forma_pagamento": invoice.payment_method,
        "quant_parcelas": invoice.installments,
        "valor": from_cents(invoice.amount),
        "dt_cobranca": clock.wall_time_of(invoice.billing_at),
        "dt_vencimento": clock.wall_time_of(invoice.due_at),
        "dt_criacao": created.date() if created else None,
        "dt_cancelamento": clock.wall_time_of(invoice.canceled_at),
        "dia_cobranca": subscription.dia_cobranca,
        "total_descontos": from_cents(invoice.total_discount),
        "total_acrescimos": from_cents(invoice.total_increment),
        "cod_cli": subscription.id_cliente,
        "id_assinatura": subscription.id,
        "status": invoice.status,
    }


def item_data(item: ItemRow) -> ItemData:
    return ItemData(
        description=item.descricao,
        name=item.descricao,
        quantity=item.quant,
        cycles=item.ciclos or None,
        pricing_scheme=PricingScheme(price=to_cents(item.valor)),
    )


def item_update(item: ItemRow) -> ItemUpdate:
    """The item's new values, with the `status` the v5 update requires (it stays active)."""
    return ItemUpdate(**item_data(item).model_dump(), status="active")


def new_subscription(
    subscription: SubscriptionRow,
    items: Sequence[ItemRow],
    *,
    customer: CustomerRow,
    card: CardRow,
    card_to_register: NewCard | None,
    zone: ZoneInfo,
) -> NewSubscription:
    """POST /subscriptions: a known customer and card go by id, new ones inline. `code` is the
    ERP's subscription id: it is how the subscription is found again at the gateway."""
    interval = subscription.intervalo.strip().lower()
    if interval not in get_args(Interval):
        raise EventFailed(f"assinatura {subscription.id}: intervalo '{interval}' inválido")
    if not items:
        raise EventFailed(f"assinatura {subscription.id} sem itens ativos")
    return NewSubscription(
        customer_id=customer.id_api,
        customer=None if customer.id_api else customer_data(customer),
        card_id=card.id_api,
        card=card_to_register,
        interval=interval,
        interval_count=subscription.intervalo_quantidade,
        billing_type="exact_day",
        billing_day=subscription.dia_cobranca,
        installments=subscription.quant_parcelas,
        minimum_price=to_cents(subscription.valor_minimo),
        statement_descriptor=subscription.texto_fatura or None,
        start_at=start_of_day(subscription.dt_inicio, zone),
        items=[item_data(item) for item in items],
        metadata={"id_assinatura": str(subscription.id), "cod_cli": str(customer.cod_cli)},
        code=str(subscription.id),
    )
