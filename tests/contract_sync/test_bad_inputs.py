"""A catalogue of bad input from the three systems, each run through the whole flow.

Every case spoils what one system says about one customer (the "victim", chosen among the
customers the run should block or disable, where a wrong write hurts most) or spoils a whole
answer. Each case states the reason the run report must give, and whether the victim may still
be written (input that is odd but unambiguous, like numbers sent as strings). For every case:
no customer is written except drifted ones, each to its right status, and the victim only
when the case allows it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sync_helpers import (
    NO_GUARD,
    TARGET,
    Stack,
    actives,
    announced_usernames,
    json_rewrite,
    raw,
    refill,
    run,
    save_fast_blocks,
    stack,
    unique,
)

from sandbox.stack import CHANGES_WEBHOOK, decision_rows, run_artifact
from sandbox.world import synthetic_provider

pytestmark = pytest.mark.prefect

# The customer listing (its highest-id read and its id-range pages), not the re-read of one
# customer before a write (an `id eq` filter).
UNMAPPED = "não correspondem a um status"
LISTING = r"user/read\?[^\n]*\n(?!.*%22comparison%22%3A%22eq%22)"
CONTRACTS = r"cliente_contrato"
WEBHOOK = rf"/api/webhooks/{CHANGES_WEBHOOK[0]}/"


@dataclass(frozen=True)
class Case:
    id: str
    spoil: Callable[[Stack, int], None]
    reason: str  # must appear in the report (victim's row, summary or run state message)
    victim_written: bool = False  # odd but unambiguous input: the right write still happens
    run_fails: bool | None = None  # None: either way


def set_user(**fields: Any) -> Callable[[Stack, int], None]:
    return lambda s, victim: s.magnus.update_user(victim, **fields)


def set_contract(**fields: Any) -> Callable[[Stack, int], None]:
    def spoil(s: Stack, victim: int) -> None:
        contract = int(str(s.magnus.users[victim]["dist"]).strip())
        with s.ixc.lock:
            s.ixc.contracts[contract].update(fields)

    return spoil


def listing_rows(edit: Callable[[list[dict[str, Any]], int], None]) -> Callable[[Stack, int], None]:
    """Edit the rows of the bulk Magnus listing before the client sees them."""

    def spoil(s: Stack, victim: int) -> None:
        def change(answer: dict[str, Any]) -> None:
            edit(answer["rows"], victim)

        s.tamper["magnus"].add(LISTING, json_rewrite(change))

    return spoil


def victim_row(fields: dict[str, Any]) -> Callable[[list[dict[str, Any]], int], None]:
    def edit(rows: list[dict[str, Any]], victim: int) -> None:
        for row in rows:
            if row["id"] == victim:
                for key, value in fields.items():
                    if value is DELETE:
                        row.pop(key, None)
                    else:
                        row[key] = value

    return edit


DELETE = object()


def magnus_answer(edit: Callable[[dict[str, Any]], Any]) -> Callable[[Stack, int], None]:
    return lambda s, victim: s.tamper["magnus"].add(LISTING, json_rewrite(edit))


def ixc_answer(edit: Callable[[dict[str, Any], str], Any]) -> Callable[[Stack, int], None]:
    """Edit every contract listing answer; `edit` gets the answer and the victim's contract id."""

    def spoil(s: Stack, victim: int) -> None:
        contract = str(s.magnus.users[victim]["dist"]).strip()
        s.tamper["ixc"].add(CONTRACTS, json_rewrite(lambda answer: edit(answer, contract)))

    return spoil


def ixc_victim_record(fields: dict[str, Any]) -> Callable[[Stack, int], None]:
    def edit(answer: dict[str, Any], contract: str) -> None:
        for record in answer.get("registros", []):
            if str(record.get("id")) == contract:
                for key, value in fields.items():
                    if value is DELETE:
                        record.pop(key, None)
                    else:
                        record[key] = value

    return ixc_answer(edit)


