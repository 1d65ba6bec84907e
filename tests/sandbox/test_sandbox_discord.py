"""Discord sandbox: validation limits, rate limits, `?wait=true`, multipart uploads."""

from __future__ import annotations

import json
from typing import Any

import pytest
from magnus_recording import client_for

from sandbox.discord import DEFAULT_WEBHOOK, DiscordSandbox
from sandbox.faults import FaultKind

HOOK, TOKEN = DEFAULT_WEBHOOK
URL = f"/api/webhooks/{HOOK}/{TOKEN}"


class FakeClock:
    """Lets the rate-limit windows move without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _embed(**overrides: Any) -> dict[str, Any]:
    return {"title": "Bloqueio", "description": "Cliente 123", "color": 0xE74C3C, **overrides}


async def test_wait_true_returns_the_message_and_records_it() -> None:
    sandbox = DiscordSandbox()
    async with client_for(sandbox.app) as client:
        answer = await client.post(URL + "?wait=true", json={"content": "oi", "embeds": [_embed()]})
        quiet = await client.post(URL, json={"content": "sem wait"})
    message = answer.json()
    assert answer.status_code == 200
    assert message["content"] == "oi"
    assert message["embeds"][0]["title"] == "Bloqueio"
    assert message["channel_id"] and message["id"]
    assert message["attachments"] == []
    assert quiet.status_code == 204
    assert quiet.content == b""
    assert [m.payload["content"] for m in sandbox.messages] == ["oi", "sem wait"]
    assert sandbox.messages[0].webhook_id == HOOK


async def test_unknown_webhook_and_wrong_token() -> None:
    async with client_for(DiscordSandbox().app) as client:
        unknown = await client.post("/api/webhooks/1/x", json={"content": "a"})
        wrong = await client.post(f"/api/webhooks/{HOOK}/x", json={"content": "a"})
    assert unknown.status_code == 404
    assert unknown.json() == {"message": "Unknown Webhook", "code": 10015}
    assert wrong.status_code == 401


@pytest.mark.parametrize("payload", [{}, {"content": ""}, {"content": "  ", "embeds": []}])
async def test_empty_message_is_refused(payload: dict[str, Any]) -> None:
    sandbox = DiscordSandbox()
    async with client_for(sandbox.app) as client:
        answer = await client.post(URL, json=payload)
    assert answer.status_code == 400
    assert answer.json() == {"code": 50006, "message": "Cannot send an empty message"}
    assert sandbox.messages == []


def _with_fields(*fields: dict[str, str]) -> dict[str, Any]:
    return {"embeds": [_embed(fields=list(fields))]}


FIELD = {"name": "n", "value": "v"}


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        ({"content": "x" * 2001}, "content"),
        ({"embeds": [_embed()] * 11}, "embeds"),
        ({"embeds": [_embed(title="t" * 257)]}, "embeds.0.title"),
        ({"embeds": [_embed(description="d" * 4097)]}, "embeds.0.description"),
        (_with_fields(*[FIELD] * 26), "embeds.0.fields"),
        (_with_fields(FIELD, {"name": "n" * 257, "value": "v"}), "embeds.0.fields.1.name"),
        (_with_fields({"name": "n", "value": "v" * 1025}), "embeds.0.fields.0.value"),
        (_with_fields({"name": "n"}), "embeds.0.fields.0.value"),
        ({"embeds": [_embed(footer={"text": "f" * 2049})]}, "embeds.0.footer.text"),
        ({"embeds": [_embed(description="d" * 4000)] * 2}, "embeds._errors"),
        ({"embeds": [_embed(color=0x1000000)]}, "embeds.0.color"),
        ({"content": "a", "username": "Discord Bot"}, "username"),
    ],
)
async def test_limits_give_invalid_form_body(payload: dict[str, Any], path: str) -> None:
    sandbox = DiscordSandbox()
    async with client_for(sandbox.app) as client:
        answer = await client.post(URL, json=payload)
    body = answer.json()
    assert answer.status_code == 400
    assert (body["code"], body["message"]) == (50035, "Invalid Form Body")
    node = body["errors"]
    for key in path.split("."):
        node = node[key]
    assert node
    assert sandbox.messages == []


async def test_exact_limits_are_accepted() -> None:
    fields = [{"name": "n" * 256, "value": "v" * 1024}] * 2
    payload = {"content": "c" * 2000, "embeds": [_embed(title="t" * 256, fields=fields)]}
    async with client_for(DiscordSandbox().app) as client:
        answer = await client.post(URL, json=payload)
    assert answer.status_code == 204


async def test_rate_limit_windows_and_headers() -> None:
    clock = FakeClock()
    sandbox = DiscordSandbox(monotonic=clock)
    async with client_for(sandbox.app) as client:
        answers = [await client.post(URL, json={"content": str(n)}) for n in range(6)]
        clock.now += 1.5
        still = await client.post(URL, json={"content": "still"})
        clock.now += 0.6
        again = await client.post(URL, json={"content": "again"})
    assert [a.status_code for a in answers] == [204] * 5 + [429]
    assert answers[0].headers["X-RateLimit-Limit"] == "5"
    assert answers[0].headers["X-RateLimit-Remaining"] == "4"
    assert answers[4].headers["X-RateLimit-Remaining"] == "0"
    limited = answers[5]
    assert limited.json()["message"] == "You are being rate limited."
    assert limited.json()["retry_after"] == pytest.approx(2.0)
    assert limited.json()["global"] is False
    assert limited.headers["Retry-After"] == "2"
    assert limited.headers["Via"] == "1.1 google", "Discord's own 429 (not Cloudflare's)"
    assert limited.headers["X-RateLimit-Bucket"]
    assert still.status_code == 429
    assert still.json()["retry_after"] == pytest.approx(0.5)
    assert again.status_code == 204
    assert len(sandbox.messages) == 6


async def test_an_injected_429_looks_like_discords_own() -> None:
    sandbox = DiscordSandbox()
    sandbox.faults.add(FaultKind.RATE_LIMIT, retry_after=0.25)
    async with client_for(sandbox.app) as client:
        limited = await client.post(URL, json={"content": "x"})
    assert limited.status_code == 429
    assert limited.headers["Via"] == "1.1 google"
    assert limited.json()["retry_after"] == 0.25


async def test_minute_window_applies_too() -> None:
    clock = FakeClock()
    sandbox = DiscordSandbox(monotonic=clock, rate_limits=[(5, 2.0), (30, 60.0)])
    async with client_for(sandbox.app) as client:
        for _ in range(30):
            assert (await client.post(URL, json={"content": "x"})).status_code == 204
            clock.now += 0.5
        blocked = await client.post(URL, json={"content": "x"})
    assert blocked.status_code == 429
    assert blocked.json()["retry_after"] > 40


async def test_multipart_with_payload_json_and_files() -> None:
    sandbox = DiscordSandbox()
    payload = {"content": "relatório", "embeds": [_embed()]}
    files = {
        "files[0]": ("relatorio.csv", b"id;acao\n1;bloqueio\n", "text/csv"),
        "files[1]": ("resumo.md", b"# ok", "text/markdown"),
    }
    async with client_for(sandbox.app) as client:
        answer = await client.post(
            URL + "?wait=true", data={"payload_json": json.dumps(payload)}, files=files
        )
    assert answer.status_code == 200
    assert [a["filename"] for a in answer.json()["attachments"]] == ["relatorio.csv", "resumo.md"]
    message = sandbox.messages[0]
    assert message.payload == payload
    assert message.attachments[0] == ("relatorio.csv", b"id;acao\n1;bloqueio\n")


async def test_attachment_ids_never_collide_with_message_ids() -> None:
    sandbox = DiscordSandbox()
    files = {"files[0]": ("a.csv", b"a", "text/csv"), "files[1]": ("b.csv", b"b", "text/csv")}
    async with client_for(sandbox.app) as client:
        answers = [(await client.post(URL + "?wait=true", files=files)).json() for _ in range(3)]
    ids = [m["id"] for m in answers] + [a["id"] for m in answers for a in m["attachments"]]
    assert len(ids) == len(set(ids)) == 9


async def test_file_alone_is_not_empty_and_invalid_json_is_refused() -> None:
    async with client_for(DiscordSandbox().app) as client:
        only_file = await client.post(URL, files={"files[0]": ("a.txt", b"a", "text/plain")})
        bad_json = await client.post(
            URL, content=b"{nope", headers={"content-type": "application/json"}
        )
    assert only_file.status_code == 204
    assert bad_json.status_code == 400
    assert bad_json.json()["code"] == 50109
