"""One handler per event code: read the ERP rows, make the gateway calls, say what to store.

A handler returns `Done` (a description and the ERP changes to commit with the event's status)
or raises: `EventFailed` for bad ERP data, `ApiError` for the gateway. While it works it notes
on the `EventRun` the customer, gateway id and amount that its `rec_log_sync` row will carry,
whatever the outcome. Every gateway write carries an idempotency key made from the event's
`id_guid` and the purpose of the call, so running an event twice changes nothing twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from blocks.errors import ApiError
from blocks.gym_erp.cards import CardDecryptor
from blocks.gym_erp.database import ErpDatabase, card_registered
from blocks.gym_erp.rows import (
    CardRow,
    Change,
    CustomerRow,
    EventRow,
    InvoiceImport,
    InvoiceRow,
    ItemRow,
    RowUpdate,
    SubscriptionRow,
)
from blocks.gym_erp.schema import customers, invoices, subscription_items, subscriptions
from blocks.mundipagg.client import MundipaggClient
from blocks.mundipagg.models import (
    KNOWN_INVOICE_STATUSES,
    GatewayCard,
    GatewayItem,
    GatewaySubscription,
    NewCard,
)
from clock import Clock
from subscription_events.billing_dates import next_billing_date, start_of_day
from subscription_events.events import EventCode, parse_id
from subscription_events.failures import EventFailed, gateway_problem
from subscription_events.money import from_cents
from subscription_events.payloads import (
    customer_data,
    invoice_values,
    item_data,
    item_update,
    new_card,
    new_subscription,
)

UNKNOWN_CUSTOMER = "(cliente desconhecido)"


@dataclass(frozen=True)
class Services:
    erp: ErpDatabase
    gateway: MundipaggClient
    decryptor: CardDecryptor
    clock: Clock


@dataclass
class EventRun:
    """One event being processed - over all its tries - and what its log row will say about it."""

    event: EventRow
    services: Services
    customer: str = UNKNOWN_CUSTOMER
    id_api: str | None = None
    value: Decimal = field(default_factory=Decimal)
    # The gateway writes this event sent (or tried to), by purpose: whatever happens to the ERP
    # commit, the gateway may hold their results.
    writes: list[str] = field(default_factory=list)
    # A try met a write the gateway may have done without confirming it (`UnconfirmedWrite`):
    # whatever stops a later try, the event's outcome at the gateway is unknown.
    unconfirmed: bool = False

    def gateway_problem(self, error: ApiError) -> str:
        """The reason the event ends `E` because of `error`."""
        return gateway_problem(error, unconfirmed=self.unconfirmed)

    def key(self, purpose: str) -> str:
        """The idempotency key of one gateway write of this event (which is about to be sent)."""
        self.writes.append(purpose)
        return f"{self.event.id_guid}:{purpose}"


@dataclass(frozen=True)
class Done:
    description: str
    changes: Sequence[Change] = ()


Handler = Callable[[EventRun], Awaitable[Done]]


async def create_subscription(run: EventRun) -> Done:
    """A_N: the subscription with its active items, customer and card - once.

    Before creating it, the gateway is asked for a subscription with its `code` (the ERP id it is
    created with): one whose answer was lost (a timeout, a crash) is found there and completed
    instead of created again, even after the gateway forgot the idempotency key. The event ends
    `P` only with every id stored - subscription, customer, card (its data wiped) and items.
    """
    subscription = await _subscription(run, _target(run))
    customer = await _customer(run, subscription.id_cliente)
    items = await run.services.erp.active_items(subscription.id)
    run.value = sum((item.quant * item.valor for item in items), Decimal(0))
    card = await _subscription_card(run, subscription, customer)
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
    found, canceled = await _same_code_at_gateway(run, subscription)
    if found is not None:
        how = f"já no gateway (encontrada pelo code {found.code})"
        return _completed(run, subscription, customer, card, items, found, how)
    if card_to_register is not None and customer.id_api is not None:
        # A known customer's new card is registered (and committed) on its own first.
        registered = await _register_card(run, customer.id_api, card, card_to_register)
        card = replace(card, id_api=registered)
        request = request.model_copy(update={"card": None, "card_id": registered})
    created = await run.services.gateway.create_subscription(
        request, idempotency_key=run.key("subscription")
    )
    how = "criada no gateway" + (
        f" ({canceled} cancelada(s) com o mesmo code ignorada(s))" if canceled else ""
    )
    return _completed(run, subscription, customer, card, items, created, how)


async def _same_code_at_gateway(
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


async def _subscription_at_gateway(
    run: EventRun, subscription: SubscriptionRow, nothing_done: str
) -> tuple[GatewaySubscription | None, str]:
    """(the subscription as the gateway holds it - by the ERP's `id_api`, or else the live one
    this flow created with its `code` - or None, and how it was found or why not)."""
    if subscription.id_api:
        return await run.services.gateway.subscription(subscription.id_api), "já no gateway"
    found, canceled = await _same_code_at_gateway(run, subscription, nothing_done)
    if found is None:
        ignored = f"; {canceled} cancelada(s) com o mesmo code" if canceled else ""
        return None, f"nenhuma assinatura ativa com o code {subscription.id}{ignored}"
    return found, f"encontrada pelo code {subscription.id}"


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
        changes.append(_registered(card, at_gateway.card))
    item_ids, item_problem = _item_ids(items, at_gateway.items)
    changes += item_ids
    problems += item_problem
    if problems:
        raise EventFailed(
            f"assinatura {at_gateway.id} {how}, mas {'; '.join(problems)}", keep=changes
        )
    return Done(f"assinatura {how} com {len(items)} item(ns)", changes)


async def change_card(run: EventRun) -> Done:
    """A_ECT: charge the subscription's next invoices on the card named in `codaux_1`."""
    subscription, customer, subscription_api_id = await _registered_subscription(run)
    card = await _card(run, _number(run.event.codaux_1, "codaux_1 (id do cartão)"), customer)
    card_id = await _gateway_card_id(run, customer, card)
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
    subscription, _, subscription_api_id = await _registered_subscription(run)
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
    subscription = await _subscription(run, _target(run))
    await _customer(run, subscription.id_cliente)
    canceled: dict[str, object] = {"status": "C"}
    gateway_id, how = subscription.id_api, ""
    if not gateway_id:
        found, ignored = await _same_code_at_gateway(run, subscription, "nada cancelado")
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


