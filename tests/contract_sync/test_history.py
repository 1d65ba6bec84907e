"""Customer history: which decisions are kept and how, on SQLite and PostgreSQL; exactly one
entry per (run, customer) across a crash and a re-run; a history that cannot be recorded
never hides a change."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate
from sqlalchemy import create_engine, text
from sync_helpers import (
    NO_GUARD,
    Stack,
    actives,
    announced_usernames,
    run,
    save_fast_blocks,
    stack,
    unique,
)
from test_crash_safety import kill_when, start_run_in_a_process
from test_holds import NOW, ZONE, hold, plan

from clock import ManualTime, frozen
from contract_sync.decide import Action
from contract_sync.history import HistoryEntry, ledger_entry, run_entries
from contract_sync.holds import apply_holds
from contract_sync.outcome import ChangeOutcome, Result
from contract_sync.plan import planned_changes
from contract_sync.records.block import ContractSyncRecords
from contract_sync.records.store import Records, sqlite_url
from contract_sync.report import RunReport
from sandbox.world import synthetic_provider
from tasks.contract_sync.records import RECORDS_FILENAME, live_writers
from tasks.contract_sync.run_lock import lock_name

SCOPE = "http://magnus.test"
pytest_plugins = ["records_helpers"]  # the records databases (fixtures)


@pytest.fixture
def clock() -> Iterator[ManualTime]:
    with frozen(NOW) as manual:
        yield manual


def report(dry_run: bool = False, **outcomes: ChangeOutcome) -> RunReport:
    """u1 would be blocked but is held, u2 is unblocked, u3 is fine, u5 is a Skip; plus a
    change per outcome given (by username) - built from the same plan as the holds tests."""
    decided, _ = apply_holds(plan(), [hold("u1")], NOW, "pt-BR", ZONE)
    result = RunReport(plan=decided, dry_run=dry_run)
    ids = dict(zip(decided["username"], decided["magnus_id"], strict=True))
    result.outcomes = {int(ids[name]): outcome for name, outcome in outcomes.items()}
    return result


def entries(run_report: RunReport, run_id: str = "run-1") -> dict[str, HistoryEntry]:
    return {e.username: e for e in run_entries(run_report, run_id, "brave-fox", NOW)}


def test_changes_skips_and_held_customers_that_would_change_are_kept():
    applied = ChangeOutcome(magnus_id=2, result=Result.APPLIED, magnus_after=1)
    kept = entries(report(u2=applied))
    assert set(kept) == {"u1", "u2", "u5"}, "NoChange and NotManaged customers leave nothing"
    assert kept["u1"].action == Action.HELD and kept["u1"].would_action == Action.BLOCK
    assert kept["u1"].result == Result.HELD and kept["u1"].magnus_after == 1
    assert kept["u1"].magnus_target is None
    assert "dívida negociada" in kept["u1"].reason
    u2 = kept["u2"]
    assert (u2.magnus_before, u2.magnus_target, u2.magnus_after) == (4, 1, 1)
    assert (kept["u2"].ixc_status, kept["u2"].ixc_status_internet) == ("A", "A")
    assert kept["u2"].contract == "12" and kept["u2"].customer == "Cliente 2"
    assert kept["u5"].action == Action.SKIP and kept["u5"].result is None
    assert kept["u5"].reason == report().plan.set_index("username").loc["u5", "reason"]
    assert {e.run_name for e in kept.values()} == {"brave-fox"}
    assert not any(e.dry_run for e in kept.values())


@pytest.mark.parametrize(
    ("outcome", "after"),
    [
        (ChangeOutcome(magnus_id=2, result=Result.STALE, detail="mudou", magnus_after=3), 3),
        (ChangeOutcome(magnus_id=2, result=Result.FAILED, detail="HTTP 500"), None),
        (ChangeOutcome(magnus_id=2, result=Result.NOT_ATTEMPTED, detail="rejeitado"), 4),
        (ChangeOutcome(magnus_id=2, result=Result.WITHDRAWN, detail="IXC mudou"), 4),
        (ChangeOutcome(magnus_id=2, result=Result.HELD, detail="retido", magnus_after=4), 4),
        (ChangeOutcome(magnus_id=2, result=Result.ALREADY_DONE, magnus_after=1), 1),
    ],
)
def test_every_outcome_is_kept_with_what_magnus_has_after(outcome: ChangeOutcome, after):
    entry = entries(report(u2=outcome))["u2"]
    assert (entry.result, entry.detail, entry.magnus_after) == (
        outcome.result,
        outcome.detail,
        after,
    ), "a failed write may or may not have happened: unknown, never guessed"


def test_a_dry_run_keeps_its_plan_marked_as_such():
    planned = ChangeOutcome(magnus_id=2, result=Result.PLANNED)
    kept = entries(report(dry_run=True, u2=planned))
    assert all(e.dry_run for e in kept.values())
    assert kept["u2"].result == Result.PLANNED and kept["u2"].magnus_after == 4


def test_recording_a_run_again_never_doubles_an_entry(records: Records):
    first = run_entries(report(), "run-1", "brave-fox", NOW)
    assert records.record(SCOPE, first) == 3
    applied = ChangeOutcome(magnus_id=2, result=Result.APPLIED, magnus_after=1)
    assert records.record(SCOPE, run_entries(report(u2=applied), "run-1", "brave-fox", NOW)) == 3
    history, total = records.history_of(SCOPE, magnus_id=2, username="u2")
    assert total == 1 and history[0].result == Result.APPLIED, "the later recording wins"
    assert records.history_of("http://other", magnus_id=2, username="u2") == ([], 0)


def test_a_repeated_skip_or_hold_is_kept_once_per_streak(records: Records, clock: ManualTime):
    records.record(SCOPE, run_entries(report(), "run-1", "a", clock.at))
    clock.advance(hours=1)
    applied = ChangeOutcome(magnus_id=2, result=Result.APPLIED, magnus_after=1)
    assert records.record(SCOPE, run_entries(report(u2=applied), "run-2", "b", clock.at)) == 1
    clock.advance(hours=1)
    dry = run_entries(report(dry_run=True), "run-3", "c", clock.at)
    assert records.record(SCOPE, dry) == 3, "dry runs are kept whole"
    clock.advance(hours=1)
    changed = report()
    changed.plan.loc[changed.plan["username"] == "u5", "reason"] = "outro motivo"
    assert records.record(SCOPE, run_entries(changed, "run-4", "d", clock.at)) == 2
    u5, total = records.history_of(SCOPE, magnus_id=5, username="u5")
    assert [e.run_id for e in u5] == ["run-4", "run-3", "run-1"] and total == 3
    u1, _ = records.history_of(SCOPE, magnus_id=1, username="u1")
    assert [e.run_id for e in u1] == ["run-3", "run-1"], "held as before: nothing new"


def test_the_history_is_newest_first_limited_and_pruned_after_the_retention(
    records_url: str, clock: ManualTime
):
    records = Records(records_url, retention_days=30)
    for day in range(40):
        skip = run_entries(report(), f"run-{day:02d}", f"run {day}", clock.at)
        records.record(SCOPE, [e for e in skip if e.username == "u2"])
        clock.advance(days=1)
    newest, total = records.history_of(SCOPE, magnus_id=2, username="u2", limit=5)
    assert total == 40 and [e.run_id for e in newest] == [f"run-{d}" for d in range(39, 34, -1)]
    assert records.prune() == 10
    assert records.history_of(SCOPE, magnus_id=2, username="u2")[1] == 30
    records.close()


def test_the_default_retention_is_400_days(records: Records, clock: ManualTime):
    records.record(SCOPE, run_entries(report(), "run-1", "a", clock.at))
    records.add_hold("u9", "x", "maria")
    records.end_hold("u9", "ana", "fim")
    clock.advance(days=399)
    assert records.prune() == 0
    clock.advance(days=2)
    assert records.prune() == 4, "three entries and the ended hold"


def test_an_applied_write_from_the_ledger_fills_or_corrects_an_entry(records: Records):
    failed = ChangeOutcome(magnus_id=2, result=Result.FAILED, detail="timeout")
    records.record(SCOPE, run_entries(report(u2=failed), "run-1", "a", NOW))
    (change,) = [c for c in planned_changes(plan()) if c.username == "u2"]
    records.record_applied(SCOPE, [ledger_entry("run-1", change, "confirmed by a later run", NOW)])
    (entry,), total = records.history_of(SCOPE, magnus_id=2, username="u2")
    assert total == 1 and entry.result == Result.APPLIED and entry.magnus_after == 1
    assert entry.run_name == "a", "the run's own entry, corrected"
    records.record_applied(SCOPE, [ledger_entry("run-1", change, "again", NOW)])
    assert records.history_of(SCOPE, magnus_id=2, username="u2")[0][0].detail == (
        "confirmed by a later run"
    ), "an applied entry is left as it is"
    records.record_applied(SCOPE, [ledger_entry("run-0", change, "from the ledger", NOW)])
    assert records.history_of(SCOPE, magnus_id=2, username="u2")[1] == 2


# ---- through Prefect --------------------------------------------------------------------------


@pytest.fixture
def drifted(prefect_harness: None, tmp_path: Path) -> Iterator[tuple[Stack, str, Path]]:
    provider = synthetic_provider(customers=80, contracts=120, drift=0.2, seed=21)
    with stack(provider) as sandbox:
        name = unique("history")
        save_fast_blocks(sandbox, name, timeout=60)
        yield sandbox, name, tmp_path / "ledger.sqlite3"


def applied_entries(records: Records, sandbox: Stack) -> Counter[tuple[str, int]]:
    """(run id, Magnus id) of every applied entry of the drifted customers, counted."""
    found: Counter[tuple[str, int]] = Counter()
    for uid in sandbox.drifted:
        history, _ = records.history_of(
            sandbox.urls["magnus"], magnus_id=uid, username="", limit=100
        )
        found.update((e.run_id, e.magnus_id) for e in history if e.result == Result.APPLIED)
    return found


async def lease_expired(magnus_url: str) -> None:
    """What the killed run's lock lease expiring does (60 s later): its slot is free again."""
    async with get_client() as client:
        await client.update_global_concurrency_limit(
            lock_name(magnus_url), GlobalConcurrencyLimitUpdate(active_slots=0)
        )


