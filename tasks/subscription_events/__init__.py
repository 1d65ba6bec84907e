"""subscription-events' Prefect tasks: thin, named steps over `subscription_events`.

Each customer's events are one `process-customer-events` task run, retried by Prefect - each
retry a state of the task run in the UI (AwaitingRetry, then Retrying) - when an event's gateway
call meets a transient error (timeout, reset, 429 after its Retry-After, 5xx, garbled answer) and
the event has tries left (the Mundipagg block's `attempts`, per event). The retry goes on from
that event, still claimed, making its calls again with the same idempotency keys; its last try
records its outcome, so a task run never fails because of one event. (One task run per event
would cost Prefect's own ~7 ms per task run on every event.) Clients and the database are
passed in, so tasks are `NO_CACHE`.
"""
