"""What a handler works with: the services, the event being run and what it returns."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from blocks.errors import ApiError
from blocks.gym_erp.cards import CardDecryptor
from blocks.gym_erp.database import ErpDatabase
from blocks.gym_erp.rows import Change, EventRow
from blocks.mundipagg.client import MundipaggClient
from clock import Clock
from subscription_events.failures import gateway_problem


@dataclass(frozen=True)
class Services:
    erp: ErpDatabase
    gateway: MundipaggClient
    decryptor: CardDecryptor
    clock: Clock


@dataclass
class EventRun:
    """One event being processed - over all its tries - and what its log row will say about it."""

    event: EventRow
    services: Services
    customer: str | None = None  # its name, once a handler read it
    id_api: str | None = None
    value: Decimal = field(default_factory=Decimal)
    # The gateway writes this event sent (or tried to), by purpose: whatever happens to the ERP
    # commit, the gateway may hold their results.
    writes: list[str] = field(default_factory=list)
    # A try met a write the gateway may have done without confirming it (`UnconfirmedWrite`):
    # whatever stops a later try, the event's outcome at the gateway is unknown.
    unconfirmed: bool = False

    def gateway_problem(self, error: ApiError) -> str:
        """The reason the event ends `E` because of `error`."""
        return gateway_problem(error, unconfirmed=self.unconfirmed)

    def key(self, purpose: str) -> str:
        """The idempotency key of one gateway write of this event (which is about to be sent)."""
        self.writes.append(purpose)
        return f"{self.event.id_guid}:{purpose}"


@dataclass(frozen=True)
class Done:
    description: str
    changes: Sequence[Change] = ()


Handler = Callable[[EventRun], Awaitable[Done]]
