"""The decision table of DESIGN.md, exhaustively, through the same code the flow runs.

The expected decisions are a literal table, so this test can disagree with the code. The
reasons are asserted as operators read them (pt-BR, the default); where a test is about the
logic, the plan is made in English.
"""

from __future__ import annotations

import pandas as pd
import pytest

from blocks.errors import Problem
from blocks.ixc.models import IxcContract, IxcStatusMapping
from blocks.magnusbilling.models import MagnusUser
from contract_sync.decide import Action
from contract_sync.plan import build_plan, contract_ids, planned_changes
from contract_sync.reconfirm import reconfirm
from contract_sync.report import RunReport

# The decision table, written out by hand from DESIGN.md and the README ("How it decides"),
# not computed: for each IXC (contract status, status_internet), the action expected for a
# Magnus customer whose `active` is 0, 1, 2, 3, 4 (default block status 4).
#   IXC: status I or D -> inactive; for status A/P/N, internet A -> active and CM/CA/FA/AA/D
#   -> blocked; no internet: A -> active, N -> blocked; anything else (P alone, empty or unknown
#   codes, "ZZ", "X") -> unknown -> Skip.
#   Magnus: 1 active, 0 inactive, 2/3/4 blocked.
# "Anomaly" is NoChange reported as an anomaly (inactive in Magnus, blocked in IXC).
# fmt: off
EXPECTED: dict[tuple[str, str], tuple[str, str, str, str, str]] = {
    ("A", "A"):   ("Enable",   "NoChange", "Unblock",  "Unblock",  "Unblock"),
    ("A", "D"):   ("Anomaly",  "Block",    "NoChange", "NoChange", "NoChange"),
    ("A", "CM"):  ("Anomaly",  "Block",    "NoChange", "NoChange", "NoChange"),
    ("A", "CA"):  ("Anomaly",  "Block",    "NoChange", "NoChange", "NoChange"),
    ("A", "FA"):  ("Anomaly",  "Block",    "NoChange", "NoChange", "NoChange"),
    ("A", "AA"):  ("Anomaly",  "Block",    "NoChange", "NoChange", "NoChange"),
    ("A", ""):    ("Enable",   "NoChange", "Unblock",  "Unblock",  "Unblock"),
    ("A", "ZZ"):  ("Skip",     "Skip",     "Skip",     "Skip",     "Skip"),
    ("P", "A"):   ("Enable",   "NoChange", "Unblock",  "Unblock",  "Unblock"),
    ("P", "D"):   ("Anomaly",  "Block",    "NoChange", "NoChange", "NoChange"),
    ("P", "CM"):  ("Anomaly",  "Block",    "NoChange", "NoChange", "NoChange"),
    ("P", "CA"):  ("Anomaly",  "Block",    "NoChange", "NoChange", "NoChange"),
    ("P", "FA"):  ("Anomaly",  "Block",    "NoChange", "NoChange", "NoChange"),
    ("P", "AA"):  ("Anomaly",  "Block",    "NoChange", "NoChange", "NoChange"),
    ("P", ""):    ("Skip",     "Skip",     "Skip",     "Skip",     "Skip"),
    ("P", "ZZ"):  ("Skip",     "Skip",     "Skip",     "Skip",     "Skip"),
    ("N", "A"):   ("Enable",   "NoChange", "Unblock",  "Unblock",  "Unblock"),
    ("N", "D"):   ("Anomaly",  "Block",    "NoChange", "NoChange", "NoChange"),
    ("N", "CM"):  ("Anomaly",  "Block",    "NoChange", "NoChange", "NoChange"),
    ("N", "CA"):  ("Anomaly",  "Block",    "NoChange", "NoChange", "NoChange"),
    ("N", "FA"):  ("Anomaly",  "Block",    "NoChange", "NoChange", "NoChange"),
    ("N", "AA"):  ("Anomaly",  "Block",    "NoChange", "NoChange", "NoChange"),
    ("N", ""):    ("Anomaly",  "Block",    "NoChange", "NoChange", "NoChange"),
    ("N", "ZZ"):  ("Skip",     "Skip",     "Skip",     "Skip",     "Skip"),
    ("I", "A"):   ("NoChange", "Disable",  "Disable",  "Disable",  "Disable"),
    ("I", "D"):   ("NoChange", "Disable",  "Disable",  "Disable",  "Disable"),
    ("I", "CM"):  ("NoChange", "Disable",  "Disable",  "Disable",  "Disable"),
    ("I", "CA"):  ("NoChange", "Disable",  "Disable",  "Disable",  "Disable"),
    ("I", "FA"):  ("NoChange", "Disable",  "Disable",  "Disable",  "Disable"),
    ("I", "AA"):  ("NoChange", "Disable",  "Disable",  "Disable",  "Disable"),
    ("I", ""):    ("NoChange", "Disable",  "Disable",  "Disable",  "Disable"),
    ("I", "ZZ"):  ("NoChange", "Disable",  "Disable",  "Disable",  "Disable"),
    ("D", "A"):   ("NoChange", "Disable",  "Disable",  "Disable",  "Disable"),
    ("D", "D"):   ("NoChange", "Disable",  "Disable",  "Disable",  "Disable"),
    ("D", "CM"):  ("NoChange", "Disable",  "Disable",  "Disable",  "Disable"),
    ("D", "CA"):  ("NoChange", "Disable",  "Disable",  "Disable",  "Disable"),
    ("D", "FA"):  ("NoChange", "Disable",  "Disable",  "Disable",  "Disable"),
    ("D", "AA"):  ("NoChange", "Disable",  "Disable",  "Disable",  "Disable"),
    ("D", ""):    ("NoChange", "Disable",  "Disable",  "Disable",  "Disable"),
    ("D", "ZZ"):  ("NoChange", "Disable",  "Disable",  "Disable",  "Disable"),
    ("", "A"):    ("Skip",     "Skip",     "Skip",     "Skip",     "Skip"),
    ("", "D"):    ("Skip",     "Skip",     "Skip",     "Skip",     "Skip"),
    ("", "CM"):   ("Skip",     "Skip",     "Skip",     "Skip",     "Skip"),
    ("", "CA"):   ("Skip",     "Skip",     "Skip",     "Skip",     "Skip"),
    ("", "FA"):   ("Skip",     "Skip",     "Skip",     "Skip",     "Skip"),
    ("", "AA"):   ("Skip",     "Skip",     "Skip",     "Skip",     "Skip"),
    ("", ""):     ("Skip",     "Skip",     "Skip",     "Skip",     "Skip"),
    ("", "ZZ"):   ("Skip",     "Skip",     "Skip",     "Skip",     "Skip"),
    ("X", "A"):   ("Skip",     "Skip",     "Skip",     "Skip",     "Skip"),
    ("X", "D"):   ("Skip",     "Skip",     "Skip",     "Skip",     "Skip"),
    ("X", "CM"):  ("Skip",     "Skip",     "Skip",     "Skip",     "Skip"),
    ("X", "CA"):  ("Skip",     "Skip",     "Skip",     "Skip",     "Skip"),
    ("X", "FA"):  ("Skip",     "Skip",     "Skip",     "Skip",     "Skip"),
    ("X", "AA"):  ("Skip",     "Skip",     "Skip",     "Skip",     "Skip"),
    ("X", ""):    ("Skip",     "Skip",     "Skip",     "Skip",     "Skip"),
    ("X", "ZZ"):  ("Skip",     "Skip",     "Skip",     "Skip",     "Skip"),
}
# fmt: on
TARGET = {"Block": 4, "Unblock": 1, "Enable": 1, "Disable": 0}
MAGNUS_ACTIVE = [0, 1, 2, 3, 4]
CASES = [
    (active, status, internet, expected[active])
    for (status, internet), expected in EXPECTED.items()
    for active in MAGNUS_ACTIVE
]