async def update_customer(run: EventRun) -> Done:
    """CLI_E: send the edited customer (the gateway only applies e-mail and phones)."""
    customer = await _customer(run, _target(run))
    if not customer.id_api:
        return Done("cliente ainda não está no gateway; os dados irão com a primeira assinatura")
    run.id_api = customer.id_api
    await run.services.gateway.update_customer(
        customer.id_api, customer_data(customer), idempotency_key=run.key("customer")
    )
    return Done("dados do cliente atualizados no gateway")


async def add_item(run: EventRun) -> Done:
    """IA_N: add the item to its subscription at the gateway."""
    item, subscription_api_id = await _item_of_registered_subscription(run)
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
    item, subscription_api_id = await _item_of_registered_subscription(run)
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
    item, subscription = await _item_and_subscription(run)
    if item.id_api and subscription.id_api:
        run.id_api = item.id_api
        await run.services.gateway.remove_item(
            subscription.id_api, item.id_api, idempotency_key=run.key("remove-item")
        )
        return Done(
            f"item '{item.descricao}' removido da assinatura",
            [RowUpdate(subscription_items.name, item.id, {"status": "I"})],
        )
    at_gateway, how = await _subscription_at_gateway(run, subscription, "nada removido")
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
    if not _unclaimed(items, at_gateway.items):
        return None, []
    paired, problems = _item_ids(items, at_gateway.items)
    this = [str(pair.values["id_api"]) for pair in paired if pair.row_id == item.id]
    if not this and not problems:
        problems = [f"o item não está ativo no ERP (status {item.status})"]
    if problems:
        raise EventFailed(
            f"não foi possível saber qual item da assinatura {at_gateway.id} do gateway é o "
            f"item {item.id}: {'; '.join(problems)}; confira; nada removido"
        )
    return this[0], [pair for pair in paired if pair.row_id != item.id]


