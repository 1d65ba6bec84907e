"""Discord: message shapes within the limits, 429 handling, and secrets kept out of errors."""

from __future__ import annotations

import csv
import io
import json
import time

import httpx
import pytest

from blocks.discord.block import Discord
from blocks.discord.client import DiscordWebhook
from blocks.discord.models import DiscordMessage, Embed, EmbedField, pack_embeds
from blocks.errors import ApiTimeout, NotFound, RateLimited, ValidationFailed, is_transient
from blocks.ixc.models import IxcStatusMapping
from clock import Clock
from contract_sync.decide import Action
from contract_sync.holds import apply_holds
from contract_sync.ledger import LedgerEntry, WriteState
from contract_sync.messages import COLOURS, announcements, change_embed
from contract_sync.plan import PlannedChange, build_plan
from contract_sync.report import RunReport
from contract_sync.status import Standing
from tasks.contract_sync.announcing import _outgoing

WEBHOOK = "http://discord.test/api/webhooks/123/very-secret-token"


def change(n: int, action: Action = Action.BLOCK, shared: bool = False) -> PlannedChange:
    return PlannedChange(
        magnus_id=n,
        username=f"5{n:04d}",
        customer=f"Maria da Silva {n}",
        document="935.411.347-80",
        contract_ref=str(1000 + n),
        contract_id=1000 + n,
        action=action,
        magnus_active=1,
        target_active=4 if action == Action.BLOCK else 1,
        ixc_status="A",
        ixc_status_internet="CA",
        ixc_standing=Standing.BLOCKED,
        duplicate_contract=shared,
        reason="IXC blocked",
    )


def test_embed_carries_every_field_the_team_reads_in_portuguese():
    embed = change_embed(change(7, shared=True), "pt-BR")
    assert embed.title == "Bloqueio: Maria da Silva 7"
    assert embed.color == COLOURS[Action.BLOCK]
    fields = {f.name: f.value for f in embed.fields}
    assert fields == {
        "Cliente": "Maria da Silva 7",
        "Usuário": "50007",
        "Contrato": "1007",
        "Documento": "935.411.347-80",
        "Status anterior": "1 - Ativo",
        "Novo status": "4 - Bloqueado (entrada e saída)",
        "Status IXC": "status A / internet CA",
    }
    assert "mais de um cliente" in embed.description


def test_english_is_available():
    assert change_embed(change(1, Action.UNBLOCK), "en").title.startswith("Unblock")


def test_embeds_are_packed_ten_per_message():
    messages = announcements([change(n) for n in range(23)], "pt-BR", max_embeds=30)
    assert [len(m.embeds) for m in messages] == [10, 10, 3]


def test_packing_respects_the_6000_character_total():
    big = Embed(title="x" * 200, fields=[EmbedField(name="n", value="v" * 1000)] * 2)
    messages = pack_embeds([big] * 10)
    assert all(sum(e.size() for e in m.embeds) <= 6000 for m in messages)
    assert sum(len(m.embeds) for m in messages) == 10


def test_oversized_text_is_clipped_to_discord_limits():
    embed = Embed(title="t" * 500, fields=[EmbedField(name="n" * 300, value="")]).clipped()
    assert len(embed.title) == 256
    assert len(embed.fields[0].name) == 256
    assert embed.fields[0].value == "-"


def test_many_changes_become_one_summary_with_a_csv():
    messages = announcements([change(n) for n in range(100)], "pt-BR", max_embeds=30)
    assert len(messages) == 1
    [attachment] = messages[0].attachments
    assert attachment.content.startswith(b"\xef\xbb\xbf"), "a UTF-8 BOM: Excel reads 'ação'"
    lines = attachment.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 101
    assert lines[0] == "ação;Cliente;Usuário;Contrato;Documento;Status anterior;Novo status"
    assert lines[1] == (
        "Bloqueio;Maria da Silva 0;50000;1000;935.411.347-80;1 - Ativo;"
        "4 - Bloqueado (entrada e saída)"
    )


def test_no_cell_of_the_csv_is_a_formula_a_spreadsheet_would_run():
    names = ['=HYPERLINK("http://x.test","ok")', "+55 11 9999", "-1+2", "@SUM(A1)", "Ana; Bia"]
    changes = [
        change(n).model_copy(update={"customer": name, "document": "-"})
        for n, name in enumerate(names)
    ]
    content = announcements(changes, "pt-BR", max_embeds=1)[0].attachments[0].content
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))[1:]
    assert [row[1] for row in rows] == [
        '\'=HYPERLINK("http://x.test","ok")',
        "'+55 11 9999",
        "'-1+2",
        "'@SUM(A1)",
        "Ana; Bia",
    ]
    assert {row[4] for row in rows} == {"'-"}
    assert all(len(row) == 7 for row in rows), "a ';' in a name stays inside its cell"