def user(user_id: int, active: int | None, contract_ref: str | None) -> MagnusUser:
    return MagnusUser(
        id=user_id,
        username=f"user{user_id}",
        active=active,
        contract_ref=contract_ref,
        name=f"Cliente {user_id}",
        document="12345678909",
    )


def contract(contract_id: int, status: str, internet: str) -> IxcContract:
    return IxcContract(id=contract_id, customer_id=1, status=status, status_internet=internet)


def plan_for(users, contracts, failed=None, block_status=4, **language: str) -> pd.DataFrame:
    """The plan, in the default language unless `language="en"` is given."""
    return build_plan(
        users,
        {c.id: c for c in contracts},
        failed or {},
        IxcStatusMapping(),
        block_status,
        **language,
    ).set_index("magnus_id")


def every_combination_in(language: str) -> pd.DataFrame:
    users = [user(n, active, str(1000 + n)) for n, (active, _, _, _) in enumerate(CASES, 1)]
    contracts = [
        contract(1000 + n, status, internet) for n, (_, status, internet, _) in enumerate(CASES, 1)
    ]
    return plan_for(users, contracts, language=language)


@pytest.fixture(scope="module")
def every_combination() -> pd.DataFrame:
    return every_combination_in("en")


def test_the_table_covers_every_code_pair_once():
    statuses = {status for status, _ in EXPECTED}
    internets = {internet for _, internet in EXPECTED}
    assert len(EXPECTED) == len(statuses) * len(internets) == 7 * 8