def answer_instead(
    system: str, match: str, body: bytes, status: int
) -> Callable[[Stack, int], None]:
    """The system never sees the request; the client gets `body` with HTTP `status`."""
    return lambda s, victim: s.tamper[system].add(match, raw(body, status), run_app=False)


def ixc_raw(body: bytes, status: int = 200) -> Callable[[Stack, int], None]:
    return answer_instead("ixc", CONTRACTS, body, status)


def magnus_raw(body: bytes, status: int = 200) -> Callable[[Stack, int], None]:
    return answer_instead("magnus", LISTING, body, status)


def discord_raw(body: bytes, status: int = 200) -> Callable[[Stack, int], None]:
    return answer_instead("discord", WEBHOOK, body, status)


def lowercase_padded_codes(answer: dict[str, Any], contract: str) -> None:
    for record in answer.get("registros", []):
        if str(record.get("id")) == contract:
            record["status"] = f" {record['status'].lower()} "
            record["status_internet"] = f"{record['status_internet'].lower()}  "


def duplicate_victim_contract(answer: dict[str, Any], contract: str) -> None:
    for record in list(answer.get("registros", [])):
        if str(record.get("id")) == contract:
            answer["registros"].append({**record, "status_internet": "A", "status": "A"})


def duplicate_victim_row(rows: list[dict[str, Any]], victim: int) -> None:
    for row in list(rows):
        if row["id"] == victim:
            rows.append({**row, "active": 0 if row["active"] else 1})


def identical_duplicates(rows: list[dict[str, Any]], victim: int) -> None:
    rows.extend([dict(row) for row in rows if row["id"] == victim])


def bigger_count(answer: dict[str, Any]) -> None:
    answer["count"] = answer["count"] + 500


NOT_UTF8 = '{"rows": [{"id": 2, "firstname": "Jos\xe9"}], "count": 1, "sum": []}'.encode("latin-1")

