"""Crash safety for real: a run is SIGKILLed mid-apply (or mid-announce), then run again.

The first run is a separate Python process talking to the test's Prefect API and to the sandbox
on loopback; the sandbox holds one request open (as a hung server would) so the kill lands at a
known point, then the test kills the process with SIGKILL (no hooks, no cleanup, like an OOM
kill or a lost node). The rerun must leave every customer right, write nothing twice and
announce every change exactly once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.settings import get_current_settings
from sync_helpers import (
    NO_GUARD,
    TARGET,
    Stack,
    actives,
    announced_usernames,
    block_names,
    expire_run_lock,
    run,
    save_fast_blocks,
    stack,
    unique,
)

from contract_sync.ledger import CONTAINER_ENV, LEDGER_ENV, NotificationLedger, WriteState
from flows.contract_sync import contract_sync
from sandbox.stack import run_artifact
from sandbox.world import synthetic_provider

pytestmark = pytest.mark.prefect

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def drifted(prefect_harness: None, tmp_path: Path) -> Iterator[tuple[Stack, str, Path]]:
    provider = synthetic_provider(customers=80, contracts=120, drift=0.2, seed=21)
    with stack(provider) as sandbox:
        name = unique("crash")
        save_fast_blocks(sandbox, name, timeout=60)
        yield sandbox, name, tmp_path / "ledger.sqlite3"


def start_run_in_a_process(name: str, ledger: Path) -> subprocess.Popen[bytes]:
    parameters = {**block_names(name), **NO_GUARD, "ledger_path": str(ledger)}
    script = textwrap.dedent(
        f"""
        import asyncio
        from flows.contract_sync import contract_sync
        asyncio.run(contract_sync(**{parameters!r}))
        """
    )
    env = {**os.environ, "PREFECT_API_URL": str(get_current_settings().api.url)}
    return subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def kill_when(process: subprocess.Popen[bytes], condition, within: float = 90.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert process.poll() is None, "the run ended before the crash point"
        assert time.monotonic() < deadline, "the run never reached the crash point"
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # let it sit in the hung request
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    await expire_run_lock()


def assert_all_right(sandbox: Stack, before: dict[int, int]) -> None:
    after = actives(sandbox)
    drifted = sandbox.drifted
    assert {uid for uid in after if after[uid] != before[uid]} == set(drifted)
    for uid, action in drifted.items():
        assert after[uid] in TARGET[action], (uid, action)


def assert_announced_once(sandbox: Stack) -> None:
    drifted = sandbox.drifted
    expected = Counter(sandbox.magnus.users[uid]["username"] for uid in drifted)
    assert Counter(announced_usernames(sandbox)) == expected


async def test_killed_mid_apply_then_rerun_writes_once_and_announces_once(drifted):
    sandbox, name, ledger = drifted
    changes = len(sandbox.drifted)
    assert changes >= 8
    before = actives(sandbox)
    # Saves 1-3 go through; save 4 reaches Magnus (the status changes) but its answer never
    # comes back: the kill lands between a write and its record, the hardest point.
    sandbox.tamper["magnus"].add(r"user/save", lambda status, body: (status, body), times=3)
    hung = sandbox.tamper["magnus"].add(r"user/save", hang="after", times=1)

    process = start_run_in_a_process(name, ledger)
    await kill_when(process, lambda: hung.fired == 1)
    assert sandbox.magnus.saves == 4
    assert announced_usernames(sandbox) == [], "the first run died before announcing"
    changed = {uid for uid, active in actives(sandbox).items() if active != before[uid]}
    assert len(changed) == 4

    sandbox.tamper["magnus"].rules.clear()
    state = await run(name, ledger, **NO_GUARD)
    assert state.is_completed(), state.message
    assert_all_right(sandbox, before)
    assert sandbox.magnus.saves == changes, "no customer was written twice"
    assert_announced_once(sandbox)
    late = [
        e
        for m in sandbox.discord.messages
        for e in m.payload.get("embeds", [])
        if "Aplicada em uma execução anterior" in e.get("description", "")
    ]
    assert len(late) == 4, "the interrupted run's four writes are announced as such"
    summary = await run_artifact(state.state_details.flow_run_id, "contract-sync-summary")
    section = summary.split("## Aplicadas por uma execução anterior, avisadas por esta")[1]
    assert section.count("\n- ") == 4

    again = await run(name, ledger, **NO_GUARD)
    assert again.is_completed(), again.message
    assert sandbox.magnus.saves == changes
    assert_announced_once(sandbox)


async def test_killed_while_announcing_then_rerun_sends_only_what_was_not_sent(drifted):
    sandbox, name, ledger = drifted
    changes = len(sandbox.drifted)
    assert changes > 10, "needs two announcement messages"
    before = actives(sandbox)
    # The first announcement message is delivered; the second hangs, then the process dies.
    sandbox.tamper["discord"].add(r"/api/webhooks/800/", lambda s, b: (s, b), times=1)
    hung = sandbox.tamper["discord"].add(r"/api/webhooks/800/", hang="before", times=1)
    process = start_run_in_a_process(name, ledger)
    await kill_when(process, lambda: hung.fired == 1)
    assert sandbox.magnus.saves == changes
    first = announced_usernames(sandbox)
    assert 0 < len(first) < changes

    sandbox.tamper["discord"].rules.clear()
    state = await run(name, ledger, **NO_GUARD)
    assert state.is_completed(), state.message
    assert_all_right(sandbox, before)
    assert sandbox.magnus.saves == changes
    assert_announced_once(sandbox)


def test_ledger_settles_an_interrupted_write_from_what_magnus_says(tmp_path: Path):
    """Unit level: `writing` entries of a dead run become applied or not_applied, never lost."""
    from test_recheck_and_guard import BLOCK, UNBLOCK

    ledger = NotificationLedger(tmp_path / "l.sqlite3", scope="magnus-a")
    other_scope = NotificationLedger(tmp_path / "l.sqlite3", scope="magnus-b")
    ledger.writing("dead-run", BLOCK)
    ledger.writing("dead-run", UNBLOCK.model_copy(update={"magnus_id": 6}))
    assert other_scope.entries([WriteState.WRITING]) == []
    assert ledger.write_sent("dead-run", 5)
    assert not ledger.write_sent("new-run", 5)

    confirmed = ledger.resolve_unfinished("new-run", {5: BLOCK.target_active, 6: 3})
    assert confirmed == 1
    assert [e.change.magnus_id for e in ledger.unannounced()] == [5]
    assert [e.change.magnus_id for e in ledger.entries([WriteState.NOT_APPLIED])] == [6]
    ledger.mark([("dead-run", 5)], WriteState.ANNOUNCED)
    assert ledger.unannounced() == []
    ledger.mark([("dead-run", 5)], WriteState.APPLIED)  # a late confirmation (overlapping run)
    assert ledger.unannounced() == [], "an announced change never becomes owed again"
    ledger.mark([("dead-run", 6)], WriteState.APPLIED)  # it did happen after all
    assert [e.change.magnus_id for e in ledger.unannounced()] == [6]
    ledger.mark([("dead-run", 6)], WriteState.ANNOUNCED)
    assert ledger.prune(keep_days=1) == 0, "recent entries are kept"
    assert ledger.prune(keep_days=-1) == 2, "settled entries are forgotten"
    ledger.writing("live-run", BLOCK)
    assert ledger.prune(keep_days=-1) == 0, "an unsettled write is never forgotten"


@pytest.mark.parametrize("dry_run", [True, False])
async def test_a_container_without_a_ledger_path_refuses_in_the_operators_language(
    drifted, monkeypatch, dry_run
):
    """The billing-sync image never keeps its ledger inside the container: the run fails at
    its start, before anything is read or written, saying what to do - in pt-BR."""
    sandbox, name, _ = drifted
    monkeypatch.setenv(CONTAINER_ENV, "1")
    monkeypatch.delenv(LEDGER_ENV, raising=False)
    state = await contract_sync(**block_names(name), dry_run=dry_run, **NO_GUARD, return_state=True)
    assert state.is_failed()
    assert state.message.startswith("nenhum caminho de ledger definido neste contêiner")
    assert LEDGER_ENV in state.message
    assert sandbox.magnus.saves == 0
