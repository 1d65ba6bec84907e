"""Prefect block: the ERP database's SQLAlchemy URL, kept as a secret."""

from __future__ import annotations

from prefect.blocks.core import Block
from pydantic import Field, SecretStr
from sqlalchemy import create_engine

from blocks.gym_erp.database import ErpDatabase
from clock import Clock


class GymErpDatabase(Block):
    """Where the gym ERP's tables live: SQL Server in production, SQLite in the demo."""

    _block_type_name = "Gym ERP database"
    _block_type_slug = "gym-erp-database"
    _description = (
        "SQLAlchemy URL of the gym ERP, e.g. mssql+pyodbc://user:pass@dsn or sqlite:///gym.db."
    )

    url: SecretStr = Field(description="SQLAlchemy URL, with credentials.")
    pool_size: int = Field(default=10, gt=0, description="Connections kept open.")

    def database(self, clock: Clock) -> ErpDatabase:
        """A fresh engine: each run opens its own pool and disposes of it, so no stale links."""
        engine = create_engine(self.url.get_secret_value(), pool_size=self.pool_size)
        return ErpDatabase(engine, clock=clock, workers=self.pool_size)
