"""Prefect block: where IXC is, its API token (SecretStr) and how its codes map to a status."""

from __future__ import annotations

import httpx
from prefect.blocks.core import Block
from pydantic import Field, SecretStr

from blocks.http import RetryPolicy
from blocks.ixc.client import IxcClient
from blocks.ixc.models import IxcStatusMapping


class Ixc(Block):
    """Connection to an IXCSoft (IXC Provedor) webservice, read-only use."""

    _block_type_name = "IXC"
    _block_type_slug = "ixc"
    _description = "IXCSoft webservice: base URL, token 'id:hash' and the contract status mapping."

    base_url: str = Field(description="Server root, e.g. https://erp.example.com (no /webservice).")
    token: SecretStr = Field(description="API token as 'id:hash' (HTTP Basic user:password).")
    verify_tls: bool = Field(default=True, description="Check the server's TLS certificate.")
    timeout_seconds: float = Field(default=30.0, gt=0, description="Per-request timeout.")
    batch_size: int = Field(default=1000, gt=0, description="Contract ids per IN-filter request.")
    page_size: int = Field(default=1000, gt=0, description="Rows per page of the full listing.")
    max_concurrency: int = Field(default=4, gt=0, description="Requests in flight at once.")
    attempts: int = Field(
        default=4, gt=0, description="Tries per read (a batch or page; Prefect retries)."
    )
    retry_base_seconds: float = Field(default=1.0, ge=0, description="First retry delay.")
    status_mapping: IxcStatusMapping = Field(
        default_factory=IxcStatusMapping, description="How contract codes map to a status."
    )

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(attempts=self.attempts, base_delay=self.retry_base_seconds)

    def client(self, transport: httpx.AsyncBaseTransport | None = None) -> IxcClient:
        return IxcClient(
            self.base_url,
            self.token.get_secret_value(),
            batch_size=self.batch_size,
            page_size=self.page_size,
            max_concurrency=self.max_concurrency,
            timeout=self.timeout_seconds,
            verify=self.verify_tls,
            transport=transport,
        )
