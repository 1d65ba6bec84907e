"""Prefect block: where the Mundipagg API is, the secret key (SecretStr) and how patient to be."""

from __future__ import annotations

import httpx
from prefect.blocks.core import Block
from pydantic import Field, SecretStr

from blocks.http import RetryPolicy
from blocks.mundipagg.client import DEFAULT_BASE_URL, MundipaggClient


class Mundipagg(Block):
    """Connection to the Mundipagg (Pagar.me Core v5) payment gateway."""

    _block_type_name = "Mundipagg"
    _block_type_slug = "mundipagg"
    _description = "Mundipagg gateway: base URL, secret key sk_... and request timeout."

    base_url: str = Field(default=DEFAULT_BASE_URL, description="API root, ending in /core/v1.")
    secret_key: SecretStr = Field(description="Secret key sk_... (HTTP Basic user).")
    timeout_seconds: float = Field(default=30.0, gt=0, description="Per-request timeout.")
    attempts: int = Field(default=4, gt=0, description="Tries per call on transient errors.")
    retry_base_seconds: float = Field(default=1.0, ge=0, description="First retry delay.")

    def client(self, transport: httpx.AsyncBaseTransport | None = None) -> MundipaggClient:
        return MundipaggClient(
            self.base_url,
            self.secret_key.get_secret_value(),
            timeout=self.timeout_seconds,
            retry=RetryPolicy(attempts=self.attempts, base_delay=self.retry_base_seconds),
            transport=transport,
        )
