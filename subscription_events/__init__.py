"""The gym ERP's Mundipagg event queue: plain, typed logic behind the `subscription-events` flow.

`events` orders and groups the pending events, `handlers` turns one event into gateway calls
and ERP changes, `lanes` runs a customer's events in order, `report` summarises a run.
"""