@pytest.mark.parametrize(
    ("number", "case"), list(enumerate(CASES, 1)), ids=lambda v: str(v).replace("'", "")
)
def test_every_magnus_and_ixc_combination_follows_the_table(
    every_combination: pd.DataFrame, number: int, case: tuple[int, str, str, str]
):
    _, _, _, expected = case
    row = every_combination.loc[number]
    action = "NoChange" if expected == "Anomaly" else expected
    assert row["action"] == action
    target = None if pd.isna(row["target_active"]) else int(row["target_active"])
    assert target == TARGET.get(action)
    if expected == "Anomaly":
        assert row["reason"].startswith("anomaly")
    if expected == "Skip":
        assert "not mapped" in row["reason"]


def test_the_language_changes_every_reason_and_no_decision(every_combination: pd.DataFrame):
    in_portuguese = every_combination_in("pt-BR")
    decided = ["action", "target_active", "magnus_standing", "ixc_standing"]
    pd.testing.assert_frame_equal(in_portuguese[decided], every_combination[decided])
    assert (in_portuguese["reason"] != every_combination["reason"]).all()


def test_inactive_in_magnus_but_blocked_in_ixc_is_reported_as_an_anomaly():
    plan = plan_for([user(1, 0, "10")], [contract(10, "A", "CA")])
    assert plan.loc[1, "action"] == Action.NO_CHANGE
    assert plan.loc[1, "reason"] == (
        "anomalia: inativo no Magnus mas bloqueado no IXC (status A, internet CA)"
    )


def test_decided_and_unmapped_reasons_name_the_ixc_codes():
    plan = plan_for(
        [user(1, 1, "10"), user(2, 1, "11"), user(3, 3, "12")],
        [contract(10, "A", "CA"), contract(11, "X", ""), contract(12, "A", "A")],
    )
    assert plan.loc[1, "reason"] == "IXC bloqueado (status A, internet CA)"
    assert plan.loc[2, "reason"] == (
        "códigos do IXC (status X, internet -) não correspondem a um status"
    )
    assert plan.loc[3, "reason"] == "IXC ativo (status A, internet A)"


def test_block_uses_the_configured_status():
    plan = plan_for([user(1, 1, "10")], [contract(10, "A", "FA")], block_status=3)
    assert plan.loc[1, "target_active"] == 3


def test_already_blocked_with_another_code_is_left_alone():
    """Magnus 3 (blocked in) while the block status is 4: still blocked, no change."""
    plan = plan_for([user(1, 3, "10")], [contract(10, "A", "CA")], block_status=4)
    assert plan.loc[1, "action"] == Action.NO_CHANGE


@pytest.mark.parametrize(
    ("active", "in_portuguese", "in_english"),
    [(None, "ausente", "missing"), (-1, "-1", "-1"), (5, "5", "5"), (9, "9", "9")],
)
def test_magnus_status_outside_0_to_4_is_skipped(
    active: int | None, in_portuguese: str, in_english: str
):
    plan = plan_for([user(1, active, "10")], [contract(10, "A", "CA")])
    assert plan.loc[1, "action"] == Action.SKIP
    assert plan.loc[1, "reason"] == f"status do Magnus {in_portuguese} não está entre 0 e 4"
    english = plan_for([user(1, active, "10")], [contract(10, "A", "CA")], language="en")
    assert english.loc[1, "reason"] == f"Magnus status {in_english} is not 0-4"


@pytest.mark.parametrize("ref", [None, "", "   "])
def test_customers_without_contract_id_are_not_managed(ref: str | None):
    plan = plan_for([user(1, 1, ref)], [])
    assert plan.loc[1, "action"] == Action.NOT_MANAGED
    assert plan.loc[1, "reason"] == "sem id de contrato no Magnus"


@pytest.mark.parametrize("ref", ["abc", "12.5", "-3", "0", "1e3", "12 13", "99999999999999999999"])
def test_malformed_contract_ids_are_skipped_with_the_value(ref: str):
    plan = plan_for([user(1, 1, ref)], [contract(12, "A", "CA")])
    assert plan.loc[1, "action"] == Action.SKIP
    assert plan.loc[1, "reason"].startswith(f"o id de contrato {ref!r} ")


def test_padded_contract_id_is_trimmed():
    plan = plan_for([user(1, 1, " 10 ")], [contract(10, "A", "CA")])
    assert plan.loc[1, "action"] == Action.BLOCK
    assert contract_ids([user(1, 1, " 10 ")]) == [10]


def test_contract_unknown_to_ixc_is_skipped_as_not_found():
    plan = plan_for([user(1, 1, "10")], [])
    assert plan.loc[1, "action"] == Action.SKIP
    assert plan.loc[1, "reason"] == "contrato 10 não encontrado no IXC"


