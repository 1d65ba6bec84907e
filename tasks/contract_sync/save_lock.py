"""One MagnusBilling save in flight per Magnus server, whoever writes.

Every `user/save` of a customer makes MagnusBilling rewrite its whole SIP peers file (truncated,
then written progressively) and reload Asterisk. Two saves at once are no faster - the server
is CPU-bound per save - and one save's reload can load the other's half-written file, dropping
every peer not yet written until the next reload: phones unregister. So saves never overlap,
not within a run and not across runs: the hourly run, an ad-hoc run, the restore lane, `make
serve` and the Docker deployment all write through `apply-change`, which holds this lock (a
Prefect global concurrency limit `magnus-save-<host>`, limit 1, created if missing; the same
mechanism as the run lock, `server_lock`) around each re-read and save, so no other writer's
save comes between the compare and the set.

The lock is keyed by the Magnus block's `base_url`: every block for one server must use the
same URL (an alias or IP address would make a second lock).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

from prefect.client.schemas.objects import ConcurrencyLeaseHolder

from tasks.contract_sync.run_lock import magnus_server
from tasks.contract_sync.server_lock import LockBusy, held_alone

# Another writer holds it for one save at a time (seconds each), so a long wait means a stuck
# slot (see SaveTurnNeverCame), not a queue.
WAIT_SECONDS = 600.0
POLL_SECONDS = 0.1  # short: the lock is free only between another writer's saves


class SaveTurnNeverCame(Exception):
    """The save lock stayed taken for `WAIT_SECONDS`: nothing was saved."""

    def __init__(self, name: str, waited: float) -> None:
        super().__init__(f"{name}: not free for {waited:.0f} s")
        self.name = name
        self.waited = waited


def save_lock_name(magnus_url: str) -> str:
    """`magnus-save-voip.example.com-443`: one per Magnus server."""
    return f"magnus-save-{magnus_server(magnus_url)}"


@asynccontextmanager
async def one_save_at_a_time(
    magnus_url: str, task_run_id: UUID, *, pause_after: float = 0.0, language: str
) -> AsyncIterator[None]:
    """Hold the save lock of `magnus_url` for one save, then `pause_after` seconds more (the
    block's breathing room for Asterisk, kept by every writer since the lock is still held)."""
    name = save_lock_name(magnus_url)
    try:
        async with held_alone(
            name,
            ConcurrencyLeaseHolder(type="task_run", id=task_run_id),
            wait_seconds=WAIT_SECONDS,
            poll_seconds=POLL_SECONDS,
            language=language,
        ):
            yield
            if pause_after > 0:
                await asyncio.sleep(pause_after)
    except LockBusy as busy:
        raise SaveTurnNeverCame(busy.name, busy.waited) from None
