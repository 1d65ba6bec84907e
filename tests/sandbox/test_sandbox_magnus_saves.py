"""What a MagnusBilling save costs and what overlapping saves do to Asterisk (sandbox/asterisk.py).

Durations are checked from below only (the emulator sleeps at least the cost; a busy machine only
adds), or through the emulator's own records: speed is the benchmark's business.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from magnus_recording import KEY, call, client_for

from sandbox.asterisk import SaveCost
from sandbox.magnusbilling import INSPECTION_PATH, MagnusBillingSandbox, make_user, root_user

# Saves of 0.2 s: long enough that requests started together really overlap in the emulator.
COST = 0.2


def _magnus(customers: int = 5, cost: float = COST) -> MagnusBillingSandbox:
    users = [root_user(), *(make_user(i, f"pw{i:08d}") for i in range(2, customers + 2))]
    per_account = 0.001
    scale = cost / (0.06 + per_account * customers)
    return MagnusBillingSandbox(
        users, [KEY], save_per_account_seconds=per_account, save_cost_scale=scale
    )


def test_cost_is_calibrated_on_the_real_server() -> None:
    """Sequential saves measured on MagnusBilling 7.8.5.3: 0.20 s at 315 accounts, 2.42 s at
    5,315; ~4.5 s at 10k."""
    cost = SaveCost()
    assert cost.seconds(315) == pytest.approx(0.20, abs=0.01)
    assert cost.seconds(5_315) == pytest.approx(2.42, abs=0.02)
    assert cost.seconds(10_000) == pytest.approx(4.5, abs=0.05)
    assert SaveCost(scale=0.01).seconds(10_000) == pytest.approx(cost.seconds(10_000) / 100)
    with pytest.raises(ValueError, match="negative"):
        SaveCost(scale=-1)


def test_accounts_are_the_customers_or_a_configured_count() -> None:
    users = [root_user(), *(make_user(i, f"pw{i:08d}") for i in range(2, 12))]
    counted = MagnusBillingSandbox(users, [KEY])
    assert counted.accounts() == 10  # root has no SIP account
    assert counted.save_cost_seconds() == pytest.approx(0.06 + 0.000444 * 10)
    counted.users[50] = make_user(50, "pw00000050")
    assert counted.accounts() == 11
    fixed = MagnusBillingSandbox(users, [KEY], sip_accounts=10_000, save_cost_scale=0.5)
    assert fixed.save_cost_seconds() == pytest.approx((0.06 + 4.44) / 2)


async def test_sequential_saves_take_their_cost_and_do_not_overlap() -> None:
    magnus = _magnus()
    async with client_for(magnus.app) as client:
        for user_id in (2, 3, 4):
            answer = await call(client, "save", {"id": user_id, "active": 4}, query="")
            assert answer.json()["success"] is True
    assert (magnus.overlapping_saves, magnus.torn_reloads) == (0, 0)
    assert len(magnus.save_seconds) == 3
    assert min(magnus.save_seconds) >= COST * 0.99
    assert magnus.asterisk.save_cost_seconds == [pytest.approx(COST)] * 3
    assert magnus.asterisk.span_seconds >= sum(magnus.save_seconds)


async def test_a_save_is_slow_in_the_middle_of_the_request() -> None:
    """The record is written before the peers file is regenerated, and the answer waits."""
    magnus = _magnus()
    async with client_for(magnus.app) as client:
        saving = asyncio.ensure_future(call(client, "save", {"id": 2, "active": 4}, query=""))
        await asyncio.sleep(COST / 2)
        assert magnus.user(2)["active"] == 4
        assert not saving.done()
        await saving


@pytest.mark.overlapping_saves
async def test_concurrent_saves_are_counted_and_no_faster_than_sequential() -> None:
    magnus = _magnus()
    async with client_for(magnus.app) as client:
        began = time.monotonic()
        answers = await asyncio.gather(
            *(call(client, "save", {"id": i, "active": 4}, query="") for i in (2, 3, 4, 5))
        )
        took = time.monotonic() - began
    assert all(answer.json()["success"] for answer in answers)
    assert magnus.overlapping_saves == 3
    assert magnus.torn_reloads >= 3  # each reload while another save rewrote the file
    assert took >= 4 * COST * 0.99  # the CPU is shared: four saves cost four saves' time
    assert min(magnus.save_seconds) >= 3 * COST  # each one waited for the others


@pytest.mark.overlapping_saves
async def test_two_saves_at_once_each_take_twice_as_long() -> None:
    magnus = _magnus()
    async with client_for(magnus.app) as client:
        await asyncio.gather(
            *(call(client, "save", {"id": i, "active": 4}, query="") for i in (2, 3))
        )
    assert magnus.overlapping_saves == 1
    assert magnus.torn_reloads >= 1
    assert min(magnus.save_seconds) >= 1.8 * COST


@pytest.mark.overlapping_saves
async def test_a_save_that_starts_while_another_loads_is_an_overlap() -> None:
    """Even before the first save truncates the file, the second one is counted: its rewrite
    will interleave with the first's."""
    magnus = _magnus()
    async with client_for(magnus.app) as client:
        first = asyncio.ensure_future(call(client, "save", {"id": 2, "active": 4}, query=""))
        await asyncio.sleep(COST * 0.05)
        await call(client, "save", {"id": 3, "active": 4}, query="")
        await first
    assert magnus.overlapping_saves == 1
    assert magnus.torn_reloads >= 1


