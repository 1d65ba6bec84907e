"""The run lock: a second run finds it taken, whether it looks first or loses the race."""

from __future__ import annotations

from uuid import uuid4

import pytest

from tasks.contract_sync import run_lock
from tasks.contract_sync.run_lock import LockHeld, one_run_at_a_time

pytestmark = pytest.mark.prefect


async def test_a_second_holder_is_refused_and_the_lock_is_free_again_after(
    prefect_harness: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    magnus = f"https://voip-{uuid4().hex[:8]}.example.com"
    async with one_run_at_a_time(magnus, uuid4()):
        with pytest.raises(LockHeld):
            async with one_run_at_a_time(magnus, uuid4()):
                pytest.fail("two holders")

        async def looks_free(name: str) -> bool:
            return False

        # Two runs that both found it free: the one that comes second times out, same answer.
        monkeypatch.setattr(run_lock, "_taken", looks_free)
        monkeypatch.setattr(run_lock, "WAIT_SECONDS", 1)
        with pytest.raises(LockHeld):
            async with one_run_at_a_time(magnus, uuid4()):
                pytest.fail("two holders")
        monkeypatch.undo()
    async with one_run_at_a_time(magnus, uuid4()):
        pass