CASES = [
    # ---- MagnusBilling ------------------------------------------------------------------------
    Case("magnus-active-9", set_user(active=9), "status do Magnus 9 não está entre 0 e 4"),
    Case(
        "magnus-active-text",
        listing_rows(victim_row({"active": "abc"})),
        "status do Magnus 'abc' não está entre 0 e 4",
    ),
    Case(
        "magnus-active-beyond-int64",
        listing_rows(victim_row({"active": "99999999999999999999"})),
        "status do Magnus '99999999999999999999' não está entre 0 e 4",
    ),
    Case(
        "magnus-active-json-beyond-int64",
        listing_rows(victim_row({"active": 2**64 - 1})),
        f"status do Magnus '{2**64 - 1}' não está entre 0 e 4",
    ),
    Case(
        "magnus-active-padded",
        listing_rows(victim_row({"active": " 1"})),
        "' 1' não está entre 0 e 4",
    ),
    Case("magnus-active-decimal-text", listing_rows(victim_row({"active": "1.5"})), "'1.5'"),
    Case("magnus-active-float", listing_rows(victim_row({"active": 1.5})), "não está entre 0 e 4"),
    Case("magnus-active-bool", listing_rows(victim_row({"active": True})), "não está entre 0 e 4"),
    Case("magnus-active-null", listing_rows(victim_row({"active": None})), "não está entre 0 e 4"),
    Case(
        "magnus-active-as-string",
        listing_rows(victim_row({"active": "1"})),
        "",
        victim_written=True,
        run_fails=False,
    ),
    Case("magnus-dist-letters", set_user(dist="abc"), "não é um id de contrato válido"),
    Case("magnus-dist-decimal", set_user(dist="12.5"), "não é um id de contrato válido"),
    Case("magnus-dist-zero", set_user(dist="0"), "não é um id de contrato válido"),
    Case(
        "magnus-dist-huge",
        set_user(dist="9" * 40),
        "o maior id que esta sincronização",
    ),
    Case("magnus-dist-other-digits", set_user(dist="١٢"), "não é um id de contrato válido"),
    Case(
        "magnus-dist-unknown-contract",
        set_user(dist="987654321"),
        "contrato 987654321 não encontrado no IXC",
    ),
    Case(
        "magnus-row-without-id",
        listing_rows(victim_row({"id": DELETE})),
        "não tem id válido",
        run_fails=True,
    ),
    Case(
        "magnus-row-not-an-object",
        listing_rows(lambda rows, victim: rows.append("oops")),
        "não é um objeto",
        victim_written=True,  # the junk is another row; the victim's own row is whole
        run_fails=True,
    ),
    Case(
        "magnus-row-twice-different",
        listing_rows(duplicate_victim_row),
        "veio duas vezes com dados diferentes",
        run_fails=True,
    ),
    Case(
        "magnus-row-twice-identical",
        listing_rows(identical_duplicates),
        "",
        victim_written=True,
        run_fails=False,
    ),
    Case(
        "magnus-count-too-big",
        magnus_answer(bigger_count),
        "a lista de usuários mudou durante a leitura",
        victim_written=True,  # each customer read is whole: only the count is off
        run_fails=True,
    ),
    Case(
        "magnus-count-as-text",
        magnus_answer(lambda a: {**a, "count": str(a["count"])}),
        "'count' ausente ou não é uma contagem",
        run_fails=True,
    ),
    Case(
        "magnus-rows-not-a-list",
        magnus_answer(lambda a: {**a, "rows": {"0": a["rows"][0]}}),
        "resposta inesperada com as chaves",
        run_fails=True,
    ),
    Case(
        "magnus-truncated-json",
        magnus_raw(b'{"rows": [{"id": 2, "usern'),
        "JSON cortado ou inválido",
        run_fails=True,
    ),
    Case("magnus-not-utf8", magnus_raw(NOT_UTF8), "não é texto UTF-8", run_fails=True),
    # ---- IXC ----------------------------------------------------------------------------------
    Case("ixc-status-unknown", set_contract(status="ZZ"), UNMAPPED),
    Case("ixc-internet-unknown", set_contract(status_internet="XX"), UNMAPPED),
    Case(
        "ixc-status-empty",
        set_contract(status="", status_internet=""),
        UNMAPPED,
    ),
    Case(
        "ixc-pre-contract",
        set_contract(status="P", status_internet=""),
        "(status P, internet -) não correspondem a um status",
    ),
    Case(
        "ixc-status-huge",
        set_contract(status="A" * 5000, status_internet=""),
        UNMAPPED,
    ),
    Case("ixc-status-as-number", ixc_victim_record({"status": 1}), "(status 1, internet"),
    Case(
        "ixc-codes-lowercase-padded",
        ixc_answer(lowercase_padded_codes),
        "",
        victim_written=True,
        run_fails=False,
    ),
    Case(
        "ixc-record-without-id",
        ixc_victim_record({"id": DELETE}),
        "leitura do IXC falhou: 1 registro(s) sem id válido na resposta",
        run_fails=True,
    ),
    Case(
        "ixc-record-twice-different",
        ixc_answer(duplicate_victim_contract),
        "o IXC devolveu dois registros diferentes para este id",
    ),
    Case(
        "ixc-total-not-a-number",
        ixc_answer(lambda a, c: {**a, "total": "muitos"}),
        "leitura do IXC falhou",
        run_fails=True,
    ),
    Case(
        "ixc-registros-not-a-list",
        ixc_answer(lambda a, c: {**a, "registros": {"x": 1}}),
        "leitura do IXC falhou",
        run_fails=True,
    ),
    Case(
        "ixc-registros-missing",
        ixc_answer(lambda a, c: {k: v for k, v in a.items() if k != "registros"}),
        "leitura do IXC falhou",
        run_fails=True,
    ),
    Case(
        "ixc-empty-page",
        ixc_answer(lambda a, c: {"page": "1", "total": "0"}),
        "não encontrado no IXC",
    ),
    Case(
        "ixc-type-error",
        ixc_raw(b'{"type": "error", "message": "Erro interno"}'),
        "leitura do IXC falhou: ixc: o IXC respondeu um erro: Erro interno",
        run_fails=True,
    ),
    Case(
        "ixc-not-utf8",
        ixc_raw('{"total": "1", "x": "Ação"}'.encode("latin-1")),
        "não é texto UTF-8",
    ),
    # ---- Discord ------------------------------------------------------------------------------
    Case(
        "discord-400-refused",
        discord_raw(b'{"message": "Invalid Form Body", "code": 50035}', 400),
        "mensagem recusada",
        victim_written=True,
        run_fails=True,
    ),
    Case(
        "discord-404-webhook-gone",
        discord_raw(b'{"message": "Unknown Webhook", "code": 10015}', 404),
        "o webhook não existe",
        victim_written=True,
        run_fails=True,
    ),
]


