"""Business dates are São Paulo's, whatever zone the worker runs in.

At 22:30 in São Paulo on 9 March it is already 10 March in UTC (the Docker image's zone). An
A_EDP to billing day 10 must move the next charge to 10 March (São Paulo's next 10th), not to
10 April, and every time the flow writes to the ERP must be São Paulo's wall time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from events_helpers import log_of, row, rows, run_pending
from sqlalchemy.engine import Engine

from clock import DEFAULT_TIMEZONE, ManualTime
from sandbox.gym_demo import GymErp
from sandbox.mundipagg import MundipaggSandbox
from subscription_events.handlers import Services

SAO_PAULO = ZoneInfo(DEFAULT_TIMEZONE)


@pytest.fixture(params=["UTC", "Asia/Tokyo"])
def worker_zone(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The machine's own zone, as a Docker image without TZ (UTC) or a far-off host has it."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("local_time", ["22:00", "22:30", "23:59"])
async def test_late_evening_in_sao_paulo_uses_sao_paulo_date(
    local_time: str,
    worker_zone: str,
    frozen_clock: ManualTime,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    hour, minute = map(int, local_time.split(":"))
    evening = datetime(2027, 3, 9, hour, minute, tzinfo=SAO_PAULO)
    frozen_clock.at = evening
    assert datetime.now().date() != evening.date()  # the worker's zone disagrees with São Paulo
    gym.member(1, "Ana Souza")
    created = gym.event("A_N", 100)
    moved = gym.event("A_EDP", 100)
    imported = gym.event("F_AA", 100)

    results = await run_pending(services)

    assert {results[guid].status for guid in (created, moved, imported)} == {"P"}
    subscription = gateway.subscriptions[row(engine, "rec_assinatura", id=100)["id_api"]]
    assert subscription["next_billing_at"] == "2027-03-10T03:00:00Z"  # 00:00 in São Paulo
    assert "próxima cobrança em 10/03/2027" in results[moved].description
    local_wall_time = evening.replace(tzinfo=None)
    for guid in (created, moved, imported):
        (log,) = log_of(engine, guid)
        assert log["dt_evento"] == local_wall_time
        assert row(engine, "util_eventos_mundipagg", id_guid=guid)["dt_processado"] == (
            local_wall_time
        )
    (invoice,) = rows(engine, "rec_fatura", id_assinatura=100)
    # The gateway stamped it 2027-03-10T01:xxZ: that is still 9 March in São Paulo.
    assert invoice["dt_criacao"] == evening.date()
    billing_day = datetime.fromisoformat(gateway.invoices[invoice["id_api"]]["billing_at"])
    assert invoice["dt_cobranca"] == billing_day.astimezone(SAO_PAULO).replace(tzinfo=None)


async def test_the_date_turns_at_midnight_in_sao_paulo_not_in_utc(
    worker_zone: str,
    frozen_clock: ManualTime,
    engine: Engine,
    gym: GymErp,
    gateway: MundipaggSandbox,
    services: Services,
) -> None:
    """Billing day 10 asked for just before and just after São Paulo's midnight on the 10th."""
    frozen_clock.at = datetime(2027, 3, 9, 23, 59, tzinfo=SAO_PAULO)
    gym.member(1, "Ana Souza")
    gym.event("A_N", 100)
    before_midnight = gym.event("A_EDP", 100)
    await run_pending(services)
    frozen_clock.advance(minutes=2)  # 00:01 on 10 March in São Paulo: the 10th is today now
    after_midnight = gym.event("A_EDP", 100)

    results = await run_pending(services)

    assert "próxima cobrança em 10/03/2027" in log_of(engine, before_midnight)[0]["descricao"]
    assert "próxima cobrança em 10/04/2027" in results[after_midnight].description
    stamped = log_of(engine, after_midnight)[0]["dt_evento"]
    assert stamped == datetime(2027, 3, 10, 0, 1) and stamped - timedelta(minutes=2) == (
        datetime(2027, 3, 9, 23, 59)
    )
