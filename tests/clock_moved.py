"""Run pytest with the machine's clock moved: years ahead, just before a month ends in São Paulo.

    python tests/clock_moved.py --days 400 [pytest arguments...]

Every process of the run - pytest, the Prefect test server, a Prefect server and its workers
started by a test - sees the moved clock: libfaketime is preloaded into each of them
(`LD_PRELOAD`, inherited by children). The moved "now" is the last day of the month that
contains today + `--days`, at 23:57 in São Paulo, so the run crosses midnight and a month end
there; the processes run in UTC (`TZ=UTC`), where that date is already the next day - the
22:00-23:59 case that moves a customer's charge by a month when the worker's zone is used.

libfaketime comes from the `libfaketime` package (a dev dependency, installed by `make
install`) or Debian's `faketime` package. The moved clock is checked in a child process before
pytest starts, so a library that fails to load fails the run instead of testing the real date.
"""

from __future__ import annotations

import argparse
import calendar
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
DEBIAN_LIBRARY = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")


def moved_now(days: int, today: date) -> datetime:
    """23:57 in São Paulo on the last day of the month of `today + days`, in UTC."""
    ahead = today + timedelta(days=days)
    last_day = calendar.monthrange(ahead.year, ahead.month)[1]
    local = datetime(ahead.year, ahead.month, last_day, 23, 57, tzinfo=SAO_PAULO)
    return local.astimezone(UTC)


def faketime_library() -> Path:
    try:
        import libfaketime  # type: ignore[import-untyped]  # libfaketime ships no types
    except ImportError:
        libfaketime = None
    if libfaketime is not None:
        vendored = Path(libfaketime.__file__).parent / "vendor/libfaketime/src/libfaketime.so.1"
        if vendored.exists():
            return vendored
    if DEBIAN_LIBRARY.exists():
        return DEBIAN_LIBRARY
    sys.exit(
        "libfaketime not found: run `make install` (dev dependency `libfaketime`) "
        "or install Debian's `faketime` package"
    )


def moved_environment(library: Path, at: datetime) -> dict[str, str]:
    environment = dict(os.environ)
    preload = [str(library), *filter(None, [environment.get("LD_PRELOAD")])]
    environment |= {
        "LD_PRELOAD": ":".join(preload),
        # "@" starts the clock at this time and lets it run on.
        "FAKETIME": "@" + at.strftime("%Y-%m-%d %H:%M:%S"),
        "FAKETIME_DONT_RESET": "1",  # children continue the parent's moved clock
        "DONT_FAKE_MONOTONIC": "1",  # timeouts and sleeps keep real durations
        "TZ": "UTC",
    }
    return environment


def check_clock_moved(environment: dict[str, str], at: datetime) -> None:
    seen = float(
        subprocess.run(
            [sys.executable, "-c", "import time; print(time.time())"],
            env=environment,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    if abs(seen - at.timestamp()) > 120:
        sys.exit(
            f"libfaketime did not move the clock (child saw {seen:.0f}, wanted "
            f"{at.timestamp():.0f}); refusing to run the tests on the real date"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, required=True, help="how far ahead to move")
    options, pytest_arguments = parser.parse_known_args()
    at = moved_now(options.days, datetime.now(SAO_PAULO).date())
    environment = moved_environment(faketime_library(), at)
    check_clock_moved(environment, at)
    print(
        f"clock moved to {at:%Y-%m-%d %H:%M} UTC "
        f"({at.astimezone(SAO_PAULO):%Y-%m-%d %H:%M} in São Paulo), "
        f"{(at.date() - date.today()).days} days ahead",
        flush=True,
    )
    started = time.monotonic()
    command = [sys.executable, "-m", "pytest", *pytest_arguments]
    result = subprocess.run(command, env=environment, check=False)
    print(f"moved-clock run took {time.monotonic() - started:.0f} s", flush=True)
    sys.exit(result.returncode)


if __name__ == "__main__":
    main()
