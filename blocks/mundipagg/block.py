"""Prefect block: where the Mundipagg API is, the secret key (SecretStr) and how patient to be."""

from __future__ import annotations

import httpx
from prefect.blocks.core import Block
from pydantic import Field, SecretStr

from blocks.http import RetryPolicy
from blocks.mundipagg.client import DEFAULT_BASE_URL, LEGACY_BASE_URL, MundipaggClient


class Mundipagg(Block):
    """Connection to the Pagar.me Core API v5 (formerly Mundipagg) payment gateway."""

    _block_type_name = "Mundipagg"
    _block_type_slug = "mundipagg"
    _description = (
        f"Pagar.me (formerly Mundipagg) payment gateway. Default base URL {DEFAULT_BASE_URL}, "
        "today's API, with a Pagar.me secret key (sk_test_... for test, sk_... for live: the key "
        f"picks the environment). The legacy Mundipagg API ({LEGACY_BASE_URL}, being retired) "
        "takes the same calls with a Mundipagg key; keys are not valid across the two."
    )

    base_url: str = Field(
        default=DEFAULT_BASE_URL,
        description=f"API root: {DEFAULT_BASE_URL} (Pagar.me) or {LEGACY_BASE_URL} (legacy).",
    )
    secret_key: SecretStr = Field(
        description="Secret key sk_... of the API at the base URL (HTTP Basic user, no password)."
    )
    timeout_seconds: float = Field(default=30.0, gt=0, description="Per-request timeout.")
    attempts: int = Field(
        default=4,
        gt=0,
        description="Tries per event on transient gateway errors (each retry a Prefect retry).",
    )
    retry_base_seconds: float = Field(default=1.0, ge=0, description="First retry delay.")

    def retry_policy(self) -> RetryPolicy:
        """How an event that met a transient gateway error is retried (Prefect task retries)."""
        return RetryPolicy(attempts=self.attempts, base_delay=self.retry_base_seconds)

    def client(self, transport: httpx.AsyncBaseTransport | None = None) -> MundipaggClient:
        return MundipaggClient(
            self.base_url,
            self.secret_key.get_secret_value(),
            timeout=self.timeout_seconds,
            transport=transport,
        )
