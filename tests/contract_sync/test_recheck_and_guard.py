"""Compare-and-set right before a write, and the mass-change guard."""

from __future__ import annotations

import pandas as pd
import pytest

from blocks.magnusbilling.models import MagnusUser
from contract_sync.decide import Action
from contract_sync.guard import GuardLimits, assess
from contract_sync.plan import PlannedChange
from contract_sync.recheck import Recheck, Verdict, recheck
from contract_sync.status import Standing


def planned(action: Action, before: int, after: int, ixc: Standing) -> PlannedChange:
    return PlannedChange(
        magnus_id=5,
        username="50005",
        customer="Cliente",
        document="",
        contract_ref="77",
        contract_id=77,
        action=action,
        magnus_active=before,
        target_active=after,
        ixc_status="A",
        ixc_status_internet="CA",
        ixc_standing=ixc,
        duplicate_contract=False,
        reason="IXC blocked",
    )


def now(active: int | None, contract_ref: str | None = "77") -> MagnusUser:
    return MagnusUser(
        id=5, username="50005", active=active, contract_ref=contract_ref, name="", document=""
    )


BLOCK = planned(Action.BLOCK, 1, 4, Standing.BLOCKED)
UNBLOCK = planned(Action.UNBLOCK, 3, 1, Standing.ACTIVE)


def test_unchanged_customer_is_written():
    assert recheck(BLOCK, now(1), 4, "pt-BR") == Recheck(Verdict.WRITE, BLOCK.reason)


def test_customer_already_in_target_is_not_written_again():
    """A crashed run re-run, or an operator who did it by hand."""
    result = recheck(BLOCK, now(4), 4, "pt-BR")
    assert result == Recheck(Verdict.ALREADY_DONE, "já está 4 no Magnus")


def test_operator_change_that_leads_to_another_action_stops_the_write():
    result = recheck(BLOCK, now(0), 4, "pt-BR")  # disabled by hand meanwhile
    assert result.verdict is Verdict.STALE
    assert result.reason == (
        "o status no Magnus mudou de 1 para 0 desde o plano; a próxima execução decide"
    )
    assert recheck(BLOCK, now(0), 4, "en").reason == (
        "the Magnus status changed from 1 to 0 since planning; the next run decides"
    )


def test_equivalent_change_since_planning_still_writes():
    """Blocked 3 -> 4 by hand meanwhile; IXC says active: unblocking is still right."""
    assert recheck(UNBLOCK, now(4), 4, "pt-BR").verdict is Verdict.WRITE


@pytest.mark.parametrize("active", [None, 9])
def test_unknown_status_at_write_time_stops_the_write(active):
    result = recheck(BLOCK, now(active), 4, "pt-BR")
    assert result.verdict is Verdict.STALE
    shown = "-" if active is None else active
    assert result.reason.startswith(f"o status no Magnus mudou de 1 para {shown} desde o plano")


@pytest.mark.parametrize("ref", ["78", "", None])
def test_contract_id_changed_since_planning_stops_the_write(ref):
    result = recheck(BLOCK, now(1, ref), 4, "pt-BR")
    assert result == Recheck(
        Verdict.STALE, "o id de contrato mudou no Magnus desde o plano; a próxima execução decide"
    )


def plan_with(actions: dict[Action, int]) -> pd.DataFrame:
    return pd.DataFrame({"action": [a for a, n in actions.items() for _ in range(n)]})


@pytest.mark.parametrize(
    ("actions", "needs"),
    [
        ({Action.NO_CHANGE: 90, Action.BLOCK: 10}, False),  # 10% of 100: at the limit
        ({Action.NO_CHANGE: 89, Action.BLOCK: 10, Action.DISABLE: 1}, True),
        ({Action.NO_CHANGE: 90, Action.UNBLOCK: 10, Action.ENABLE: 5}, False),  # benign
        ({Action.NO_CHANGE: 949, Action.BLOCK: 51}, True),  # 5%, but over 50
        (
            {Action.NO_CHANGE: 5, Action.NOT_MANAGED: 1000, Action.BLOCK: 1},
            True,
        ),  # share of managed
    ],
)
def test_guard_counts_blocks_and_disables_against_the_smaller_limit(actions, needs):
    assert assess(plan_with(actions), GuardLimits()).needs_approval is needs


def test_guard_limits_are_configurable():
    verdict = assess(
        plan_with({Action.NO_CHANGE: 10, Action.BLOCK: 10}),
        GuardLimits(max_share=0.5, max_count=100),
    )
    assert (verdict.harmful, verdict.managed, verdict.limit) == (10, 20, 10)
    assert not verdict.needs_approval
    assert "10 blocks/disables planned for 20 managed customers" in verdict.describe("en")
    assert "10 bloqueio(s)/desativação(ões) planejados para 20" in verdict.describe("pt-BR")


@pytest.mark.parametrize(("harmful", "needs"), [(1, False), (50, False), (51, True)])
def test_an_ad_hoc_run_is_judged_by_the_absolute_limit_only(harmful: int, needs: bool) -> None:
    """Two chosen usernames, one Block: 10% of 2 customers is 0, which would ask for approval."""
    plan = plan_with({Action.BLOCK: harmful, Action.NO_CHANGE: 1})
    verdict = assess(plan, GuardLimits(), whole_base=False)
    assert (verdict.limit, verdict.needs_approval) == (50, needs)
    assert assess(plan, GuardLimits()).needs_approval
