"""Prefect block: the Discord webhooks (secret URLs) and the language of the messages."""

from __future__ import annotations

import httpx
from prefect.blocks.core import Block
from pydantic import Field, SecretStr

from blocks.discord.client import DiscordWebhook
from blocks.http import RetryPolicy
from blocks.language import DEFAULT_LANGUAGE, Language


class Discord(Block):
    """Where the team is told about changes, and (optionally) separately about failures."""

    _block_type_name = "Discord"
    _block_type_slug = "discord"
    _description = "Discord webhooks for change announcements and failure alerts."

    webhook_url: SecretStr = Field(description="Webhook for change announcements.")
    errors_webhook_url: SecretStr | None = Field(
        default=None, description="Optional webhook for failures and approvals (else the main one)."
    )
    language: Language = Field(
        default=DEFAULT_LANGUAGE,
        description=(
            "The operators' language: Discord messages and alerts, the run report, the "
            "approval form and run state messages."
        ),
    )
    username: str = Field(default="billing-sync", description="Name shown as the message author.")
    max_embeds: int = Field(
        default=30,
        gt=0,
        description="Above this many changes, send one summary with a CSV file instead of embeds.",
    )
    timeout_seconds: float = Field(default=15.0, gt=0)
    attempts: int = Field(default=6, gt=0, description="Tries per message (429/5xx/timeouts).")
    retry_base_seconds: float = Field(
        default=1.0, ge=0, description="First retry delay (a 429's retry_after wins if longer)."
    )

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            attempts=self.attempts, base_delay=self.retry_base_seconds, max_delay=60.0
        )

    def webhook(self, transport: httpx.AsyncBaseTransport | None = None) -> DiscordWebhook:
        return self._client(self.webhook_url, transport)

    def errors_webhook(self, transport: httpx.AsyncBaseTransport | None = None) -> DiscordWebhook:
        return self._client(self.errors_webhook_url or self.webhook_url, transport)

    def _client(self, url: SecretStr, transport: httpx.AsyncBaseTransport | None) -> DiscordWebhook:
        return DiscordWebhook(
            url.get_secret_value(),
            username=self.username,
            timeout=self.timeout_seconds,
            transport=transport,
        )
