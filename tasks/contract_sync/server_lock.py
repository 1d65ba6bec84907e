"""A lock kept by the Prefect server: a global concurrency limit of 1, held through a lease.

Both contract-sync locks are this one mechanism: the run lock (one run per Magnus server,
`run_lock`) and the save lock (one MagnusBilling save in flight per server, `save_lock`).
Living in the Prefect server, it excludes across processes, workers, Docker and `make serve`
alike; a holder killed without cleaning up frees it when its lease expires.

An operator can switch a limit off in the Prefect UI (inactive). Prefect then grants it to
everyone without taking a slot, so the lock would stop excluding without anyone noticing.
So a lock found inactive is switched on again (and the log says so) before it is taken, and a
grant is trusted only if the limit is still active once granted: a grant made while it was off
took no slot and is given back and asked for again. A holder switches it on again before giving
it back too: Prefect frees a slot only while its limit is on, so a lock switched off while held
and given back off would stay taken for good.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.actions import (
    GlobalConcurrencyLimitCreate,
    GlobalConcurrencyLimitUpdate,
)
from prefect.client.schemas.objects import ConcurrencyLeaseHolder
from prefect.client.schemas.responses import GlobalConcurrencyLimitResponse
from prefect.concurrency.asyncio import ConcurrencySlotAcquisitionError, concurrency
from prefect.exceptions import MissingContextError, ObjectAlreadyExists, ObjectNotFound
from prefect.logging import get_logger, get_run_logger

from contract_sync.texts import say

LEASE_SECONDS = 60  # a crashed holder keeps a lock at most this long (Prefect's minimum lease)


class LockBusy(Exception):
    """Another holder kept the lock for the whole wait."""

    def __init__(self, name: str, waited: float) -> None:
        super().__init__(f"{name} busy for {waited:.0f} s")
        self.name = name
        self.waited = waited


@asynccontextmanager
async def held_alone(
    name: str,
    holder: ConcurrencyLeaseHolder,
    *,
    wait_seconds: float,
    poll_seconds: float,
    language: str,
) -> AsyncIterator[None]:
    """Hold lock `name` (created if missing, switched on if off) for the block.

    Waits up to `wait_seconds` for another holder, looking every `poll_seconds` (with jitter);
    `LockBusy` after that. The lease is renewed while the block runs.
    """
    started = time.monotonic()
    async with get_client() as client:  # one for taking and giving back: opening one costs
        while True:
            lock = await usable_lock(name, language, client)
            if lock.active_slots < lock.limit:
                taken = await _taken_if_free(name, holder)
                if taken is not None:
                    try:
                        genuine = (await client.read_global_concurrency_limit_by_name(name)).active
                    except BaseException:
                        await taken.aclose()
                        raise
                    if genuine:
                        break
                    await taken.aclose()  # granted while switched off: it took no slot
                    continue
            waited = time.monotonic() - started
            if waited + poll_seconds > wait_seconds:
                raise LockBusy(name, waited)
            await asyncio.sleep(poll_seconds * random.uniform(0.5, 1.5))
        try:
            yield
        finally:
            await _given_back(name, language, taken, client)


async def _given_back(
    name: str, language: str, taken: AsyncExitStack, client: PrefectClient
) -> None:
    """Give the lock back, switched on first: Prefect frees a slot only while its limit is on,
    so a slot given back while an operator had the limit switched off would stay taken for good
    (every later save or run waiting for a holder that is gone). The check is best effort: a
    save already made must not turn into a failure because the Prefect API hiccuped here."""
    try:
        await usable_lock(name, language, client)
    except Exception as error:
        _logger().warning(
            say(language, "log.lock_not_checked", name=name, kind=type(error).__name__)
        )
    await taken.aclose()


async def usable_lock(
    name: str, language: str, client: PrefectClient
) -> GlobalConcurrencyLimitResponse:
    """Lock `name` as it is now, created (limit 1) if missing and switched on if off."""
    try:
        lock = await client.read_global_concurrency_limit_by_name(name)
    except ObjectNotFound:
        with contextlib.suppress(ObjectAlreadyExists):  # another writer created it first
            await client.create_global_concurrency_limit(
                GlobalConcurrencyLimitCreate(name=name, limit=1)
            )
        lock = await client.read_global_concurrency_limit_by_name(name)
    if lock.active and lock.limit == 1:
        return lock
    await client.update_global_concurrency_limit(
        name, GlobalConcurrencyLimitUpdate(active=True, limit=1)
    )
    _logger().warning(say(language, "log.lock_switched_on", name=name))
    return await client.read_global_concurrency_limit_by_name(name)


async def _taken_if_free(name: str, holder: ConcurrencyLeaseHolder) -> AsyncExitStack | None:
    """The lock taken (a stack that gives it back), or None if someone was faster."""
    stack = AsyncExitStack()
    try:
        await stack.enter_async_context(
            concurrency(
                name,
                occupy=1,
                max_retries=0,
                lease_duration=LEASE_SECONDS,
                strict=True,
                holder=holder,
                raise_on_lease_renewal_failure=True,
            )
        )
    except ConcurrencySlotAcquisitionError as refused:
        cause = refused.__cause__
        if isinstance(cause, httpx.HTTPStatusError) and cause.response.status_code == 423:
            return None
        raise
    return stack


def _logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    try:
        return get_run_logger()
    except MissingContextError:
        return get_logger("billing-sync")
