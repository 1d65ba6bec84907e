"""The write path against a MagnusBilling whose saves cost time: restores first, blocks on fresh
IXC data, one save in flight per server even with two writers in two processes, progress on the
run page, and parameters that make no sense refused before anything is read."""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect.settings import get_current_settings
from prefect.utilities.callables import parameter_schema
from sqlalchemy.exc import OperationalError
from sync_helpers import (
    NO_GUARD,
    TARGET,
    actives,
    asave_blocks,
    block_names,
    fast_blocks,
    progress_artifact,
    run,
    stack,
    unique,
)

from blocks.magnusbilling.client import MagnusBillingClient
from contract_sync.holds import HoldProblem, HoldsUnreadable
from contract_sync.outcome import Result
from flows.contract_sync import contract_sync
from sandbox.asterisk import SAVE_BASE_SECONDS, SAVE_PER_ACCOUNT_SECONDS, SaveCost
from sandbox.stack import decision_rows, run_artifact
from sandbox.world import synthetic_provider
from tasks.contract_sync.run_lock import FLOW_NAME
from tasks.contract_sync.save_lock import SaveTurnNeverCame
from tasks.contract_sync.writing import describe_write_failure

pytestmark = pytest.mark.prefect

ROOT = Path(__file__).resolve().parents[2]
RESTORES = {"unblock", "enable"}
HARMFUL = {"block", "disable"}


def no_overlaps(sandbox: Any) -> None:
    assert (sandbox.magnus.overlapping_saves, sandbox.magnus.torn_reloads) == (0, 0)


def real_save_cost(sandbox: Any) -> None:
    """Saves at the calibrated cost of a real server (not the suite's 10x faster one)."""
    sandbox.magnus.save_cost = SaveCost(SAVE_BASE_SECONDS, SAVE_PER_ACCOUNT_SECONDS, 1.0)


