"""contract-sync under injected faults: what is retried, what is not, and what a failure leaves.

Every fault kind of `sandbox.faults` is injected once into every system in the same run (Magnus
read and save, IXC listing, Discord post); a transient fault must be retried and the run must
end exactly right. Permanent errors must not be retried. A read that keeps failing leaves its
customers as Skip "IXC read failed" (never "not found"), with no write for them, and a failed
run that says why. Discord trouble never hides or undoes a change.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect_runs import eventually
from pydantic import SecretStr
from sync_helpers import (
    NO_GUARD,
    TARGET,
    Stack,
    actives,
    announced_usernames,
    asave_blocks,
    fast_blocks,
    json_rewrite,
    raw,
    run,
    save_fast_blocks,
    stack,
    unique,
)

from blocks.discord.client import DiscordWebhook
from blocks.errors import RateLimited, ServerError
from blocks.http import RetryPolicy
from contract_sync.decide import Action
from sandbox.faults import FaultKind
from sandbox.stack import CHANGES_WEBHOOK, ERRORS_WEBHOOK, decision_rows, run_artifact
from sandbox.world import synthetic_provider

pytestmark = pytest.mark.prefect


@pytest.fixture
def sandbox(prefect_harness: None, tmp_path: Path) -> Iterator[tuple[Stack, str, Path]]:
    provider = synthetic_provider(customers=40, contracts=60, drift=0.25, seed=7)
    with stack(provider) as running:
        name = unique("faults")
        save_fast_blocks(running, name)
        yield running, name, tmp_path / "ledger.sqlite3"


def assert_right_and_announced_once(sandbox: Stack, before: dict[int, int]) -> None:
    after = actives(sandbox)
    drifted = sandbox.drifted
    assert {uid for uid in after if after[uid] != before[uid]} == set(drifted)
    for uid, action in drifted.items():
        assert after[uid] in TARGET[action]
    expected = Counter(sandbox.magnus.users[uid]["username"] for uid in drifted)
    assert Counter(announced_usernames(sandbox)) == expected


def once(sandbox: Stack, system: str, match: str, kind: FaultKind, nth: int = 1) -> None:
    plan = {"magnus": sandbox.magnus, "ixc": sandbox.ixc, "discord": sandbox.discord}[system]
    plan.faults.add(kind, match=match, nth=nth, times=1, delay=5.0, retry_after=0.2)


@pytest.mark.parametrize("kind", list(FaultKind))
async def test_every_fault_kind_once_on_every_system_is_retried_and_the_run_is_right(
    sandbox, kind: FaultKind
):
    running, name, ledger = sandbox
    before = actives(running)
    once(running, "magnus", r"user/read", kind)  # the customer listing
    once(running, "magnus", r"user/save", kind, nth=2)
    once(running, "ixc", r"cliente_contrato", kind, nth=2)  # the contract listing
    once(running, "discord", r"/api/webhooks/800/", kind)
    state = await run(name, ledger, **NO_GUARD)
    assert state.is_completed(), state.message
    assert running.magnus.faults.injected[kind] == 2  # one read, one save
    assert running.ixc.faults.injected[kind] == 1
    assert running.discord.faults.injected[kind] == 1
    assert_right_and_announced_once(running, before)
    # a save whose answer was lost (truncated) is found done on re-read: never written twice
    assert running.magnus.saves <= len(running.drifted) + 1


async def test_an_ixc_batch_that_keeps_failing_skips_its_customers_and_fails_the_run(sandbox):
    running, name, ledger = sandbox
    _, ixc, _ = fast_blocks(running)
    ixc.batch_size, ixc.page_size = 5, 5  # 8 IN batches beat 12 pages: read by id
    await asave_blocks(name, ixc)
    drifted = running.drifted
    victim = sorted(drifted)[0]
    victim_contract = str(running.magnus.users[victim]["dist"])
    # every listing whose IN filter names the victim's contract fails, forever (an outage)
    running.ixc.faults.add(
        FaultKind.HTTP_503, match=rf"IN.*[\",]{victim_contract}[\",]", times=None
    )
    before = actives(running)
    state = await run(name, ledger, **NO_GUARD)
    assert state.is_failed()
    assert "leitura do IXC falhou" in state.message
    rows = {row["username"]: row for row in await decision_rows(state.state_details.flow_run_id)}
    skipped = [row for row in rows.values() if row["reason"].startswith("leitura do IXC falhou")]
    assert 1 <= len(skipped) <= 5
    assert all(row["action"] == Action.SKIP for row in skipped)
    assert not any("não encontrado" in row["reason"] for row in rows.values())
    after = actives(running)
    skipped_ids = {
        uid
        for uid, user in running.magnus.users.items()
        if user["username"] in {row["username"] for row in skipped}
    }
    assert victim in skipped_ids
    assert all(after[uid] == before[uid] for uid in skipped_ids), "no write for them"
    for uid in set(drifted) - skipped_ids:
        assert after[uid] in TARGET[drifted[uid]], "the rest is still done"
    await eventually(
        lambda: any(
            "leitura do IXC falhou" in str(m.payload) for m in running.messages_to(ERRORS_WEBHOOK)
        ),
        "operators are told",
    )


# A page of the customer listing other than the last (an id range with an upper end).
RANGE_PAGE = r"user/read\?sort=id&dir=ASC\n.*%22comparison%22%3A%22lt%22"


async def test_a_magnus_page_that_keeps_failing_stops_the_run_before_any_write(sandbox):
    running, name, ledger = sandbox
    await asave_blocks(name, fast_blocks(running, page_size=10)[0])
    running.magnus.faults.add(FaultKind.HTML_200, match=RANGE_PAGE, times=None)
    state = await run(name, ledger, **NO_GUARD)
    assert state.is_failed()
    assert running.magnus.saves == 0
    await eventually(
        lambda: bool(running.messages_to(ERRORS_WEBHOOK)), "the failure alert went out"
    )


async def test_a_page_that_fails_only_once_is_retried(sandbox):
    running, name, ledger = sandbox
    await asave_blocks(name, fast_blocks(running, page_size=10)[0])
    running.magnus.faults.add(FaultKind.TRUNCATED_JSON, match=RANGE_PAGE, times=1)
    before = actives(running)
    state = await run(name, ledger, **NO_GUARD)
    assert state.is_completed(), state.message
    assert running.magnus.faults.injected[FaultKind.TRUNCATED_JSON] == 1
    assert_right_and_announced_once(running, before)


async def test_permanent_write_errors_are_not_retried(sandbox):
    running, name, ledger = sandbox
    refusal = {"success": False, "rows": [], "errors": {"active": ["Active is invalid."]}}
    before = actives(running)
    refused = running.tamper["magnus"].add(
        r"user/save", raw(json.dumps(refusal).encode()), run_app=False
    )
    state = await run(name, ledger, **NO_GUARD)
    assert state.is_failed()
    changes = len(running.drifted)
    assert refused.fired == changes, "one try per change: validation is permanent"
    assert f"{changes} alteração(ões) falharam" in state.message
    assert actives(running) == before
    assert announced_usernames(running) == []


async def test_a_save_answered_as_failed_that_was_written_counts_as_applied(sandbox):
    """The real server can write a save and answer `success:false` with an SQL error: the
    client re-reads, finds the change done, and the change is applied and announced once."""
    running, name, ledger = sandbox
    sql_error = {
        "success": False,
        "rows": [],
        "errors": "Technical information: CDbCommand failed to execute the SQL statement: "
        "SQLSTATE[42S22]: Column not found: 1054 Unknown column '62abc' in 'where clause'",
    }
    running.tamper["magnus"].add(r"user/save", json_rewrite(lambda _: sql_error))
    before = actives(running)
    state = await run(name, ledger, **NO_GUARD)
    assert state.is_completed(), state.message
    assert running.magnus.saves == len(running.drifted)
    assert_right_and_announced_once(running, before)


async def test_a_refused_signature_is_not_retried_and_nothing_is_written(sandbox):
    running, name, ledger = sandbox
    magnus = fast_blocks(running)[0]
    magnus.api_secret = SecretStr("wrong-secret")
    await asave_blocks(name, magnus)
    state = await run(name, ledger, **NO_GUARD)
    assert state.is_failed()
    assert "chave de API ou assinatura recusada" in state.message
    assert running.magnus.reads == 1
    assert running.magnus.saves == 0


async def test_an_ixc_token_refused_is_not_retried_and_skips_everyone(sandbox):
    running, name, ledger = sandbox
    running.ixc.token = "7:another-hash"
    state = await run(name, ledger, **NO_GUARD)
    assert state.is_failed()
    assert "leitura do IXC falhou" in state.message and "token recusado" in state.message
    assert running.ixc.reads <= 2, "the size probe and one listing, no retries"
    assert running.magnus.saves == 0


async def test_discord_down_keeps_the_changes_lists_them_and_the_next_run_announces_them(
    sandbox,
):
    running, name, ledger = sandbox
    before = actives(running)
    running.discord.faults.add(FaultKind.HTTP_503, match=r"/api/webhooks/800/", times=None)
    state = await run(name, ledger, **NO_GUARD)
    assert state.is_failed()
    assert "mensagem(ns) do Discord não enviadas" in state.message
    changes = len(running.drifted)
    assert f"{changes} alteração(ões) aplicadas ainda não avisadas" in state.message
    after = actives(running)
    assert {uid for uid in after if after[uid] != before[uid]} == set(running.drifted)
    summary = await run_artifact(state.state_details.flow_run_id, "contract-sync-summary")
    assert "Alterações aplicadas ainda não avisadas" in summary
    for uid in running.drifted:
        assert running.magnus.users[uid]["username"] in summary

    running.discord.faults.clear()
    saves = running.magnus.saves
    again = await run(name, ledger, **NO_GUARD)
    assert again.is_completed(), again.message
    assert running.magnus.saves == saves
    assert_right_and_announced_once(running, before)


def test_backoff_grows_with_jitter_and_a_retry_after_is_waited_in_full():
    server_error = ServerError("x", system="t")
    delays = [RetryPolicy(base_delay=1.0, jitter=0.5).delay(n, server_error) for n in (1, 2, 3, 4)]
    assert 0.5 <= delays[0] <= 1.5 and 4.0 <= delays[3] <= 12.0
    assert len({RetryPolicy().delay(1, server_error) for _ in range(20)}) > 1
    assert RetryPolicy(max_delay=30).delay(1, RateLimited("x", system="t", retry_after=70)) >= 70


async def test_an_unexpected_error_while_posting_still_publishes_the_report(sandbox, monkeypatch):
    """Not an ApiError (a bug, a library surprise): the message is unsent, named by the
    error's type only (its text may quote the webhook URL), and the report is published."""
    running, name, ledger = sandbox
    token = CHANGES_WEBHOOK[1]

    async def broken_post(self: DiscordWebhook, message: object) -> None:
        raise RuntimeError(f"cannot post to .../{token}")

    monkeypatch.setattr(DiscordWebhook, "post", broken_post)
    before = actives(running)
    state = await run(name, ledger, **NO_GUARD)
    assert state.is_failed()
    assert "mensagem(ns) do Discord não enviadas" in state.message
    summary = await run_artifact(state.state_details.flow_run_id, "contract-sync-summary")
    assert "não enviada: erro inesperado RuntimeError" in summary
    assert "Alterações aplicadas ainda não avisadas" in summary
    assert token not in summary and token not in state.message
    assert {uid for uid, a in actives(running).items() if a != before[uid]} == set(
        running.drifted
    ), "the changes stay applied"


async def test_an_unexpected_error_while_preparing_notifications_still_publishes_the_report(
    sandbox, monkeypatch
):
    running, name, ledger = sandbox

    def broken_announcements(*args: object, **kwargs: object) -> None:
        raise KeyError("a message template")

    monkeypatch.setattr("tasks.contract_sync.announcing.announcements", broken_announcements)
    state = await run(name, ledger, **NO_GUARD)
    assert state.is_failed()
    summary = await run_artifact(state.state_details.flow_run_id, "contract-sync-summary")
    assert "avisos não enviados: erro inesperado KeyError" in summary
    changes = len(running.drifted)
    assert f"{changes} alteração(ões) aplicadas ainda não avisadas" in state.message
