"""Prefect tasks: thin, named steps over the logic in contract_sync/ and the clients in blocks/."""
