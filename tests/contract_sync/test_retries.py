"""Retries are Prefect's: each retry is a state of its task run, visible in the UI.

A transient fault (timeout, 5xx, 429, garbled answer) fails one attempt of one task run - a
page of the listing, a batch of contracts, a write, a Discord message - and Prefect retries that
task run (AwaitingRetry, then Retrying; run count 2). A fault that persists uses up the
attempts and the task run ends Failed; a permanent error (validation, refused credentials)
is never retried. A 429's Retry-After is waited before the retry.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import pytest
from prefect import flow, task
from prefect_runs import finished_task_runs, state_history
from sync_helpers import NO_GUARD, Stack, actives, raw, run, save_fast_blocks, stack, unique

from blocks.discord.block import Discord
from blocks.errors import ConnectionFailed
from blocks.http import RetryPolicy
from sandbox.faults import FaultKind
from sandbox.world import synthetic_provider
from tasks.contract_sync.recording import record_run
from tasks.retries import retry_options, waiting_before_retry

pytestmark = pytest.mark.prefect

ATTEMPTS = 4  # fast blocks: tries per read and per write
WRITES = ("Bloqueio-", "Desbloqueio-", "Desativação-", "Ativação-")  # task run names, pt-BR


@pytest.fixture
def sandbox(prefect_harness: None, tmp_path: Path) -> Iterator[tuple[Stack, str, Path]]:
    provider = synthetic_provider(customers=30, contracts=40, drift=0.2, seed=13)
    with stack(provider) as running:
        name = unique("retries")
        save_fast_blocks(running, name)
        yield running, name, tmp_path / "ledger.sqlite3"


async def task_runs(
    flow_run_id: UUID, prefix: str | tuple[str, ...], count: int = 1
) -> list[tuple[Any, list[Any]]]:
    """The flow run's task runs named `prefix...` (at least `count`, all finished), each with
    its state history."""
    found = await finished_task_runs(flow_run_id, lambda name: name.startswith(prefix), count)
    return [(task_run, await state_history(task_run)) for task_run in found]


def names(states: list[Any]) -> list[str]:
    return [state.name for state in sorted(states, key=lambda s: s.timestamp)]


async def test_a_write_that_fails_once_is_a_prefect_retry_that_rereads_first(sandbox):
    running, name, ledger = sandbox
    running.magnus.faults.add(FaultKind.HTTP_503, match=r"user/save", times=1)
    before = actives(running)

    state = await run(name, ledger, **NO_GUARD)

    assert state.is_completed(), state.message
    changes = len(running.drifted)
    writes = await task_runs(state.state_details.flow_run_id, WRITES, count=changes)
    retried = [(task_run, states) for task_run, states in writes if task_run.run_count > 1]
    assert len(retried) == 1
    task_run, states = retried[0]
    assert task_run.run_count == 2 and task_run.state.is_completed()
    history = names(states)
    assert history.index("AwaitingRetry") < history.index("Retrying") < history.index("Completed")
    changed = {uid for uid, a in actives(running).items() if a != before[uid]}
    assert changed == set(running.drifted)
    assert running.magnus.saves == len(running.drifted)
    assert running.magnus.faults.injected[FaultKind.HTTP_503] == 1


async def test_a_batch_that_keeps_failing_uses_its_attempts_and_is_reported(sandbox):
    running, name, ledger = sandbox
    running.ixc.faults.add(FaultKind.TIMEOUT, match=r"cliente_contrato.*IN", times=None, delay=2)

    state = await run(name, ledger, **NO_GUARD)

    assert state.is_failed()
    (batch, states), *_ = await task_runs(state.state_details.flow_run_id, "read-ixc-contracts")
    assert batch.run_count == ATTEMPTS and batch.state.is_failed()
    assert names(states).count("AwaitingRetry") == ATTEMPTS - 1
    assert "leitura do IXC falhou" in state.message
    assert running.magnus.saves == 0


async def test_a_permanent_refusal_is_not_retried(sandbox):
    running, name, ledger = sandbox
    refusal = {"success": False, "rows": [], "errors": {"active": ["Active is invalid."]}}
    running.tamper["magnus"].add(r"user/save", raw(json.dumps(refusal).encode()), run_app=False)

    state = await run(name, ledger, **NO_GUARD)

    assert state.is_failed()
    changes = len(running.drifted)
    writes = await task_runs(state.state_details.flow_run_id, WRITES, count=changes)
    assert writes and all(task_run.run_count == 1 for task_run, _ in writes)
    assert not any("AwaitingRetry" in names(states) for _, states in writes)


async def test_a_rate_limited_read_waits_its_retry_after_then_retries(sandbox):
    running, name, ledger = sandbox
    running.magnus.faults.add(FaultKind.RATE_LIMIT, match=r"user/read", times=1, retry_after=1.5)

    state = await run(name, ledger, **NO_GUARD)

    assert state.is_completed(), state.message
    ((plan, states),) = await task_runs(state.state_details.flow_run_id, "plan-magnus-listing")
    assert plan.run_count == 2
    ordered = sorted(states, key=lambda s: s.timestamp)
    first_running = next(s for s in ordered if s.name == "Running")
    retrying = next(s for s in ordered if s.name == "Retrying")
    assert (retrying.timestamp - first_running.timestamp).total_seconds() >= 1.5


async def test_a_discord_message_that_fails_once_is_retried_and_sent_once(sandbox):
    running, name, ledger = sandbox
    running.discord.faults.add(FaultKind.HTTP_502, match=r"/api/webhooks/800/", times=1)

    state = await run(name, ledger, **NO_GUARD)

    assert state.is_completed(), state.message
    messages = len(running.discord.messages)  # each accepted once; one of them after a retry
    posts = await task_runs(state.state_details.flow_run_id, "post-discord-message", messages)
    assert [task_run.run_count for task_run, _ in posts].count(2) == 1
    delays = {task_run.empirical_policy.retry_delay for task_run, _ in posts}
    assert delays == {0.05}, "the UI shows one number as the Retry Delay, NaN for a list"


@pytest.mark.parametrize(
    "policy",
    [Discord(webhook_url="https://d.test/x").retry_policy(), RetryPolicy(attempts=4)],
)
def test_every_retried_task_has_one_number_as_its_retry_delay(policy: RetryPolicy):
    assert isinstance(retry_options(policy)["retry_delay_seconds"], int | float)
    assert isinstance(record_run.retry_delay_seconds, int | float)


async def test_the_backoff_is_waited_inside_the_failing_attempt_before_a_retry(monkeypatch):
    """Prefect waits the first delay; the attempt itself waits the rest of the doubling backoff."""
    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(seconds)

    async def refused() -> None:
        raise ConnectionFailed("could not connect (ConnectError)", system="discord")

    monkeypatch.setattr("tasks.retries.asyncio", SimpleNamespace(sleep=sleep))
    policy = RetryPolicy(attempts=3, base_delay=0.25, jitter=0.0)

    @task(**retry_options(policy))
    async def failing() -> None:
        await waiting_before_retry(refused(), policy)

    @flow
    async def runs_it() -> Any:
        return await failing(return_state=True)

    state = await runs_it(return_state=True)
    assert state.is_failed()
    assert waited == [0.25], "0.25 s by Prefect, then 0.25 + 0.25 s; none after the last try"
