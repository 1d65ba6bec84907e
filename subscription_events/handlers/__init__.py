"""One handler per event code: read the ERP rows, make the gateway calls, say what to store.

A handler returns `Done` (a description and the ERP changes to commit with the event's status)
or raises: `EventFailed` for bad ERP data, `ApiError` for the gateway. While it works it notes
on the `EventRun` the customer, gateway id and amount that its `rec_log_sync` row will carry,
whatever the outcome. Every gateway write carries an idempotency key made from the event's
`id_guid` and the purpose of the call, so running an event twice changes nothing twice.
"""

from __future__ import annotations

from subscription_events.events import EventCode
from subscription_events.handlers.customers import update_customer
from subscription_events.handlers.event_run import Done, EventRun, Handler, Services
from subscription_events.handlers.invoices import cancel_invoice, import_invoices
from subscription_events.handlers.items import add_item, remove_item, update_item
from subscription_events.handlers.subscriptions import (
    cancel_subscription,
    change_billing_day,
    change_card,
    create_subscription,
)

__all__ = ["HANDLERS", "Done", "EventRun", "Handler", "Services"]

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