def test_a_record_without_a_field_the_decision_needs_is_skipped_never_decided():
    """An absent key is missing data: status N without `status_internet` is not a Block. An
    empty value is a value: the mapping's rule for it (N alone -> blocked) still applies."""
    records = {
        10: {"id": "10", "id_cliente": "1", "status": "N"},
        11: {"id": "11", "id_cliente": "1", "status_internet": "A"},
        12: {"id": "12", "id_cliente": "1", "status": "N", "status_internet": ""},
        13: {"id": "13", "id_cliente": "1", "status": "N", "status_internet": None},
    }
    contracts = [IxcContract.from_record(record) for record in records.values()]
    users = [user(n, 1, str(n + 9)) for n in range(1, 5)]
    plan = plan_for(users, contracts)
    assert list(plan["action"]) == [Action.SKIP, Action.SKIP, Action.BLOCK, Action.BLOCK]
    assert plan.loc[1, "reason"] == (
        "o contrato 10 veio do IXC sem o campo status_internet; nada é feito sem esse dado"
    )
    assert "sem o campo status;" in plan.loc[2, "reason"]
    english = plan_for(users, contracts, language="en")
    assert english.loc[1, "reason"] == (
        "contract 10 came from IXC without the field status_internet; nothing is done without it"
    )


def test_an_approved_change_whose_fresh_record_lacks_a_field_is_withdrawn():
    plan = build_plan([user(1, 1, "10")], {10: contract(10, "N", "")}, {}, IxcStatusMapping(), 4)
    (change,) = planned_changes(plan)
    fresh = IxcContract.from_record({"id": "10", "id_cliente": "1", "status": "N"})
    result = reconfirm([change], {10: fresh}, {}, IxcStatusMapping(), 4, "pt-BR")
    assert result.standing == []
    assert result.withdrawn == {
        1: "o contrato 10 veio do IXC sem o campo status_internet depois da aprovação; "
        "a próxima execução decide"
    }


def test_contract_whose_read_failed_is_skipped_as_failed_never_as_not_found():
    """The client gives the bare detail; the plan says it was a failed read."""
    failed = {10: Problem("ixc_error", {"why": "ixc: HTTP 503: busy"})}
    plan = plan_for([user(1, 1, "10")], [], failed=failed)
    assert plan.loc[1, "action"] == Action.SKIP
    assert plan.loc[1, "reason"] == "leitura do IXC falhou: ixc: HTTP 503: busy"
    in_english = plan_for([user(1, 1, "10")], [], failed=failed, language="en")
    assert in_english.loc[1, "reason"] == "IXC read failed: ixc: HTTP 503: busy"


def test_contract_shared_by_two_customers_acts_on_each_and_says_so():
    plan = plan_for(
        [user(1, 1, "10"), user(2, 3, "10"), user(3, 1, "11")],
        [contract(10, "I", ""), contract(11, "A", "A")],
    )
    assert list(plan["action"]) == [Action.DISABLE, Action.DISABLE, Action.NO_CHANGE]
    assert list(plan["duplicate_contract"]) == [True, True, False]
    shared = "; id de contrato usado também por outro cliente"
    assert plan.loc[2, "reason"] == "IXC inativo (status I, internet -)" + shared
    assert plan.loc[1, "reason"].endswith(shared)
    assert not plan.loc[3, "reason"].endswith(shared)


def test_planned_changes_carry_what_the_recheck_and_messages_need():
    plan = build_plan(
        [user(1, 1, "10"), user(2, 1, "11")],
        {10: contract(10, "A", "CA"), 11: contract(11, "A", "A")},
        {},
        IxcStatusMapping(),
        4,
    )
    [change] = planned_changes(plan)
    assert change.magnus_id == 1
    assert change.action == Action.BLOCK
    assert (change.magnus_active, change.target_active) == (1, 4)
    assert (change.ixc_status, change.ixc_status_internet) == ("A", "CA")
    assert change.contract_ref == "10"


def test_custom_mapping_changes_the_meaning_of_codes():
    mapping = IxcStatusMapping(blocked_internet=["CM", "CA", "FA", "D"])  # AA no longer blocks
    plan = build_plan([user(1, 1, "10")], {10: contract(10, "A", "AA")}, {}, mapping, 4)
    assert plan.iloc[0]["action"] == Action.SKIP


def test_an_ad_hoc_run_that_matches_nobody_plans_nothing():
    plan = build_plan([], {}, {}, IxcStatusMapping(), 4)
    assert plan.empty
    assert list(plan.columns)[:3] == ["magnus_id", "username", "customer"]
    assert planned_changes(plan) == []
    assert contract_ids([]) == []
    report = RunReport(plan=plan, outcomes={}, dry_run=True)
    assert report.table_rows() == []
    assert "SIMULAÇÃO - 0 clientes: 0 bloqueio(s)" in report.markdown()
