"""What the events run with: the ERP database, the gateway client, the card decryptor, the
gym's clock, and how an event is retried."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from blocks.gym_erp.block import GymErpDatabase
from blocks.gym_erp.cards import FernetCardKey
from blocks.http import RetryPolicy
from blocks.mundipagg.block import Mundipagg
from clock import Clock
from subscription_events.handlers import Services


@dataclass(frozen=True)
class EventsSystems:
    """What the events run with, and how an event is retried on transient gateway errors."""

    services: Services
    gateway_retry: RetryPolicy


@asynccontextmanager
async def connected_for_events(
    erp_block: str, gateway_block: str, card_key_block: str, timezone: str
) -> AsyncIterator[EventsSystems]:
    """The ERP database, the gateway client, the card decryptor and the gym's clock."""
    clock = Clock.in_zone(timezone)
    erp_settings: GymErpDatabase = await GymErpDatabase.aload(erp_block)
    gateway_settings: Mundipagg = await Mundipagg.aload(gateway_block)
    card_key: FernetCardKey = await FernetCardKey.aload(card_key_block)
    erp = erp_settings.database(clock)
    try:
        async with gateway_settings.client() as gateway:
            services = Services(erp, gateway, card_key.cipher(), clock)
            yield EventsSystems(services, gateway_settings.retry_policy())
    finally:
        erp.dispose()