@pytest.mark.prefect
async def test_history_across_a_crash_and_a_rerun_loses_and_doubles_nothing(drifted):
    sandbox, name, ledger = drifted
    changes = len(sandbox.drifted)
    before = actives(sandbox)
    # Saves 1-3 go through; save 4 reaches Magnus but its answer never comes back; then kill.
    sandbox.tamper["magnus"].add(r"user/save", lambda status, body: (status, body), times=3)
    hung = sandbox.tamper["magnus"].add(r"user/save", hang="after", times=1)
    process = start_run_in_a_process(name, ledger)
    await kill_when(process, lambda: hung.fired == 1)
    await lease_expired(sandbox.urls["magnus"])
    records = Records(sqlite_url(ledger.with_name(RECORDS_FILENAME)))
    assert records.history_of(sandbox.urls["magnus"], magnus_id=None, username="")[1] == 0

    sandbox.tamper["magnus"].rules.clear()
    state = await run(name, ledger, **NO_GUARD)
    assert state.is_completed(), state.message
    again = await run(name, ledger, **NO_GUARD)
    assert again.is_completed(), again.message

    found = applied_entries(records, sandbox)
    assert set(found.values()) == {1}, "no entry doubled"
    assert sorted(uid for _, uid in found) == sorted(sandbox.drifted), "every change, once"
    rerun = str(state.state_details.flow_run_id)
    by_run = Counter(run_id for run_id, _ in found)
    assert by_run[rerun] == changes - 4
    (killed,) = set(by_run) - {rerun}
    assert by_run[killed] == 4, "the killed run's four writes, recorded under it by the rerun"
    changed = {uid for uid, active in actives(sandbox).items() if active != before[uid]}
    assert changed == set(sandbox.drifted)
    records.close()