@pytest.fixture
def saves_in_order(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """(Magnus id, active) of every save the flow sends, in order."""
    sent: list[tuple[int, int]] = []
    real = MagnusBillingClient.set_active

    async def recorded(self: MagnusBillingClient, user_id: int, active: int) -> Any:
        sent.append((user_id, active))
        return await real(self, user_id, active)

    monkeypatch.setattr(MagnusBillingClient, "set_active", recorded)
    return sent


async def test_restores_are_saved_before_any_block_or_disable_and_the_run_page_shows_progress(
    prefect_harness: None, tmp_path: Path, saves_in_order: list[tuple[int, int]]
) -> None:
    provider = synthetic_provider(customers=60, contracts=100, drift=0.5, seed=5)
    actions = set(provider.drifted.values())
    assert actions >= RESTORES | HARMFUL
    with stack(provider) as sandbox:
        name = unique("order")
        await asave_blocks(name, *fast_blocks(sandbox))
        state = await run(name, tmp_path / "ledger.sqlite3", **NO_GUARD)
        assert state.is_completed(), state.message
        no_overlaps(sandbox)
        after = actives(sandbox)
    saved = [user_id for user_id, _ in saves_in_order]
    assert sorted(saved) == sorted(provider.drifted)
    kinds = [provider.drifted[user_id] in RESTORES for user_id in saved]
    assert kinds == sorted(kinds, reverse=True), "a block or disable was saved before a restore"
    for user_id, action in provider.drifted.items():
        assert after[user_id] in TARGET[action]

    run_id = state.state_details.flow_run_id
    progress = await progress_artifact(run_id, FLOW_NAME)
    assert progress.data == 100.0
    total = len(provider.drifted)
    assert f"{total} de {total} alterações gravadas" in progress.description
    summary = await run_artifact(run_id, "contract-sync-summary")
    assert "## Gravação no MagnusBilling" in summary
    assert f"{total} gravação(ões) em" in summary and "p50" in summary and "p95" in summary


@pytest.mark.parametrize("max_age", [0.3, 120.0])
async def test_a_customer_who_pays_while_blocks_are_written_is_not_blocked(
    prefect_harness: None,
    tmp_path: Path,
    saves_in_order: list[tuple[int, int]],
    monkeypatch: pytest.MonkeyPatch,
    max_age: float,
) -> None:
    """A long write phase (slow saves): the IXC reading of a Block is at most `max_age` old
    when it is saved. With 0.3 s, the customer who paid after the second block is read again
    and withdrawn; with the default 2 minutes the same payment comes too late for this run
    (the control: the test sees the difference)."""
    provider = synthetic_provider(customers=60, contracts=100, drift=0.5, seed=5)
    blocks = sorted(uid for uid, action in provider.drifted.items() if action == "block")
    harmful = sorted(uid for uid, action in provider.drifted.items() if action in HARMFUL)
    payer = blocks[-1]
    assert harmful.index(payer) >= 6
    users = {int(user["id"]): user for user in provider.magnus_users}
    with stack(provider) as sandbox:
        name = unique("pays")
        await asave_blocks(name, *fast_blocks(sandbox))
        real = MagnusBillingClient.set_active

        async def slow_and_paying(self: MagnusBillingClient, user_id: int, active: int) -> Any:
            saved = await real(self, user_id, active)
            await asyncio.sleep(0.15)  # a save of a big provider takes seconds
            harmful_saved = [uid for uid, _ in saves_in_order if uid in harmful]
            if len(harmful_saved) == 2 and harmful_saved[-1] == user_id:
                sandbox.ixc.update_contract(
                    int(users[payer]["dist"]), status="A", status_internet="A"
                )
            return saved

        monkeypatch.setattr(MagnusBillingClient, "set_active", slow_and_paying)
        state = await run(
            name, tmp_path / "ledger.sqlite3", max_ixc_age_seconds=max_age, **NO_GUARD
        )
        assert state.is_completed(), state.message
        no_overlaps(sandbox)
        after = actives(sandbox)
    rows = {row["username"]: row for row in await decision_rows(state.state_details.flow_run_id)}
    payer_row = rows[users[payer]["username"]]
    if max_age < 1:
        assert after[payer] == 1
        assert payer_row["result"] is Result.WITHDRAWN
        assert "o IXC mudou enquanto a execução gravava" in payer_row["detail"]
        assert payer not in {uid for uid, _ in saves_in_order}
    else:
        assert after[payer] == 4
    for user_id in set(harmful) - {payer}:
        assert after[user_id] in TARGET[provider.drifted[user_id]]


async def test_parameters_that_make_no_sense_are_refused_before_anything_is_read(
    prefect_harness: None, tmp_path: Path
) -> None:
    provider = synthetic_provider(customers=20, contracts=40, drift=0.5, seed=2)
    bad_values: list[dict[str, Any]] = [
        {"max_harmful_share": 1.5},
        {"max_harmful_share": -0.1},
        {"max_harmful_count": -1},
        {"approval_timeout_seconds": 0},
        {"approval_poll_seconds": 0},
        {"approval_poll_seconds": -1},
        {"max_ixc_age_seconds": 0},
    ]
    with stack(provider) as sandbox:
        name = unique("params")
        await asave_blocks(name, *fast_blocks(sandbox))
        before = actives(sandbox)
        for bad in bad_values:
            state = await contract_sync(
                **block_names(name),
                ledger_path=str(tmp_path / "ledger.sqlite3"),
                **bad,
                return_state=True,
            )
            assert state.is_failed(), bad
            assert next(iter(bad)) in str(state.message), state.message
        assert (sandbox.magnus.requests, sandbox.ixc.requests) == (0, 0)
        # Discord hears of each refused run (the failure alert), nothing else.
        assert sandbox.discord.requests == len(bad_values)
        assert actives(sandbox) == before
    # A deployment's parameter form and `prefect deployment run -p` are checked by the server
    # against the same bounds.
    schema = parameter_schema(contract_sync).model_dump()["properties"]
    assert (schema["max_harmful_share"]["minimum"], schema["max_harmful_share"]["maximum"]) == (
        0,
        1,
    )
    assert schema["max_harmful_count"]["minimum"] == 0
    assert schema["approval_timeout_seconds"]["minimum"] == 1
    assert schema["approval_poll_seconds"]["exclusiveMinimum"] == 0
    assert schema["max_ixc_age_seconds"]["exclusiveMinimum"] == 0
    assert "write_concurrency" not in schema


SECOND_WRITER = """
import asyncio, contextlib, sys
from tasks.contract_sync import systems

# Stands for another deployment that writes to the same Magnus server with a run lock of its
# own (the restore lane): it shares only the save lock with the hourly run.
@contextlib.asynccontextmanager
async def own_run_lock(*args, **kwargs):
    yield

systems.one_run_at_a_time = own_run_lock
from flows.contract_sync import contract_sync
state = asyncio.run(contract_sync(**{parameters!r}, return_state=True))
print(state.type.value, state.message)
"""


@pytest.fixture
def two_writers(prefect_harness: None, tmp_path: Path) -> Iterator[tuple[Any, str, Any]]:
    provider = synthetic_provider(customers=120, contracts=200, drift=0.5, seed=9)
    with stack(provider) as sandbox:
        real_save_cost(sandbox)
        name = unique("two-writers")
        for block in fast_blocks(sandbox, timeout=30):
            block.save(name, overwrite=True)
        yield sandbox, name, provider


def start_second_writer(parameters: dict[str, Any]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PREFECT_API_URL": str(get_current_settings().api.url)}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(SECOND_WRITER.format(parameters=parameters))],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def started_writing(sandbox: Any, other: subprocess.Popen[bytes]) -> None:
    while sandbox.magnus.saves == 0 and other.poll() is None:
        time.sleep(0.05)


async def test_two_runs_in_two_processes_never_have_two_saves_in_flight(
    two_writers: tuple[Any, str, Any], tmp_path: Path
) -> None:
    sandbox, name, provider = two_writers
    users = {int(user["id"]): user for user in provider.magnus_users}
    ad_hoc = [users[uid]["username"] for uid in sorted(provider.drifted)[::2]]
    parameters = {
        **block_names(name),
        **NO_GUARD,
        "usernames": ad_hoc,
        "notify": False,
        "ledger_path": str(tmp_path / "other-ledger.sqlite3"),
    }
    other = start_second_writer(parameters)
    try:
        await asyncio.to_thread(started_writing, sandbox, other)
        hourly = await run(name, tmp_path / "ledger.sqlite3", **NO_GUARD)
        out, err = await asyncio.to_thread(other.communicate, timeout=300)
    finally:
        if other.poll() is None:
            other.kill()
    assert out.decode().startswith("COMPLETED"), (out.decode(), err.decode()[-3000:])
    assert hourly.is_completed(), hourly.message
    # Both wrote: the ad-hoc run its customers, the hourly run the others.
    assert re.search(r"[1-9][0-9]* aplicada", out.decode()), out.decode()
    rows = await decision_rows(hourly.state_details.flow_run_id)
    assert any(row["result"] is Result.APPLIED for row in rows)
    no_overlaps(sandbox)
    assert sandbox.magnus.saves >= len(provider.drifted)
    after = actives(sandbox)
    for user_id, action in provider.drifted.items():
        assert after[user_id] in TARGET[action]


def test_a_failed_write_that_is_no_api_error_says_what_failed_and_what_to_do() -> None:
    holds = HoldsUnreadable([HoldProblem(7, "76795", "until", "amanhã")])
    said = describe_write_failure(holds, "pt-BR")
    assert said.startswith("a lista de retenções não pôde ser lida")
    assert "retenção 7 (usuário '76795')" in said and "deployments.holds remove" in said
    assert "HoldsUnreadable" not in said

    database = OperationalError(
        "UPDATE holds SET note='x' WHERE password='hunter2-secret'",
        {"password": "hunter2-secret"},
        Exception("could not connect to server: Connection refused\nDETAIL: more"),
    )
    said = describe_write_failure(database, "pt-BR")
    assert "o banco local da sincronização" in said and "Connection refused" in said
    assert "hunter2" not in said and "DETAIL" not in said
    said = describe_write_failure(sqlite3.OperationalError("database is locked"), "en")
    assert "the sync's own database" in said and "database is locked" in said

    said = describe_write_failure(SaveTurnNeverCame("magnus-save-voip", 600.2), "pt-BR")
    assert "prefect gcl update magnus-save-voip --active-slots 0" in said and "600 s" in said

    said = describe_write_failure(RuntimeError("token=abc123 at https://x/?key=k"), "pt-BR")
    assert "erro inesperado ao gravar (RuntimeError)" in said
    assert "abc123" not in said and "key=k" not in said