async def import_invoices(run: EventRun) -> Done:
    """F_AA: every invoice of the subscription, all pages, into `rec_fatura` by `id_api`."""
    subscription, _, subscription_api_id = await _registered_subscription(run)
    run.id_api = subscription_api_id
    found = await run.services.gateway.subscription_invoices(subscription_api_id)
    run.value = sum((from_cents(invoice.amount) for invoice in found), Decimal(0))
    unknown = Counter(i.status for i in found if i.status not in KNOWN_INVOICE_STATUSES)
    noted = "".join(
        f"; status desconhecido '{status}' em {count} (guardado como veio)"
        for status, count in sorted(unknown.items())
    )
    return Done(
        f"{len(found)} fatura(s) importada(s){noted}",
        [InvoiceImport([invoice_values(i, subscription, run.services.clock) for i in found])],
    )


async def cancel_invoice(run: EventRun) -> Done:
    """F_C: cancel the invoice named in `codaux_1` (a `rec_fatura.id`), or else the
    subscription's pending ones, as last imported by F_AA."""
    subscription = await _subscription(run, _target(run))
    await _customer(run, subscription.id_cliente)
    to_cancel = await _invoices_to_cancel(run, subscription)
    run.value = sum((invoice.valor for invoice in to_cancel), Decimal(0))
    changes: list[Change] = []
    for invoice in to_cancel:
        run.id_api = invoice.id_api
        try:
            canceled = await run.services.gateway.cancel_invoice(
                invoice.id_api, idempotency_key=run.key(f"cancel-invoice:{invoice.id_api}")
            )
        except ApiError as error:
            if not changes:
                raise
            # Those already canceled at the gateway are recorded so, unless a try follows.
            raise EventFailed(
                f"{len(changes)} de {len(to_cancel)} fatura(s) cancelada(s); "
                f"a fatura {invoice.id}: {run.gateway_problem(error)}",
                keep=changes,
                gateway_error=error,
            ) from None
        changes.append(
            RowUpdate(
                invoices.name,
                invoice.id,
                {
                    "status": canceled.status,
                    "dt_cancelamento": run.services.clock.wall_time_of(canceled.canceled_at),
                },
            )
        )
    return Done(f"{len(to_cancel)} fatura(s) cancelada(s) no gateway", changes)


HANDLERS: dict[EventCode, Handler] = {
    EventCode.NEW_SUBSCRIPTION: create_subscription,
    EventCode.CHANGE_CARD: change_card,
    EventCode.CHANGE_BILLING_DAY: change_billing_day,
    EventCode.CANCEL_SUBSCRIPTION: cancel_subscription,
    EventCode.CUSTOMER_EDITED: update_customer,
    EventCode.ITEM_ADDED: add_item,
    EventCode.ITEM_CHANGED: update_item,
    EventCode.ITEM_REMOVED: remove_item,
    EventCode.IMPORT_INVOICES: import_invoices,
    EventCode.CANCEL_INVOICE: cancel_invoice,
}


def _target(run: EventRun) -> int:
    return _number(run.event.id_tabela, "id_tabela")


def _number(text: str | None, what: str) -> int:
    row_id = parse_id(text)
    if row_id is None:
        raise EventFailed(f"{what} '{text or ''}' não é um id numérico")
    return row_id


async def _subscription(run: EventRun, subscription_id: int) -> SubscriptionRow:
    subscription = await run.services.erp.subscription(subscription_id)
    if subscription is None:
        raise EventFailed(f"assinatura {subscription_id} não existe em rec_assinatura")
    return subscription


async def _registered_subscription(run: EventRun) -> tuple[SubscriptionRow, CustomerRow, str]:
    """The event's subscription, its customer and its gateway id (it must have one)."""
    subscription = await _subscription(run, _target(run))
    customer = await _customer(run, subscription.id_cliente)
    return subscription, customer, _gateway_id(subscription)


def _gateway_id(subscription: SubscriptionRow) -> str:
    if not subscription.id_api:
        raise EventFailed(
            f"assinatura {subscription.id} ainda não está no gateway (A_N pendente ou com erro)"
        )
    return subscription.id_api


async def _customer(run: EventRun, cod_cli: int) -> CustomerRow:
    customer = await run.services.erp.customer(cod_cli)
    if customer is None:
        raise EventFailed(f"cliente {cod_cli} não existe em cad_cliente")
    run.customer = customer.nome
    return customer


async def _subscription_card(
    run: EventRun, subscription: SubscriptionRow, customer: CustomerRow
) -> CardRow:
    if subscription.id_cartao is None:
        raise EventFailed(f"assinatura {subscription.id} sem cartão (id_cartao vazio)")
    return await _card(run, subscription.id_cartao, customer)


