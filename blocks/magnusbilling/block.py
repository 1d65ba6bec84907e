"""Prefect block: where MagnusBilling is and how to sign in (key and secret stay SecretStr)."""

from __future__ import annotations

from typing import Literal

import httpx
from prefect.blocks.core import Block
from pydantic import Field, SecretStr

from blocks.http import RetryPolicy
from blocks.magnusbilling.client import MagnusBillingClient


class MagnusBilling(Block):
    """Connection to a MagnusBilling 7 server's API (needs a key with `r` and `u` permissions)."""

    _block_type_name = "MagnusBilling"
    _block_type_slug = "magnusbilling"
    _description = "MagnusBilling 7 API: base URL, API key and secret, and how the sync uses it."

    base_url: str = Field(description="Server root, e.g. https://voip.example.com (no /mbilling).")
    api_key: SecretStr = Field(description="API key (Key header).")
    api_secret: SecretStr = Field(description="API secret used to sign every request.")
    verify_tls: bool = Field(default=True, description="Check the server's TLS certificate.")
    timeout_seconds: float = Field(default=30.0, gt=0, description="Per-request timeout.")
    page_size: int = Field(default=5000, gt=0, description="Users per read request.")
    max_concurrency: int = Field(default=4, gt=0, description="Read requests in flight at once.")
    attempts: int = Field(
        default=4,
        gt=0,
        description="Tries per read (a page or id range) and per change written (Prefect retries).",
    )
    retry_base_seconds: float = Field(default=1.0, ge=0, description="First retry delay.")
    contract_field: str = Field(
        default="dist", description="User field where operators keep the IXC contract id."
    )
    block_status: Literal[3, 4] = Field(
        default=4, description="Status set on Block: 3 blocks incoming calls, 4 in and out."
    )
    pause_between_saves_seconds: float = Field(
        default=0.0,
        ge=0,
        le=60,
        description=(
            "Wait this long after each save before the next one (by any run): each save "
            "rewrites every SIP peer and reloads Asterisk, which some servers need a moment after."
        ),
    )

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(attempts=self.attempts, base_delay=self.retry_base_seconds)

    def client(self, transport: httpx.AsyncBaseTransport | None = None) -> MagnusBillingClient:
        return MagnusBillingClient(
            self.base_url,
            self.api_key.get_secret_value(),
            self.api_secret.get_secret_value(),
            contract_field=self.contract_field,
            page_size=self.page_size,
            max_concurrency=self.max_concurrency,
            timeout=self.timeout_seconds,
            verify=self.verify_tls,
            transport=transport,
        )
