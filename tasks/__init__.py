"""Prefect tasks: thin, named steps over the logic in reconcile/ and the clients in blocks/."""