@pytest.mark.overlapping_saves
async def test_a_lone_save_after_garbled_rewrites_reloads_a_whole_file() -> None:
    magnus = _magnus()
    async with client_for(magnus.app) as client:
        await asyncio.gather(
            *(call(client, "save", {"id": i, "active": 0}, query="") for i in (2, 3, 4))
        )
        torn = magnus.torn_reloads
        await call(client, "save", {"id": 5, "active": 1}, query="")
    assert torn == 3  # the last reload read the file the two rewrites garbled
    assert magnus.torn_reloads == torn
    assert magnus.overlapping_saves == 2


async def test_a_save_that_writes_nothing_regenerates_nothing() -> None:
    """Refused saves (validation, unknown id) never reach afterSave: no cost, nothing counted."""
    magnus = _magnus()
    async with client_for(magnus.app) as client:
        refused = await asyncio.gather(
            call(client, "save", {"id": 2, "active": "abc"}, query=""),
            call(client, "save", {"id": 999, "active": 4}, query=""),
        )
    assert [answer.json()["success"] for answer in refused] == [False, False]
    assert magnus.save_seconds == []
    assert (magnus.overlapping_saves, magnus.torn_reloads, magnus.saves) == (0, 0, 2)


async def test_a_creation_regenerates_the_peers_too() -> None:
    magnus = _magnus()
    async with client_for(magnus.app) as client:
        created = await call(client, "save", {"createUser": 1, "email": "a@example.com"}, query="")
    assert created.json()["success"] is True
    assert len(magnus.save_seconds) == 1
    assert magnus.accounts() == 6


@pytest.mark.overlapping_saves
async def test_saves_are_inspected_over_http_and_reset_with_the_counters() -> None:
    magnus = _magnus(cost=0.05)
    async with client_for(magnus.app) as client:
        await asyncio.gather(
            *(call(client, "save", {"id": i, "active": 4}, query="") for i in (2, 3))
        )
        seen = (await client.get(INSPECTION_PATH)).json()
        magnus.reset_counters()
        after = (await client.get(INSPECTION_PATH)).json()
    assert INSPECTION_PATH == "/sandbox/magnus/saves"
    assert seen["saves"] == 2
    assert seen["overlapping_saves"] == 1
    assert seen["torn_reloads"] >= 1
    assert len(seen["save_seconds"]) == 2
    assert seen["save_cost_seconds"] == [pytest.approx(0.05)] * 2
    assert seen["span_seconds"] >= 2 * 0.05 * 0.99  # two saves' work on one CPU
    assert after == {
        "saves": 0,
        "overlapping_saves": 0,
        "torn_reloads": 0,
        "save_seconds": [],
        "save_cost_seconds": [],
        "span_seconds": 0.0,
    }
