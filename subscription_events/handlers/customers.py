"""CLI_E: a customer edited in the ERP."""

from __future__ import annotations

from subscription_events.handlers.erp_rows import customer_row, target_id
from subscription_events.handlers.event_run import Done, EventRun
from subscription_events.payloads import customer_data


async def update_customer(run: EventRun) -> Done:
    """CLI_E: send the edited customer (the gateway only applies e-mail and phones)."""
    customer = await customer_row(run, target_id(run))
    if not customer.id_api:
        return Done("cliente ainda não está no gateway; os dados irão com a primeira assinatura")
    run.id_api = customer.id_api
    await run.services.gateway.update_customer(
        customer.id_api, customer_data(customer), idempotency_key=run.key("customer")
    )
    return Done("dados do cliente atualizados no gateway")