async def _card(run: EventRun, card_id: int, owner: CustomerRow) -> CardRow:
    card = await run.services.erp.card(card_id)
    if card is None:
        raise EventFailed(f"cartão {card_id} não existe em cad_cliente_cartao")
    if card.cod_cli != owner.cod_cli:
        raise EventFailed(f"cartão {card_id} não pertence ao cliente {owner.cod_cli}")
    return card


async def _gateway_card_id(run: EventRun, customer: CustomerRow, card: CardRow) -> str:
    """The card's gateway id, registering the card first if needed."""
    if card.id_api:
        return card.id_api
    if not customer.id_api:
        raise EventFailed(f"cliente {customer.cod_cli} ainda não está no gateway")
    return await _register_card(run, customer.id_api, card, new_card(card, run.services.decryptor))


async def _register_card(run: EventRun, customer_id: str, card: CardRow, card_data: NewCard) -> str:
    """Register the card with the gateway's customer `customer_id`; its id. The registration
    (and the wipe of the card data) is committed at once, even if the event fails later: the
    gateway holds the card, the ERP must not."""
    registered = await run.services.gateway.create_card(
        customer_id, card_data, idempotency_key=run.key("card")
    )
    await run.services.erp.apply([_registered(card, registered)])
    return registered.id


def _registered(card: CardRow, gateway_card: GatewayCard) -> RowUpdate:
    return card_registered(
        card.id,
        id_api=gateway_card.id,
        brand=gateway_card.brand,
        last_four_digits=gateway_card.last_four_digits,
    )


def _item_ids(
    items: Sequence[ItemRow], at_gateway: Sequence[GatewayItem]
) -> tuple[list[RowUpdate], list[str]]:
    """(ids for the ERP's active items that lack one, what kept that from being done).

    The gateway lists a subscription's items in the order they were sent (it may normalise their
    text): those no ERP item claims yet, removed ones aside, are paired in order with the ERP
    items without an id - only when there are as many of each.
    """
    unpaired = [item for item in items if not item.id_api]
    free = _unclaimed(items, at_gateway)
    if len(unpaired) != len(free):
        return [], [
            f"o gateway mostra {len(free)} item(ns) sem par no ERP para {len(unpaired)} item(ns) "
            "ativo(s) do ERP sem id_api"
        ]
    return [
        RowUpdate(subscription_items.name, item.id, {"id_api": answer.id})
        for item, answer in zip(unpaired, free, strict=True)
    ], []


def _unclaimed(items: Sequence[ItemRow], at_gateway: Sequence[GatewayItem]) -> list[GatewayItem]:
    """The gateway's live items that no ERP item claims by its `id_api`."""
    claimed = {item.id_api for item in items if item.id_api}
    return [item for item in at_gateway if item.id not in claimed and item.status != "deleted"]


async def _item_and_subscription(run: EventRun) -> tuple[ItemRow, SubscriptionRow]:
    item_id = _target(run)
    item = await run.services.erp.item(item_id)
    if item is None:
        raise EventFailed(f"item {item_id} não existe em rec_assinatura_item")
    subscription = await run.services.erp.subscription(item.id_assinatura)
    if subscription is None:
        raise EventFailed(
            f"item {item.id} aponta para a assinatura {item.id_assinatura}, que não existe"
        )
    await _customer(run, subscription.id_cliente)
    run.value = item.quant * item.valor
    return item, subscription


async def _item_of_registered_subscription(run: EventRun) -> tuple[ItemRow, str]:
    item, subscription = await _item_and_subscription(run)
    return item, _gateway_id(subscription)


async def _invoices_to_cancel(run: EventRun, subscription: SubscriptionRow) -> list[InvoiceRow]:
    if not (run.event.codaux_1 or "").strip():
        pending = await run.services.erp.pending_invoices(subscription.id)
        if not pending:
            raise EventFailed(
                f"assinatura {subscription.id} sem fatura pendente em rec_fatura (importe com F_AA)"
            )
        return pending
    invoice_id = _number(run.event.codaux_1, "codaux_1 (id da fatura)")
    invoice = await run.services.erp.invoice(invoice_id)
    if invoice is None or invoice.id_assinatura != subscription.id:
        raise EventFailed(
            f"fatura {invoice_id} da assinatura {subscription.id} não existe em rec_fatura"
        )
    return [invoice]
