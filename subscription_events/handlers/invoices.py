"""F_AA, F_C: a subscription's invoices imported, or cancelled."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from blocks.errors import ApiError
from blocks.gym_erp.rows import Change, InvoiceImport, InvoiceRow, RowUpdate, SubscriptionRow
from blocks.gym_erp.schema import invoices
from blocks.mundipagg.models import KNOWN_INVOICE_STATUSES
from subscription_events.failures import EventFailed
from subscription_events.handlers.erp_rows import (
    customer_row,
    id_in,
    registered_subscription,
    subscription_row,
    target_id,
)
from subscription_events.handlers.event_run import Done, EventRun
from subscription_events.money import from_cents
from subscription_events.payloads import invoice_values


async def import_invoices(run: EventRun) -> Done:
    """F_AA: every invoice of the subscription, all pages, into `rec_fatura` by `id_api`."""
    subscription, _, subscription_api_id = await registered_subscription(run)
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
    subscription = await subscription_row(run, target_id(run))
    await customer_row(run, subscription.id_cliente)
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


async def _invoices_to_cancel(run: EventRun, subscription: SubscriptionRow) -> list[InvoiceRow]:
    if not (run.event.codaux_1 or "").strip():
        pending = await run.services.erp.pending_invoices(subscription.id)
        if not pending:
            raise EventFailed(
                f"assinatura {subscription.id} sem fatura pendente em rec_fatura (importe com F_AA)"
            )
        return pending
    invoice_id = id_in(run.event.codaux_1, "codaux_1 (id da fatura)")
    invoice = await run.services.erp.invoice(invoice_id)
    if invoice is None or invoice.id_assinatura != subscription.id:
        raise EventFailed(
            f"fatura {invoice_id} da assinatura {subscription.id} não existe em rec_fatura"
        )
    return [invoice]
