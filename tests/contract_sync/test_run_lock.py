"""The run lock and the save lock: one holder at a time, even when an operator switches the
Prefect limit off (an inactive limit is granted to everyone without taking a slot)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from uuid import uuid4

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate
from prefect.client.schemas.responses import GlobalConcurrencyLimitResponse

from tasks.contract_sync import server_lock
from tasks.contract_sync.run_lock import LockHeld, lock_name, one_run_at_a_time
from tasks.contract_sync.save_lock import one_save_at_a_time, save_lock_name

pytestmark = pytest.mark.prefect


def magnus_url() -> str:
    return f"https://voip-{uuid4().hex[:8]}.example.com"


async def switch_off(name: str) -> None:
    """What an operator does with the toggle of a global concurrency limit in the Prefect UI."""
    async with get_client() as client:
        await client.update_global_concurrency_limit(
            name, GlobalConcurrencyLimitUpdate(active=False)
        )


async def is_active(name: str) -> bool:
    async with get_client() as client:
        return (await client.read_global_concurrency_limit_by_name(name)).active


async def test_a_second_holder_is_refused_and_the_lock_is_free_again_after(
    prefect_harness: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    magnus = magnus_url()
    async with one_run_at_a_time(magnus, uuid4()):
        with pytest.raises(LockHeld):
            async with one_run_at_a_time(magnus, uuid4()):
                pytest.fail("two holders")

        real = server_lock.usable_lock

        async def looks_free(
            name: str, language: str, client: Any
        ) -> GlobalConcurrencyLimitResponse:
            return (await real(name, language, client)).model_copy(update={"active_slots": 0})

        # Two runs that both found it free: the one that asks second is refused, same answer.
        monkeypatch.setattr(server_lock, "usable_lock", looks_free)
        with pytest.raises(LockHeld):
            async with one_run_at_a_time(magnus, uuid4()):
                pytest.fail("two holders")
        monkeypatch.undo()
    async with one_run_at_a_time(magnus, uuid4()):
        pass


async def test_a_run_lock_switched_off_in_the_ui_still_excludes_and_is_switched_on_again(
    prefect_harness: None, caplog: pytest.LogCaptureFixture
) -> None:
    magnus = magnus_url()
    name = lock_name(magnus)
    async with one_run_at_a_time(magnus, uuid4()):
        pass
    await switch_off(name)
    caplog.set_level(logging.WARNING)
    # Two runs at once, the limit off: never both inside.
    in_flight, most = 0, 0

    async def one_run() -> None:
        nonlocal in_flight, most
        with contextlib.suppress(LockHeld):
            async with one_run_at_a_time(magnus, uuid4()):
                in_flight += 1
                most = max(most, in_flight)
                await asyncio.sleep(1)
                in_flight -= 1

    await asyncio.gather(one_run(), one_run(), one_run())
    assert most == 1
    assert await is_active(name)
    assert any(name in r.getMessage() and "reativado" in r.getMessage() for r in caplog.records)

    # Switched off while a run holds it: the next run is still refused.
    async with one_run_at_a_time(magnus, uuid4()):
        await switch_off(name)
        with pytest.raises(LockHeld):
            async with one_run_at_a_time(magnus, uuid4()):
                pytest.fail("two holders")
        assert await is_active(name)


@pytest.mark.parametrize("holding", [one_run_at_a_time, one_save_at_a_time], ids=["run", "save"])
async def test_a_lock_given_back_while_switched_off_is_free_again(
    prefect_harness: None, holding: Any
) -> None:
    """Prefect frees a slot only while its limit is on: a run or save that ends while an
    operator has its lock switched off must not leave it taken for good."""
    magnus = magnus_url()
    name = (lock_name if holding is one_run_at_a_time else save_lock_name)(magnus)
    async with holding(magnus, uuid4(), language="pt-BR"):
        await switch_off(name)
    async with get_client() as client:
        lock = await client.read_global_concurrency_limit_by_name(name)
    assert (lock.active, lock.active_slots) == (True, 0)
    async with holding(magnus, uuid4(), language="pt-BR"):  # at once: the slot is free
        pass


async def test_saves_never_overlap_even_with_the_save_lock_switched_off(
    prefect_harness: None,
) -> None:
    magnus = magnus_url()
    in_flight, most, saves = 0, 0, 0

    async def save() -> None:
        nonlocal in_flight, most, saves
        async with one_save_at_a_time(magnus, uuid4(), language="pt-BR"):
            in_flight += 1
            most = max(most, in_flight)
            await asyncio.sleep(0.05)
            in_flight -= 1
            saves += 1

    await save()  # creates it
    await switch_off(save_lock_name(magnus))
    await asyncio.gather(*(save() for _ in range(6)))  # waited for, never refused
    assert (saves, most) == (7, 1)
    assert await is_active(save_lock_name(magnus))

    # Switched off while a save holds it: the next save still waits its turn.
    async def save_switching_it_off() -> None:
        nonlocal in_flight, most
        async with one_save_at_a_time(magnus, uuid4(), language="en"):
            in_flight += 1
            await switch_off(save_lock_name(magnus))
            await asyncio.sleep(0.3)
            most = max(most, in_flight)
            in_flight -= 1

    await asyncio.gather(save_switching_it_off(), save(), save())
    assert most == 1


async def test_the_pause_between_saves_keeps_the_next_save_waiting(
    prefect_harness: None,
) -> None:
    magnus = magnus_url()
    ended: list[float] = []
    started: list[float] = []
    loop = asyncio.get_running_loop()

    async def save() -> None:
        async with one_save_at_a_time(magnus, uuid4(), pause_after=0.4, language="pt-BR"):
            started.append(loop.time())
            await asyncio.sleep(0.01)
            ended.append(loop.time())

    await asyncio.gather(save(), save())
    assert started[1] - ended[0] >= 0.4