@pytest.mark.prefect
@pytest.mark.database
async def test_on_postgresql_a_run_records_its_history_and_a_failure_hides_no_change(
    drifted, postgres_records_url: str
):
    sandbox, name, ledger = drifted
    before = actives(sandbox)
    engine = create_engine(postgres_records_url)
    with engine.begin() as db:
        db.execute(text("DROP TABLE IF EXISTS contract_sync_history, contract_sync_holds"))
    await ContractSyncRecords(url=postgres_records_url).asave(name, overwrite=True)
    records = Records(postgres_records_url)
    dry = await run(name, ledger, dry_run=True, records_block=name, **NO_GUARD)
    assert dry.is_completed(), dry.message
    assert not (ledger.with_name(RECORDS_FILENAME)).exists(), "the block's database, not SQLite"
    assert not await live_writers(sandbox.urls["magnus"]), "a dry run never says where holds go"
    some = sorted(sandbox.drifted)[0]
    (planned,), _ = records.history_of(sandbox.urls["magnus"], magnus_id=some, username="")
    assert planned.dry_run and planned.result == Result.PLANNED

    def break_history(status: int, body: bytes) -> tuple[int, bytes]:
        with engine.begin() as db:  # the database loses the table while the run writes
            db.execute(text("DROP TABLE IF EXISTS contract_sync_history"))
        return status, body

    sandbox.tamper["magnus"].add(r"user/save", break_history, times=1)
    state = await run(name, ledger, records_block=name, **NO_GUARD)
    assert state.is_failed()
    assert "histórico dos clientes não gravado (ProgrammingError)" in state.message
    after = actives(sandbox)
    changed = {uid for uid in after if after[uid] != before[uid]}
    assert changed == set(sandbox.drifted), "every change applied"
    assert len(announced_usernames(sandbox)) == len(changed), "and announced"
    records.close()
    engine.dispose()