def test_a_late_change_and_this_runs_change_of_one_customer_are_each_flagged_on_their_own():
    """Late is a ledger entry of an earlier run, not a customer with one somewhere."""
    earlier = LedgerEntry("run-0", change(1, Action.BLOCK), WriteState.APPLIED, "")
    this_run = LedgerEntry("run-1", change(1, Action.UNBLOCK), WriteState.APPLIED, "")
    other = LedgerEntry("run-1", change(2), WriteState.APPLIED, "")
    discord = Discord(webhook_url=WEBHOOK)
    clock = Clock.in_zone("America/Sao_Paulo")
    plan, _ = apply_holds(
        build_plan([], {}, {}, IxcStatusMapping(), 4), [], clock.now(), "pt-BR", clock.zone
    )
    report = RunReport(plan=plan, dry_run=False)
    outgoing = _outgoing([earlier, this_run, other], "run-1", report, discord, "contract-sync")
    embeds = outgoing[0].message.embeds
    late = "Aplicada em uma execução anterior que não chegou a avisar."
    assert [late in (embed.description or "") for embed in embeds] == [True, False, False]
    summary = outgoing[-1].message.embeds[0].description or ""
    assert "1 alteração(ões) aplicadas por uma execução anterior" in summary


async def test_a_429_is_one_request_raising_rate_limited_with_discords_retry_after():
    """The post is not delivered and says how long Discord asked to wait (the task waits it
    out before its retry); the retry's post is delivered once."""
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            return httpx.Response(429, json={"retry_after": 0.2, "global": False})
        return httpx.Response(200, json={"id": "1"})

    async with DiscordWebhook(WEBHOOK, transport=httpx.MockTransport(handler)) as hook:
        with pytest.raises(RateLimited) as caught:
            await hook.post(DiscordMessage(content="oi"))
        assert len(calls) == 1
        await hook.post(DiscordMessage(content="oi"))
    assert len(calls) == 2
    assert caught.value.retry_after == 0.2
    assert is_transient(caught.value)
    assert "very-secret-token" not in str(caught.value)


async def test_an_empty_bucket_delays_the_next_message():
    calls: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(time.monotonic())
        headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "0.25"}
        return httpx.Response(200, json={"id": "1"}, headers=headers)

    async with DiscordWebhook(WEBHOOK, transport=httpx.MockTransport(handler)) as hook:
        await hook.post(DiscordMessage(content="1"))
        await hook.post(DiscordMessage(content="2"))
    assert calls[1] - calls[0] >= 0.25


async def test_payload_and_attachment_shape():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "1"})

    message = announcements([change(n) for n in range(40)], "pt-BR", max_embeds=30)[0]
    async with DiscordWebhook(WEBHOOK, transport=httpx.MockTransport(handler)) as hook:
        await hook.post(DiscordMessage(embeds=[change_embed(change(1), "pt-BR")]))
        await hook.post(message)
    first = json.loads(seen[0].content)
    assert first["embeds"][0]["title"] == "Bloqueio: Maria da Silva 1"
    assert first["allowed_mentions"] == {"parse": []}
    assert seen[0].url.params["wait"] == "true"
    assert seen[1].headers["Content-Type"].startswith("multipart/form-data")
    assert b'filename="alteracoes.csv"' in seen[1].content


@pytest.mark.parametrize(("status", "error"), [(400, ValidationFailed), (404, NotFound)])
async def test_refusals_are_permanent_and_never_show_the_webhook_token(status, error):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"message": "Invalid Form Body", "code": 50035})

    async with DiscordWebhook(WEBHOOK, transport=httpx.MockTransport(handler)) as hook:
        with pytest.raises(error) as caught:
            await hook.post(DiscordMessage(content="x"))
    assert "very-secret-token" not in str(caught.value)
    assert "very-secret-token" not in repr(caught.value.__cause__)


async def test_connection_errors_do_not_leak_the_webhook_url():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}", request=request)

    async with DiscordWebhook(WEBHOOK, transport=httpx.MockTransport(handler)) as hook:
        with pytest.raises(Exception, match="could not connect") as caught:
            await hook.post(DiscordMessage(content="x"))
    assert is_transient(caught.value)
    assert not isinstance(caught.value, ApiTimeout), "a refused connection is not a timeout"
    assert "very-secret-token" not in str(caught.value)
    assert caught.value.__cause__ is None
