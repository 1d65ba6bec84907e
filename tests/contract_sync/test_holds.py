"""Holds, as plain functions and as stored: what a hold does to the decision table, when it
holds, and the store's rules (one open hold per username, a malformed row is an error naming
it, never "no holds"), on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from sqlalchemy import insert

from blocks.ixc.models import IxcContract, IxcStatusMapping
from blocks.magnusbilling.models import MagnusUser
from clock import DEFAULT_TIMEZONE, ManualTime, frozen
from contract_sync.decide import Action
from contract_sync.guard import GuardLimits, assess
from contract_sync.holds import Hold, HoldsUnreadable, apply_holds, expiry_from_text
from contract_sync.plan import build_plan, planned_changes
from contract_sync.records.store import HoldExists, Records, holds
from contract_sync.report import RunReport

pytest_plugins = ["records_helpers"]  # the records databases (fixtures)
ZONE = ZoneInfo(DEFAULT_TIMEZONE)
# A fixed instant for the tests that freeze the clock: the records keep UTC, show São Paulo.
NOW = datetime(2026, 12, 5, 13, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock() -> Iterator[ManualTime]:
    with frozen(NOW) as manual:
        yield manual


def user(uid: int, active: int, dist: str | None) -> MagnusUser:
    return MagnusUser(
        id=uid, username=f"u{uid}", active=active, contract_ref=dist, name=f"Cliente {uid}",
        document="",
    )  # fmt: skip


def plan() -> pd.DataFrame:
    """u1 would be blocked, u2 unblocked, u3 is fine, u4 is not managed, u5 is a Skip."""
    users = [user(1, 1, "11"), user(2, 4, "12"), user(3, 1, "13"), user(4, 1, ""), user(5, 1, "99")]
    contracts = {
        11: IxcContract(id=11, customer_id=1, status="A", status_internet="CA"),
        12: IxcContract(id=12, customer_id=2, status="A", status_internet="A"),
        13: IxcContract(id=13, customer_id=3, status="A", status_internet="A"),
    }
    return build_plan(users, contracts, {}, IxcStatusMapping(), block_status=4)


def hold(username: str, expires_at: datetime | None = None, **extra: object) -> Hold:
    return Hold(
        id=1, username=username, reason="dívida negociada", created_by="maria",
        created_at=NOW - timedelta(days=1), expires_at=expires_at, **extra,
    )  # fmt: skip


def by_user(frame: pd.DataFrame) -> dict[str, dict]:
    return {row["username"]: row for row in frame.to_dict("records")}


def test_a_held_customer_is_held_with_the_reason_and_what_the_sync_would_have_done():
    decided, expired = apply_holds(plan(), [hold("u1"), hold("u3"), hold("u4")], NOW, "pt-BR", ZONE)
    rows = by_user(decided)
    assert rows["u1"]["action"] == Action.HELD
    assert rows["u1"]["would_action"] == Action.BLOCK
    assert pd.isna(rows["u1"]["target_active"])
    assert rows["u1"]["reason"].startswith("retido: dívida negociada (por maria em 04/12/2026")
    assert "sem prazo" in rows["u1"]["reason"]
    unheld = by_user(plan())["u1"]["reason"]  # the plan's own words (plan.py's language)
    assert f"sem a retenção: Bloqueio - {unheld}" in rows["u1"]["reason"]
    assert rows["u3"]["action"] == Action.HELD and rows["u3"]["would_action"] == Action.NO_CHANGE
    assert rows["u4"]["action"] == Action.NOT_MANAGED, "a hold on an unmanaged customer is moot"
    assert rows["u2"]["action"] == Action.UNBLOCK and rows["u2"]["would_action"] is None
    assert expired == []


def test_held_customers_are_no_changes_for_the_writes_the_guard_and_the_counts():
    decided, _ = apply_holds(plan(), [hold("u1"), hold("u2")], NOW, "en", ZONE)
    assert planned_changes(decided) == []
    verdict = assess(decided, GuardLimits(max_share=0.0, max_count=0))
    assert verdict.harmful == 0 and not verdict.needs_approval
    report = RunReport(plan=decided, dry_run=False, language="en")
    counts = report.action_counts()
    assert counts["Block"] == 0 and counts["Unblock"] == 0 and counts["Held"] == 2
    assert report.headline().startswith("5 customers: 0 block(s), 0 unblock(s)")
    assert report.headline().endswith("; 2 held")
    assert "## Held (the sync does not change them)" in report.markdown()
    assert report.hold_lines() == [
        "Held: Cliente 1 (u1), would be Block",
        "Held: Cliente 2 (u2), would be Unblock",
    ]


def test_a_hold_holds_until_its_expiry_then_the_report_says_it_expired():
    until = NOW + timedelta(hours=1)
    held, expired = apply_holds(plan(), [hold("u1", until)], NOW, "pt-BR", ZONE)
    assert by_user(held)["u1"]["action"] == Action.HELD and expired == []
    later, expired = apply_holds(plan(), [hold("u1", until)], until, "pt-BR", ZONE)
    assert by_user(later)["u1"]["action"] == Action.BLOCK, "expired at its very instant"
    assert [e.hold.username for e in expired] == ["u1"]
    assert expired[0].note.startswith("a retenção de u1 expirou: dívida negociada")
    assert "a sincronização volta a decidir" in expired[0].note
    report = RunReport(plan=later, dry_run=False, expired_holds=expired)
    assert "## Retenções expiradas" in report.markdown()
    assert report.hold_lines() == [expired[0].note]


def test_an_ended_hold_or_one_for_someone_else_does_nothing_and_is_not_reported():
    ended = hold("u1", ended_at=NOW - timedelta(hours=1), ended_by="ana")
    decided, expired = apply_holds(plan(), [ended, hold("nobody")], NOW, "pt-BR", ZONE)
    assert by_user(decided)["u1"]["action"] == Action.BLOCK
    assert expired == []


@pytest.mark.parametrize(
    ("text", "local"),
    [
        ("31/12/2026", datetime(2027, 1, 1, 0, 0)),
        ("2026-12-31", datetime(2027, 1, 1, 0, 0)),
        ("31/12/2026 18:30", datetime(2026, 12, 31, 18, 30)),
        ("2026-12-31 18:30", datetime(2026, 12, 31, 18, 30)),
        (" 5/1/2027 ", datetime(2027, 1, 6, 0, 0)),
    ],
)
def test_an_expiry_is_read_in_the_provider_zone(text: str, local: datetime):
    assert expiry_from_text(text, ZONE) == local.replace(tzinfo=ZONE)


@pytest.mark.parametrize("text", ["31/13/2026", "amanhã", "", "2026-02-30"])
def test_an_expiry_that_is_not_a_date_is_refused(text: str):
    with pytest.raises(ValueError, match="is not a date"):
        expiry_from_text(text, ZONE)


def test_a_day_expiry_reads_as_through_that_day():
    day = hold("u1", expiry_from_text("31/12/2026", ZONE))
    assert day.until("pt-BR", ZONE) == "até o fim de 31/12/2026"
    assert day.until("en", ZONE) == "through 2026-12-31"
    minute = hold("u1", expiry_from_text("31/12/2026 18:30", ZONE))
    assert minute.until("pt-BR", ZONE) == "até 31/12/2026 18:30 (-03)"


def test_holds_are_added_listed_and_ended_with_who_and_when(records: Records, clock: ManualTime):
    added = records.add_hold(" 100007 ", " parceiro ", "maria", NOW + timedelta(days=30))
    assert (added.username, added.reason, added.created_by) == ("100007", "parceiro", "maria")
    assert added.created_at == NOW
    assert records.active_hold("100007") == added
    with pytest.raises(HoldExists) as exists:
        records.add_hold("100007", "outro motivo", "joão")
    assert exists.value.hold == added
    clock.advance(hours=2)
    assert records.end_hold("100007", "ana", "acordo cumprido") == 1
    assert records.active_hold("100007") is None
    assert records.holds() == []
    (ended,) = records.holds(include_ended=True)
    assert (ended.ended_by, ended.ended_note) == ("ana", "acordo cumprido")
    assert ended.ended_at == NOW + timedelta(hours=2)
    assert records.end_hold("100007", "ana", "de novo") == 0


def test_an_expired_open_hold_is_replaced_by_a_new_one(records: Records, clock: ManualTime):
    records.add_hold("100007", "até amanhã", "maria", NOW + timedelta(days=1))
    clock.advance(days=2)
    assert records.active_hold("100007") is None
    renewed = records.add_hold("100007", "mais um mês", "maria", NOW + timedelta(days=32))
    assert records.active_hold("100007") == renewed
    assert [h.reason for h in records.holds()] == ["mais um mês"]
    assert [h.ended_note for h in records.holds_of("100007")] == ["", "replaced by a new hold"]


def test_a_malformed_hold_is_an_error_naming_it_and_can_still_be_removed(records: Records):
    records.add_hold("100001", "ok", "maria")
    with records.engine.begin() as db:
        db.execute(
            insert(holds).values(
                username="100002",
                reason="digitado à mão",
                created_by="joão",
                created_at="2026-12-01",  # no time zone: which instant would that be?
                expires_at="31/12/2026",
                ended_note="",
            )
        )
    with pytest.raises(HoldsUnreadable) as unreadable:
        records.holds()
    message = str(unreadable.value)
    assert message.startswith("a lista de retenções não pôde ser lida; nada foi alterado")
    assert "retenção 2 (usuário '100002'): campo created_at com valor '2026-12-01'" in message
    assert "campo expires_at com valor '31/12/2026' inválido" in message
    english = str(unreadable.value.in_language("en"))
    assert english.startswith("the holds list could not be read; nothing was changed")
    with pytest.raises(HoldsUnreadable):
        records.active_hold("100002")
    assert records.end_hold("100002", "ana", "corrigir") == 1
    assert [h.username for h in records.holds()] == ["100001"]


@pytest.mark.parametrize(
    "broken",
    [{"username": "  "}, {"reason": ""}, {"created_by": ""}, {"expires_at": "amanhã"}],
)
def test_every_field_of_a_hold_is_checked(records: Records, broken: dict[str, str]):
    row = {
        "username": "100003", "reason": "x", "created_by": "y",
        "created_at": "2026-12-01T10:00:00+00:00", "ended_note": "", **broken,
    }  # fmt: skip
    with records.engine.begin() as db:
        db.execute(insert(holds).values(**row))
    with pytest.raises(HoldsUnreadable, match=f"campo {next(iter(broken))}"):
        records.holds()
