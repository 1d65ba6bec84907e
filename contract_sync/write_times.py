"""How long writing takes: each MagnusBilling save, the whole write phase, the time left.

A real MagnusBilling save rewrites every SIP peer and reloads Asterisk, so it costs time in
proportion to the provider's size (0.2 s at 300 accounts, 2.4 s at 5,300, measured) and saves
go one at a time. A big run then writes for a long while: operators see how far it got and
when it should end, and the summary says what the saves cost.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from contract_sync.texts import say


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (`share` in 0..1) of `values` (not empty)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def time_left(done: int, total: int, elapsed: float) -> float | None:
    """Seconds the remaining changes should take at the pace so far; None before the first."""
    if done <= 0:
        return None
    return elapsed / done * (total - done)


@dataclass
class WriteTimes:
    """The write phase of one run: each save's seconds and the phase's wall time."""

    saves: list[float] = field(default_factory=list)
    wall_seconds: float = 0.0

    def describe(self, language: str) -> str:
        if not self.saves:
            return say(language, "report.write_time_none", wall=_seconds(self.wall_seconds))
        return say(
            language,
            "report.write_times_line",
            saves=len(self.saves),
            wall=_seconds(self.wall_seconds),
            p50=_seconds(percentile(self.saves, 0.5)),
            p95=_seconds(percentile(self.saves, 0.95)),
            max=_seconds(max(self.saves)),
        )


def progress_text(done: int, total: int, elapsed: float, language: str) -> str:
    """`12 de 340 alterações gravadas; faltam cerca de 9 min` for the progress artifact."""
    left = time_left(done, total, elapsed)
    return say(
        language,
        "progress.line",
        done=done,
        total=total,
        left=say(language, "progress.unknown") if left is None else _duration(left, language),
    )


def _seconds(value: float) -> str:
    return f"{value:.2f} s"


def _duration(seconds: float, language: str) -> str:
    if seconds < 90:
        return say(language, "progress.seconds", n=max(1, round(seconds)))
    return say(language, "progress.minutes", n=round(seconds / 60))
