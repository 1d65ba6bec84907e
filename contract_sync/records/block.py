"""Prefect block: where the records database (holds and customer history) lives, as a secret.

Without one, a run keeps its records in SQLite beside the notification ledger, for 400 days.
For production, save one with a PostgreSQL URL and name it in the deployment's
`records_block` parameter (a URL carries a password: it is a SecretStr, never a parameter).
"""

from __future__ import annotations

from prefect.blocks.core import Block
from pydantic import Field, SecretStr

from clock import Clock
from contract_sync.records.store import DEFAULT_RETENTION_DAYS, Records


class ContractSyncRecords(Block):
    """The database of holds and customer history that contract-sync runs and operators share."""

    _block_type_name = "Contract sync records"
    _block_type_slug = "contract-sync-records"
    _description = (
        "Holds and customer history of contract-sync: a SQLAlchemy URL, e.g. "
        "postgresql+psycopg://user:password@host:5432/billing_sync or sqlite:////var/lib/x.sqlite3."
    )

    url: SecretStr = Field(description="SQLAlchemy URL (PostgreSQL or SQLite), with credentials.")
    retention_days: int = Field(
        default=DEFAULT_RETENTION_DAYS, gt=0, description="Days the customer history is kept."
    )

    def records(self, clock: Clock) -> Records:
        return Records(self.url.get_secret_value(), clock=clock, retention_days=self.retention_days)
