"""Prefect flows: one module per flow, each reading like the job it automates."""
