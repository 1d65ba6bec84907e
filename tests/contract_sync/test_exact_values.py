"""Numbers are taken exactly or not at all: contract ids beyond float precision, odd `active`s.

A contract id is free text in Magnus (`dist`); an `active` may come back as anything a proxy or a
broken answer puts there. An id must never be rounded into another customer's contract, and one
unusable value must cost one customer a Skip, never the whole run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from blocks.errors import Problem
from blocks.ixc.models import IxcContract, IxcStatusMapping
from blocks.magnusbilling.models import MagnusUser
from contract_sync.decide import Action
from contract_sync.ledger import NotificationLedger, WriteState
from contract_sync.plan import MAX_CONTRACT_ID, build_plan, contract_ids, planned_changes
from contract_sync.recheck import Verdict, recheck

TWO_TO_53 = 2**53  # 9007199254740992: the last integer a float64 holds next to its neighbours


def user(user_id: int, name: str, dist: str | None, active: Any = 1) -> MagnusUser:
    return MagnusUser.from_row(
        {"id": user_id, "username": name, "active": active, "dist": dist, "firstname": name},
        "dist",
    )


def contract(contract_id: int, status: str, internet: str) -> IxcContract:
    return IxcContract(id=contract_id, customer_id=1, status=status, status_internet=internet)


def plan_of(users: list[MagnusUser], contracts: list[IxcContract]) -> pd.DataFrame:
    by_id = {c.id: c for c in contracts}
    return build_plan(users, by_id, {}, IxcStatusMapping(), 4).set_index("username")


ALICE, BOB = TWO_TO_53 + 1, TWO_TO_53
IXC = [contract(ALICE, "A", "A"), contract(BOB, "A", "CA")]  # alice active, bob blocked (CA)


def alice_bob_carol() -> list[MagnusUser]:
    return [user(2, "alice", str(ALICE)), user(3, "bob", str(BOB)), user(4, "carol", "")]


def test_contract_ids_beyond_float_precision_are_never_joined_to_a_neighbour():
    """The review's case: carol's empty `dist` used to turn the column into float64, which
    rounded alice's 9007199254740993 to bob's 9007199254740992 and blocked alice."""
    plan = plan_of(alice_bob_carol(), IXC)
    assert plan.loc["alice", "action"] == Action.NO_CHANGE, plan.loc["alice", "reason"]
    assert plan.loc["alice", "contract_id"] == ALICE
    assert plan.loc["bob", "action"] == Action.BLOCK
    assert plan.loc["carol", "action"] == Action.NOT_MANAGED
    assert not plan["duplicate_contract"].any()
    assert contract_ids(alice_bob_carol()) == [BOB, ALICE]


def test_an_exact_id_without_a_contract_is_not_found_rather_than_matched_to_a_neighbour():
    plan = plan_of(alice_bob_carol(), [contract(BOB, "A", "CA")])
    assert plan.loc["alice", "action"] == Action.SKIP
    assert plan.loc["alice", "reason"] == f"contrato {ALICE} não encontrado no IXC"


def test_failed_reads_are_matched_exactly_too():
    users = alice_bob_carol()
    failed = {ALICE: Problem("ixc_error", {"why": "ixc: HTTP 503"})}
    plan = build_plan(users, {BOB: IXC[1]}, failed, IxcStatusMapping(), 4).set_index("username")
    assert plan.loc["alice", "reason"] == "leitura do IXC falhou: ixc: HTTP 503"
    assert plan.loc["bob", "action"] == Action.BLOCK


def test_the_largest_exact_id_is_matched_and_one_beyond_is_a_skip_that_says_why():
    largest, beyond = str(MAX_CONTRACT_ID), str(MAX_CONTRACT_ID + 1)
    users = [user(2, "edge", largest), user(3, "over", beyond), user(4, "huge", "9" * 40)]
    plan = plan_of(users, [contract(MAX_CONTRACT_ID, "A", "CA")])
    assert plan.loc["edge", "action"] == Action.BLOCK
    for name, ref in (("over", beyond), ("huge", "9" * 40)):
        assert plan.loc[name, "action"] == Action.SKIP
        assert plan.loc[name, "reason"] == (
            f"o id de contrato {ref!r} é maior que {MAX_CONTRACT_ID}, o maior id que esta "
            "sincronização compara exatamente"
        )
    assert contract_ids(users) == [MAX_CONTRACT_ID]


@pytest.mark.parametrize("ref", ["١٢", "１２", "1 2", "+12", "0x1f"])
def test_only_ascii_digits_are_a_contract_id(ref: str):
    plan = plan_of([user(2, "odd", ref)], [contract(12, "A", "CA")])
    assert plan.loc["odd", "action"] == Action.SKIP
    assert plan.loc["odd", "reason"] == f"o id de contrato {ref!r} não é um id de contrato válido"


def test_the_planned_change_the_recheck_and_the_ledger_keep_the_exact_id(tmp_path: Path):
    users = [user(2, "alice", str(ALICE)), user(3, "bob", str(BOB), active=3)]
    blocked_alice = [contract(ALICE, "A", "CA"), contract(BOB, "A", "A")]
    changes = planned_changes(
        build_plan(users, {c.id: c for c in blocked_alice}, {}, IxcStatusMapping(), 4)
    )
    by_name = {change.username: change for change in changes}
    assert (by_name["alice"].contract_id, by_name["alice"].action) == (ALICE, Action.BLOCK)
    assert (by_name["bob"].contract_id, by_name["bob"].action) == (BOB, Action.UNBLOCK)

    alice = by_name["alice"]
    assert recheck(alice, users[0], 4, "pt-BR").verdict is Verdict.WRITE
    moved = user(2, "alice", str(BOB))  # an operator typed bob's contract meanwhile
    assert recheck(alice, moved, 4, "pt-BR").verdict is Verdict.STALE

    ledger = NotificationLedger(tmp_path / "ledger.sqlite3", scope="test")
    ledger.writing("run", alice)
    ledger.mark([("run", 2)], WriteState.APPLIED)
    [entry] = ledger.unannounced()
    assert entry.change.contract_id == ALICE
    assert entry.change == alice
    ledger.close()


ODD_ACTIVE: list[tuple[Any, int | None]] = [
    ("1.5", None),
    (" 1", None),
    ("1 ", None),
    ("+1", None),
    ("-0", None),
    ("01", None),
    ("١", None),
    ("", None),
    ("99999999999999999999", None),
    (1.0, None),
    (True, None),
    (2**63, None),
    (-(2**63) - 1, None),
    ("4", 4),
    ("0", 0),
    ("-1", -1),
    (2, 2),
]


@pytest.mark.parametrize(("raw", "parsed"), ODD_ACTIVE, ids=repr)
def test_only_a_plain_integer_is_an_active(raw: Any, parsed: int | None):
    parsed_user = user(2, "x", "10", active=raw)
    assert parsed_user.active == parsed
    if parsed is None:
        assert parsed_user.active_text == str(raw)[:40]


def test_an_active_beyond_int64_is_a_skip_for_that_customer_not_an_overflow_for_all():
    users = [
        user(2, "huge", "10", active="99999999999999999999"),
        user(3, "json-huge", "11", active=2**64 - 1),
        user(4, "fine", "12", active=1),
    ]
    contracts = [contract(10, "A", "CA"), contract(11, "A", "CA"), contract(12, "A", "CA")]
    plan = plan_of(users, contracts)
    assert plan.loc["huge", "action"] == Action.SKIP
    assert plan.loc["huge", "reason"] == (
        "status do Magnus '99999999999999999999' não está entre 0 e 4"
    )
    assert plan.loc["json-huge", "reason"] == f"status do Magnus '{2**64 - 1}' não está entre 0 e 4"
    assert plan.loc["fine", "action"] == Action.BLOCK


def test_a_magnus_user_cannot_hold_numbers_the_plan_cannot():
    with pytest.raises(ValueError, match="less than or equal"):
        MagnusUser(id=2, username="x", active=2**63, contract_ref="1", name="x", document="")


@pytest.mark.parametrize("raw_id", ["١٢", "²", "12.0", "0"])
def test_an_ixc_record_id_must_be_plain_ascii_digits(raw_id: str):
    with pytest.raises(ValueError, match="numeric id"):
        IxcContract.from_record({"id": raw_id, "status": "A", "status_internet": "A"})