SEED = 6  # its drifted customers include a Block (the victim), a Disable and an Unblock


def fresh_provider():
    return synthetic_provider(customers=10, contracts=15, drift=0.3, seed=SEED)


@pytest.fixture(scope="module")
def served(prefect_harness: None) -> Iterator[tuple[Stack, str]]:
    """One set of loopback servers and saved blocks for the whole catalogue."""
    with stack(fresh_provider()) as running:
        name = unique("bad")
        save_fast_blocks(running, name)
        yield running, name


@pytest.fixture
def sandbox(served, tmp_path: Path) -> tuple[Stack, str, Path, int]:
    """Fresh emulators (new data, no tampering) behind the module's servers, a fresh ledger."""
    running, name = served
    provider = fresh_provider()
    refill(running, provider)
    blocks = [uid for uid, action in sorted(provider.drifted.items()) if action == "block"]
    victim = blocks[0]  # a paying customer wrongly blocked is the costliest mistake
    return running, name, tmp_path / "ledger.sqlite3", victim


def test_the_catalogue_is_big_enough():
    ids = [case.id for case in CASES]
    assert len(set(ids)) == len(ids) >= 25
    for system in ("magnus", "ixc", "discord"):
        assert any(i.startswith(system) for i in ids)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_bad_input_gives_a_clear_reason_and_no_wrong_write(sandbox, case: Case):
    running, name, ledger, victim = sandbox
    drifted: dict[int, str] = running.drifted
    assert victim in drifted
    before = actives(running)
    case.spoil(running, victim)
    spoiled = actives(running)  # data-level cases changed the victim itself

    state = await run(name, ledger, **NO_GUARD)
    after = actives(running)

    for uid, active in after.items():
        if active == spoiled[uid]:
            continue
        assert uid in drifted, f"customer {uid} was written but never drifted"
        assert active in TARGET[drifted[uid]], f"customer {uid} written to a wrong status"
        assert before[uid] == spoiled[uid], f"customer {uid} was spoiled, yet written"
    if case.victim_written:
        assert after[victim] in TARGET[drifted[victim]]
    else:
        assert after[victim] == spoiled[victim], "the victim must not be written"
    if case.run_fails is not None:
        assert state.is_failed() == case.run_fails, state.message

    if "o MagnusBilling não pôde ser lido" in (state.message or ""):
        # the run stopped before it had a plan (the customer list could not be read)
        assert case.reason in state.message, state.message
        assert running.magnus.saves == 0
        return
    texts = [state.message or ""]
    summary = await run_artifact(state.state_details.flow_run_id, "contract-sync-summary")
    rows = await decision_rows(state.state_details.flow_run_id)
    username = str(running.magnus.users[victim]["username"])
    victim_rows = [row for row in rows if row["username"] == username]
    texts += [summary, *(f"{row['reason']} {row['result']} {row['detail']}" for row in victim_rows)]
    assert any(case.reason in text for text in texts), (case.reason, texts[:1], victim_rows)
    if case.id.startswith("discord"):
        assert announced_usernames(running) == []
        assert "Alterações aplicadas ainda não avisadas" in summary
