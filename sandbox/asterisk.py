"""What a MagnusBilling save costs, and what saves that overlap do to Asterisk's SIP peers.

On a real MagnusBilling 7.8.5.3 every save of a customer runs `AsteriskAccess::generateSipPeers()`:
it loads every SIP account (one more query per account), truncates
`/etc/asterisk/sip_magnus_user.conf`, writes it again peer by peer, and asks Asterisk for
`sip reload`. So a save costs time in proportion to the SIP accounts, and the server is CPU-bound:
saves in flight share it (8 at once are no faster than one after another). While a save rewrites
the file the file is short; a reload that reads it then loads a partial peer list, and the peers
missing from it drop their registration (their phones stop) until the next reload. Two rewrites
at once leave the file garbled (a duplicated peer section was seen) until one runs alone.

`AsteriskPeers` reproduces that timing and counts what went wrong; it holds no peer list (the
count of accounts is all the cost needs, and what a torn reload would load is not observable
through the API).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from dataclasses import dataclass
from typing import Any

# Sequential saves of `active` on the real server (2 cores): median 0.20 s with 315 SIP
# accounts, 2.42 s with 5,315 - linear, about 0.444 ms per account on a base of 0.06 s.
SAVE_BASE_SECONDS = 0.06
SAVE_PER_ACCOUNT_SECONDS = 0.000444
# The share of a save spent loading the accounts before the peers file is truncated; for the rest
# the file is being rewritten (sampled every 5 ms on the real server: short ~80% of the time).
LOADING_SHARE = 0.2


@dataclass(frozen=True)
class SaveCost:
    """How long one save takes alone: (base + per account x accounts) x scale.

    `scale` < 1 runs the same model faster (tests, the demo, a scaled benchmark); the overlap and
    torn-reload detection do not depend on it.
    """

    base_seconds: float = SAVE_BASE_SECONDS
    per_account_seconds: float = SAVE_PER_ACCOUNT_SECONDS
    scale: float = 1.0

    def __post_init__(self) -> None:
        if min(self.base_seconds, self.per_account_seconds, self.scale) < 0:
            raise ValueError("a save's cost and its scale cannot be negative")

    def seconds(self, accounts: int) -> float:
        return (self.base_seconds + self.per_account_seconds * accounts) * self.scale


class AsteriskPeers:
    """The server's CPU, the peers file and Asterisk's reloads, as the saves see them.

    Counters (read them at any time, from any thread): `overlapping_saves` (saves that started
    while another save was in flight), `torn_reloads` (reloads that read a file being rewritten
    or left garbled by two rewrites at once), `save_seconds` (each save's duration, from its
    write to its reload), `save_cost_seconds` (what each would have taken alone: the sum is
    the server's own floor for a run of saves) and `span_seconds` (from the first save's start
    to the last one's end: how long the saves kept the server busy, gaps included).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.overlapping_saves = 0
        self.torn_reloads = 0
        self.save_seconds: list[float] = []
        self.save_cost_seconds: list[float] = []
        self._first_began: float | None = None
        self._last_ended = 0.0
        self._in_flight = 0
        self._rewriting = 0
        self._garbled = False
        self._sharing_changed: asyncio.Event | None = None

    async def regenerate(self, cost_seconds: float) -> None:
        """One save's afterSave: load the accounts, rewrite the file, reload Asterisk."""
        began = time.monotonic()
        self._arrive()
        try:
            await self._compute(cost_seconds * LOADING_SHARE)
            self._start_rewrite()
            try:
                await self._compute(cost_seconds * (1 - LOADING_SHARE))
            finally:
                with self._lock:
                    self._rewriting -= 1
            self._reload()
        finally:
            self._leave()
            ended = time.monotonic()
            with self._lock:
                self.save_seconds.append(ended - began)
                self.save_cost_seconds.append(cost_seconds)
                first = self._first_began
                self._first_began = began if first is None else min(first, began)
                self._last_ended = max(self._last_ended, ended)

    @property
    def span_seconds(self) -> float:
        """From the first recorded save's start to the last one's end (0 before any save)."""
        with self._lock:
            return self._span()

    def _span(self) -> float:
        first = self._first_began
        return 0.0 if first is None else self._last_ended - first

    def summary(self) -> dict[str, Any]:
        """The counters as JSON-ready values."""
        with self._lock:
            return {
                "overlapping_saves": self.overlapping_saves,
                "torn_reloads": self.torn_reloads,
                "save_seconds": list(self.save_seconds),
                "save_cost_seconds": list(self.save_cost_seconds),
                "span_seconds": self._span(),
            }

    def reset(self) -> None:
        """Zero the counters (saves in flight keep running)."""
        with self._lock:
            self.overlapping_saves = 0
            self.torn_reloads = 0
            self.save_seconds = []
            self.save_cost_seconds = []
            self._first_began = None
            self._last_ended = 0.0

    def _arrive(self) -> None:
        with self._lock:
            if self._in_flight:
                self.overlapping_saves += 1
            self._in_flight += 1
        self._share_again()

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1
        self._share_again()
        if not self._in_flight:
            self._sharing_changed = None  # the next save may come from another event loop

    def _start_rewrite(self) -> None:
        """`fopen(..., "w")`: truncate; a second writer interleaves with the first."""
        with self._lock:
            self._garbled = self._rewriting > 0
            self._rewriting += 1

    def _reload(self) -> None:
        with self._lock:
            if self._rewriting or self._garbled:
                self.torn_reloads += 1

    def _share_again(self) -> None:
        """Wake the saves in flight: the CPU is now shared by a different number of them."""
        if self._sharing_changed is not None:
            self._sharing_changed.set()
        self._sharing_changed = asyncio.Event()

    async def _compute(self, seconds: float) -> None:
        """Spend `seconds` of the server's whole CPU, shared equally by the saves in flight."""
        loop = asyncio.get_running_loop()
        left = seconds
        while left > 1e-6:
            sharing, changed = self._in_flight, self._sharing_changed
            assert changed is not None  # set by _arrive
            began = loop.time()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), left * sharing)
            left -= (loop.time() - began) / sharing
