"""Replay every exchange recorded from the real MagnusBilling against the sandbox.

The sandbox starts in the recorded server's state (fixture c) and must answer each request with
the recorded status, content type and body (passwords redacted, as in the recording).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from magnus_recording import (
    FORM,
    KEY,
    NO_READ_KEY,
    READ_ONLY_KEY,
    client_for,
    load_fixture,
    recorded_magnus,
    recorded_users,
)

from sandbox._php import http_build_query, parse_php_form
from sandbox.magnusbilling import ApiKey, MagnusBillingSandbox, sign

RECORDED = [
    "a",
    "b",
    "b2",
    "c",
    "c2",
    "d",
    "d2",
    "e",
    "f",
    "f2",
    "g",
    "h",
    "i",
    "j",
    "k",
    "k2",
    "k3",
    "l",
    "m",
]
NONCE = re.compile(r"nonce=(\d+)")


def _nonce(name: str) -> int:
    match = NONCE.search(load_fixture(name)["request"]["body"])
    assert match is not None
    return int(match.group(1))


# Recording order (nonces are timestamps): b2 and m were recorded after the save in f.
REPLAY_ORDER = sorted(RECORDED, key=_nonce)
KEY_FOR = {"k": READ_ONLY_KEY, "k3": READ_ONLY_KEY, "k2": NO_READ_KEY}
PASSWORD = re.compile(r'"password":"(?:[^"\\]|\\.)*"')


def _redacted(body: str) -> str:
    return PASSWORD.sub('"password":"<redacted>"', body)


def _headers(name: str, body: str) -> dict[str, str]:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if name == "j":
        return headers
    key = KEY_FOR.get(name, KEY)
    secret = "not-the-secret" if name == "i" else key.secret
    return headers | {"Key": key.key, "Sign": sign(secret, body)}


def _rows_by_id(body: str) -> list[dict[str, Any]]:
    return sorted(json.loads(body)["rows"], key=lambda row: row["id"])


async def test_replay_of_every_recorded_exchange() -> None:
    sandbox = recorded_magnus()
    async with client_for(sandbox.app) as client:
        for name in REPLAY_ORDER:
            recorded = load_fixture(name)
            request, expected = recorded["request"], recorded["response"]
            url = request["path"] + (f"?{request['query']}" if request["query"] else "")
            body = request["body"]
            answer = await client.post(url, content=body, headers=_headers(name, body))
            assert answer.status_code == expected["status"], name
            assert answer.headers["content-type"] == expected["content_type"], name
            if name == "e":
                assert recorded["response_extract"]["message"] in answer.text
            elif name == "c2":
                assert _rows_by_id(_redacted(answer.text)) == _rows_by_id(expected["body"])
                credits = [float(row["credit"]) for row in answer.json()["rows"]]
                assert credits == sorted(credits, reverse=True)
            else:
                assert _redacted(answer.text) == expected["body"], name
    assert sandbox.users[3]["active"] == 4
    assert sandbox.users[2]["active"] == 1
    assert sandbox.users[2]["firstname"] == "Maria Aparecida"
    assert sandbox.requests == len(REPLAY_ORDER)


def _vector_sandbox(vector: dict[str, Any]) -> MagnusBillingSandbox:
    return MagnusBillingSandbox(recorded_users(), [ApiKey(vector["key"], vector["secret"], "r")])


@pytest.mark.parametrize("index", range(len(load_fixture("signing_vectors")["cases"])))
async def test_signing_vector_is_accepted_with_the_recorded_rows(index: int) -> None:
    vector = load_fixture("signing_vectors")["cases"][index]
    assert sign(vector["secret"], vector["body"]) == vector["sign"]
    target = vector["sent_to"]
    headers = {"Key": vector["key"], "Sign": vector["sign"]} | FORM
    async with client_for(_vector_sandbox(vector).app) as client:
        answer = await client.post(
            f"{target['path']}?{target['query']}", content=vector["body"], headers=headers
        )
    recorded = vector["server_response"]
    assert answer.status_code == recorded["status"]
    assert [row["id"] for row in answer.json()["rows"]] == recorded["row_ids"]
    assert answer.json()["count"] == recorded["count"]


@pytest.mark.parametrize("index", range(len(load_fixture("signing_vectors")["rejected_cases"])))
async def test_signing_near_miss_is_rejected(index: int) -> None:
    vector = load_fixture("signing_vectors")["rejected_cases"][index]
    fields = parse_php_form(vector["body_sent"].encode())
    assert sign(vector["secret"], http_build_query(fields)) == vector["sign_server_expects"]
    headers = {"Key": vector["key"], "Sign": vector["sign_sent"]} | FORM
    async with client_for(_vector_sandbox(vector).app) as client:
        answer = await client.post(
            "/mbilling/index.php/user/read?sort=id&dir=ASC",
            content=vector["body_sent"],
            headers=headers,
        )
    assert answer.status_code == 200
    assert answer.text == vector["server_response"]["body"] == "invalid API access"


async def test_create_user_echo_matches_the_setup_recording() -> None:
    sandbox = MagnusBillingSandbox([recorded_users()[0]], [KEY], seed=1)
    generated = {"username", "password", "callingcard_pin", "creationdate"}
    async with client_for(sandbox.app) as client:
        for exchange in load_fixture("setup")["exchanges"]:
            body = exchange["request"]["body"]
            answer = await client.post(
                exchange["request"]["path"], content=body, headers=_headers("setup", body)
            )
            expected = exchange["response"]["json"]["data"]
            data = answer.json()["data"]
            assert list(data) == list(expected)
            assert {k: v for k, v in data.items() if k not in generated} == {
                k: v for k, v in expected.items() if k not in generated
            }
            assert len(data["password"]) == 10
    recorded = {row["id"]: row for row in recorded_users()}
    for user_id, record in sandbox.users.items():
        assert record["dist"] == recorded[user_id]["dist"]
        assert record["credit"] == recorded[user_id]["credit"]
        assert record["active"] == recorded[user_id]["active"]
