"""One clock for billing-sync: "now" and "today" in the provider's time zone.

Business dates - the next billing day of a gym subscription, the time an event was processed,
an approval deadline - are the provider's, never the worker's. The Docker image runs in UTC while
the providers live in America/Sao_Paulo: at 22:00 there on 9 March it is already 10 March in UTC,
and a billing day computed from the worker's date would move a customer's charge by a month.

Everything that needs the time asks a `Clock`. Every clock reads one process-wide source (the
system time), which a test replaces with `frozen(...)` to give the flows and the in-process
emulators one consistent, chosen "now".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "America/Sao_Paulo"

TimeSource = Callable[[], datetime]


def _system_time() -> datetime:
    return datetime.now(UTC)


_source: TimeSource = _system_time


def zone_named(name: str) -> ZoneInfo:
    """The IANA zone `name`; a clear error for a misspelt one (before anything is done)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}: use an IANA name such as {DEFAULT_TIMEZONE!r}"
        ) from None


@dataclass(frozen=True)
class Clock:
    """The current time in one zone, from the process-wide source (or `source`, if given)."""

    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TIMEZONE))
    source: TimeSource | None = None

    @classmethod
    def in_zone(cls, name: str = DEFAULT_TIMEZONE) -> Clock:
        return cls(zone_named(name))

    def now(self) -> datetime:
        """An aware datetime in this clock's zone."""
        return (self.source or _source)().astimezone(self.zone)

    def today(self) -> date:
        return self.now().date()

    def wall_time(self) -> datetime:
        """Local time without a zone, for database columns that keep the provider's time."""
        return self.now().replace(tzinfo=None)

    def timestamp(self) -> float:
        """Seconds since the epoch (the same in every zone)."""
        return self.now().timestamp()

    def wall_time_of(self, moment: datetime | None) -> datetime | None:
        """`moment` (aware) as local time without a zone; naive values are kept as they are."""
        if moment is None or moment.tzinfo is None:
            return moment
        return moment.astimezone(self.zone).replace(tzinfo=None)


class ManualTime:
    """A time source that stands still until a test moves it."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("give the frozen time a zone, e.g. datetime(..., tzinfo=UTC)")
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> datetime:
        self.at += timedelta(**delta)
        return self.at


@contextmanager
def frozen(at: datetime) -> Iterator[ManualTime]:
    """Every clock of this process reads `at` (move it with `.advance(...)`) inside the block."""
    global _source
    manual = ManualTime(at)
    previous, _source = _source, manual
    try:
        yield manual
    finally:
        _source = previous
