"""The one clock: the provider's zone, a source tests can freeze, no one reading the machine's."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from clock import DEFAULT_TIMEZONE, Clock, frozen
from sandbox.discord import DISCORD_EPOCH_MS, DiscordSandbox
from sandbox.mundipagg import MundipaggSandbox

ROOT = Path(__file__).resolve().parents[1]
PRODUCT_PACKAGES = [
    "blocks",
    "flows",
    "tasks",
    "contract_sync",
    "subscription_events",
    "sandbox",
    "deployments",
]
# Reading the machine's clock or zone directly: the calendar bugs this project had.
MACHINE_CLOCK = re.compile(
    r"\bdate\.today\(|\bdatetime\.(now|today|utcnow)\(|\btime\.(time|localtime|ctime)\(|"
    r"\bdatetime\.fromtimestamp\([^,)]*\)"
)


def test_now_and_today_are_in_the_provider_zone() -> None:
    with frozen(datetime(2027, 3, 10, 1, 30, tzinfo=UTC)):
        clock = Clock.in_zone(DEFAULT_TIMEZONE)
        assert clock.now() == datetime(2027, 3, 9, 22, 30, tzinfo=ZoneInfo(DEFAULT_TIMEZONE))
        assert clock.today() == date(2027, 3, 9)
        assert clock.wall_time() == datetime(2027, 3, 9, 22, 30)
        assert Clock.in_zone("UTC").today() == date(2027, 3, 10)
        assert clock.timestamp() == datetime(2027, 3, 10, 1, 30, tzinfo=UTC).timestamp()


def test_wall_time_of_converts_aware_times_and_keeps_naive_ones() -> None:
    clock = Clock()
    assert clock.wall_time_of(datetime(2027, 1, 1, 2, 0, tzinfo=UTC)) == datetime(2026, 12, 31, 23)
    assert clock.wall_time_of(datetime(2027, 1, 1, 2, 0)) == datetime(2027, 1, 1, 2, 0)
    assert clock.wall_time_of(None) is None


def test_frozen_time_moves_only_when_told_and_is_restored() -> None:
    with frozen(datetime(2030, 1, 31, 23, 59, tzinfo=ZoneInfo(DEFAULT_TIMEZONE))) as manual:
        assert Clock().today() == date(2030, 1, 31)
        manual.advance(minutes=2)
        assert Clock().today() == date(2030, 2, 1)
    assert abs(Clock().timestamp() - datetime.now(UTC).timestamp()) < 5


def test_a_misspelt_time_zone_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'America/Sao Paulo'"):
        Clock.in_zone("America/Sao Paulo")


def test_a_frozen_time_needs_a_zone() -> None:
    with pytest.raises(ValueError, match="zone"), frozen(datetime(2030, 1, 1)):
        pass


async def test_sandboxes_follow_the_frozen_clock() -> None:
    at = datetime(2031, 7, 4, 12, 0, tzinfo=UTC)
    with frozen(at):
        discord = DiscordSandbox()
        first, second = discord.snowflake(), discord.snowflake()
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=discord.app), base_url="http://discord.test"
        ) as client:
            answer = await client.post(
                discord.url("http://discord.test") + "?wait=true", json={"content": "oi"}
            )
        gateway = MundipaggSandbox()
        assert gateway._now() == "2031-07-04T12:00:00Z"
    assert int(second) > int(first)
    assert (int(first) >> 22) + DISCORD_EPOCH_MS == at.timestamp() * 1000
    assert datetime.fromisoformat(answer.json()["timestamp"]) == at


def test_no_product_code_reads_the_machine_clock() -> None:
    """Only `clock` may ask the system for the time; everything else asks a Clock."""
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for package in PRODUCT_PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if MACHINE_CLOCK.search(line)
    ]
    assert offenders == []
