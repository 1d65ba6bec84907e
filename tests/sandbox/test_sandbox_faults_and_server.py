"""Fault injection, as a raw httpx client sees it, in process and over real loopback TCP."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from magnus_recording import call, client_for, recorded_magnus

from sandbox.discord import DiscordSandbox
from sandbox.faults import FaultKind, FaultPlan
from sandbox.ixc import IxcSandbox, make_contract
from sandbox.server import serve, serve_all

READ = {"start": 0, "limit": 5}


@pytest.mark.parametrize(
    ("kind", "status"),
    [(FaultKind.HTTP_500, 500), (FaultKind.HTTP_502, 502), (FaultKind.HTTP_503, 503)],
)
async def test_server_errors_are_html_pages(kind: FaultKind, status: int) -> None:
    sandbox = recorded_magnus()
    sandbox.faults.add(kind)
    async with client_for(sandbox.app) as client:
        failed = await call(client, "read", READ)
        recovered = await call(client, "read", READ)
    assert failed.status_code == status
    assert failed.text.lstrip().startswith("<html>")
    assert recovered.status_code == 200
    assert sandbox.faults.injected == {kind: 1}


async def test_rate_limit_carries_retry_after() -> None:
    sandbox = DiscordSandbox()
    sandbox.faults.add(FaultKind.RATE_LIMIT, retry_after=3.5)
    async with client_for(sandbox.app) as client:
        answer = await client.post(sandbox.url("http://sandbox"), json={"content": "x"})
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "3.5"
    assert answer.json()["retry_after"] == 3.5
    assert sandbox.messages == []


async def test_html_and_plaintext_on_http_200() -> None:
    sandbox = recorded_magnus()
    sandbox.faults.add(FaultKind.HTML_200)
    sandbox.faults.add(FaultKind.TEXT_200)
    async with client_for(sandbox.app) as client:
        html = await call(client, "read", READ)
        text = await call(client, "read", READ)
    assert (html.status_code, text.status_code) == (200, 200)
    assert "<html>" in html.text
    assert "Warning" in text.text
    for answer in (html, text):
        with pytest.raises(json.JSONDecodeError):
            answer.json()


async def test_truncated_json_is_half_a_valid_answer() -> None:
    sandbox = recorded_magnus()
    sandbox.faults.add(FaultKind.TRUNCATED_JSON)
    async with client_for(sandbox.app) as client:
        cut = await call(client, "read", READ)
        whole = await call(client, "read", READ)
    assert cut.status_code == 200
    assert whole.text.startswith(cut.text)
    assert len(cut.text) == len(whole.text) // 2
    with pytest.raises(json.JSONDecodeError):
        cut.json()


async def test_connection_reset_in_process_is_a_transport_error() -> None:
    sandbox = recorded_magnus()
    sandbox.faults.add(FaultKind.CONNECTION_RESET)
    async with client_for(sandbox.app) as client:
        with pytest.raises(httpx.TransportError):
            await call(client, "read", READ)
        assert (await call(client, "read", READ)).status_code == 200


async def test_rules_by_position_by_match_and_forever() -> None:
    sandbox = recorded_magnus()
    plan = sandbox.faults
    plan.add(FaultKind.HTTP_503, match=r"user/read", nth=2)
    plan.add(FaultKind.HTTP_500, match=r"user/read", nth=4, times=None)
    plan.add(FaultKind.HTTP_502, match=r"user/save", times=None)
    async with client_for(sandbox.app) as client:
        reads = [(await call(client, "read", READ)).status_code for _ in range(6)]
        saves = [
            (await call(client, "save", {"id": 3, "active": 4}, query="")).status_code
            for _ in range(3)
        ]
    assert reads == [200, 503, 200, 500, 500, 500]
    assert saves == [502, 502, 502]
    assert sandbox.users[3]["active"] == 1
    assert plan.injected == {FaultKind.HTTP_503: 1, FaultKind.HTTP_500: 3, FaultKind.HTTP_502: 3}
    plan.clear()
    async with client_for(sandbox.app) as client:
        assert (await call(client, "save", {"id": 3, "active": 4}, query="")).status_code == 200


async def test_match_on_body_fails_once() -> None:
    sandbox = IxcSandbox([make_contract(i) for i in range(1, 4)])
    sandbox.faults.add(FaultKind.HTTP_500, match=r'"query":\s*"2"')
    auth, headers = ("1", "sandbox-token-hash"), {"ixcsoft": "listar"}
    codes = []
    async with client_for(sandbox.app) as client:
        for query in ("1", "2", "2"):
            body = {"qtype": "id", "query": query, "oper": "="}
            url = "/webservice/v1/cliente_contrato"
            answer = await client.post(url, json=body, auth=auth, headers=headers)
            codes.append(answer.status_code)
    assert codes == [200, 500, 200]


async def _random_statuses(seed: int) -> list[int]:
    sandbox = DiscordSandbox(rate_limits=[(1000, 1.0)])
    sandbox.faults.set_rate(0.3, FaultKind.HTTP_500, FaultKind.HTTP_503, seed=seed)
    async with client_for(sandbox.app) as client:
        url = sandbox.url("http://sandbox")
        return [(await client.post(url, json={"content": "x"})).status_code for _ in range(40)]


async def test_random_faults_are_reproducible_by_seed() -> None:
    first, again = await _random_statuses(11), await _random_statuses(11)
    assert first == again
    assert {500, 503} <= set(first)
    assert 0.1 < sum(code != 204 for code in first) / len(first) < 0.5


def test_fault_plan_counts_rate_and_rules_together() -> None:
    plan = FaultPlan(rate=1.0, rate_kinds=(FaultKind.TEXT_200,))
    plan.add(FaultKind.HTTP_500, match="POST")
    kinds = [rule.kind for rule in (plan.decide("POST /x\n"), plan.decide("POST /x\n"))]
    assert kinds == [FaultKind.HTTP_500, FaultKind.TEXT_200]
    assert plan.injected == {FaultKind.HTTP_500: 1, FaultKind.TEXT_200: 1}


def test_serve_over_loopback_with_timeout_and_reset() -> None:
    sandbox = recorded_magnus()
    with serve(DiscordSandbox().app) as other, serve(sandbox.app) as base:
        assert base.startswith("http://127.0.0.1:")
        assert base != other
        with httpx.Client(base_url=base) as client:
            url = "/mbilling/index.php/user/read"
            assert client.post(url).text == "Access denied to All action in All modules"
            sandbox.faults.add(FaultKind.TIMEOUT, delay=5.0)
            started = time.perf_counter()
            with pytest.raises(httpx.ReadTimeout):
                client.post(url, timeout=0.2)
            sandbox.faults.add(FaultKind.CONNECTION_RESET)
            with pytest.raises(httpx.RemoteProtocolError):
                client.post(url)
            assert client.post(url).status_code == 200
    assert time.perf_counter() - started < 4.0
    assert sandbox.faults.injected == {FaultKind.TIMEOUT: 1, FaultKind.CONNECTION_RESET: 1}


async def test_state_changed_from_another_thread_is_served() -> None:
    sandbox = recorded_magnus()
    with serve(sandbox.app) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            before = await call(client, "read", {"start": 2, "limit": 1})
            await asyncio.to_thread(sandbox.update_user, 3, active=0)
            after = await call(client, "read", {"start": 2, "limit": 1})
    assert (before.json()["rows"][0]["active"], after.json()["rows"][0]["active"]) == (1, 0)
    assert sandbox.user(3)["active"] == 0


def test_serve_all_yields_one_url_per_app() -> None:
    discord, ixc = DiscordSandbox(), IxcSandbox()
    with serve_all(discord=discord.app, ixc=ixc.app) as urls:
        assert set(urls) == {"discord", "ixc"}
        answer = httpx.post(discord.url(urls["discord"]), json={"content": "oi"})
        assert answer.status_code == 204
    assert discord.messages[0].payload == {"content": "oi"}
    with pytest.raises(httpx.ConnectError):
        httpx.post(discord.url(urls["discord"]), json={"content": "late"})


def test_only_loopback_is_allowed() -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.1"), serve(IxcSandbox().app, host="0.0.0.0"):
        pass
