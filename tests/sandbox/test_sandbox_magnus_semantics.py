"""MagnusBilling sandbox behaviour beyond the recorded exchanges (same rules, other inputs)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from magnus_recording import FORM, KEY, call, client_for, recorded_magnus

from sandbox.base import flatten
from sandbox.magnusbilling import (
    CUSTOMER_TEMPLATE,
    ApiKey,
    MagnusBillingSandbox,
    make_user,
    root_user,
    sign,
)

NUMERIC_FIRST = {"type": "numeric", "field": "id", "value": 0, "comparison": "gt"}


def _ids(answer: Any) -> list[int]:
    return [row["id"] for row in answer.json()["rows"]]


def _filter(*items: dict[str, Any]) -> str:
    return json.dumps([NUMERIC_FIRST, *items])


async def test_paging_uses_start_and_ignores_page() -> None:
    async with client_for(recorded_magnus().app) as client:
        second = await call(client, "read", {"page": 1, "start": 5, "limit": 5})
        ignored = await call(client, "read", {"page": 3, "start": 5, "limit": 5})
    assert _ids(second) == [6, 7, 8, 9, 10]
    assert _ids(ignored) == _ids(second)
    assert second.json()["count"] == 13


@pytest.mark.parametrize(
    ("limit", "expected"),
    [(-1, 13), (0, 0), (3, 3), ("abc", 0), ("-7", 13), (None, 13)],
)
async def test_limit_semantics(limit: Any, expected: int) -> None:
    sandbox = recorded_magnus()
    fields = {"start": 0} if limit is None else {"start": 0, "limit": limit}
    async with client_for(sandbox.app) as client:
        answer = await call(client, "read", fields)
    assert len(answer.json()["rows"]) == expected
    assert answer.json()["count"] == 13


async def test_missing_limit_defaults_to_25_rows() -> None:
    users = [root_user(), *(make_user(i, "pw" + str(i).zfill(8)) for i in range(2, 40))]
    async with client_for(MagnusBillingSandbox(users, [KEY]).app) as client:
        answer = await call(client, "read", {"start": 0})
    assert len(answer.json()["rows"]) == 25
    assert answer.json()["count"] == 39


async def test_default_order_is_credit_desc_with_ties_stable_but_not_by_id() -> None:
    """The real server answers identical requests in the same order, ties included; the ties
    are not in id order, and a credit change reorders the rows (hence `sort=id`)."""
    users = [root_user(), *(make_user(i, "x" * 10, credit="0.0000") for i in range(2, 60))]
    users.append(make_user(60, "y" * 10, credit="9.5000"))
    sandbox = MagnusBillingSandbox(users, [KEY], seed=3)
    async with client_for(sandbox.app) as client:
        first = await call(client, "read", {"start": 0, "limit": -1}, query="")
        second = await call(client, "read", {"start": 0, "limit": -1}, query="")
        sandbox.update_user(30, credit="10.0000")
        after_credit = await call(client, "read", {"start": 0, "limit": -1}, query="")
        by_id = await call(client, "read", {"start": 0, "limit": -1}, query="sort=id&dir=DESC")
    assert _ids(first)[0] == 60
    assert _ids(first) == _ids(second)
    ties = _ids(first)[1:]
    assert ties != sorted(ties) and ties != sorted(ties, reverse=True)
    assert _ids(after_credit)[:2] == [30, 60]
    assert _ids(by_id) == sorted(_ids(by_id), reverse=True)


async def test_unknown_sort_column_is_a_database_error_page() -> None:
    async with client_for(recorded_magnus().app) as client:
        answer = await call(client, "read", {"start": 0, "limit": 5}, query="sort=nope&dir=ASC")
    assert answer.status_code == 500
    assert "Unknown column" in answer.text


async def test_string_filter_first_crashes_even_before_authentication() -> None:
    only_string = json.dumps(
        [{"type": "string", "field": "dist", "value": "1", "comparison": "eq"}]
    )
    wrong_key = ApiKey(KEY.key, "wrong-secret")
    async with client_for(recorded_magnus().app) as client:
        answer = await call(client, "read", {"start": 0, "filter": only_string}, key=wrong_key)
    assert answer.status_code == 500
    assert "preg_match(): Argument #2 ($subject)" in answer.text
    assert answer.headers["content-type"] == "text/html; charset=UTF-8"


def _cond(kind: str, field: str, value: Any, comparison: str = "eq") -> dict[str, Any]:
    return {"type": kind, "field": field, "value": value, "comparison": comparison}


ALL = list(range(1, 14))


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (_cond("string", "firstname", "JOAO VICTOR"), [13]),
        (_cond("string", "lastname", "silva", "ct"), [2]),
        (_cond("string", "email", "example.org", "ed"), [4, 8, 12]),
        (_cond("string", "dist", "4409", "df"), [2, 3, 4, 5, 8, 10, 11, 12, 13]),
        (_cond("string", "dist", "4409", "zz"), ALL),
        (_cond("numeric", "active", 2, "gt"), [7, 8, 12]),
        (_cond("numeric", "dist", 4409), [7, 9]),
        ({"type": "list", "field": "active", "value": [0, 4]}, [4, 8, 13]),
    ],
)
async def test_filters_follow_mariadb_comparisons(item: dict[str, Any], expected: list) -> None:
    async with client_for(recorded_magnus().app) as client:
        answer = await call(client, "read", {"start": 0, "limit": -1, "filter": _filter(item)})
    assert _ids(answer) == expected


async def test_unparseable_filter_means_no_filter() -> None:
    async with client_for(recorded_magnus().app) as client:
        answer = await call(client, "read", {"start": 0, "limit": -1, "filter": "[{oops"})
    assert answer.json()["count"] == 13


async def test_padded_dist_matches_a_numeric_filter_but_not_a_string_one() -> None:
    users = [
        root_user(),
        make_user(2, "a" * 10, dist=" 1520 "),
        make_user(3, "b" * 10, dist="1520"),
    ]
    numeric = {"type": "numeric", "field": "dist", "value": 1520, "comparison": "eq"}
    text = {"type": "string", "field": "dist", "value": "1520", "comparison": "eq"}
    async with client_for(MagnusBillingSandbox(users, [KEY]).app) as client:
        by_number = await call(client, "read", {"start": 0, "filter": _filter(numeric)})
        by_text = await call(client, "read", {"start": 0, "filter": _filter(text)})
    assert _ids(by_number) == [2, 3]
    assert _ids(by_text) == [3]


async def test_save_accepts_any_integer_and_answers_numbers() -> None:
    sandbox = recorded_magnus()
    async with client_for(sandbox.app) as client:
        answer = await call(client, "save", {"id": 2, "active": 9}, query="")
    row = answer.json()["rows"][0]
    assert answer.json()["success"] is True
    assert row["active"] == 9
    assert row["id"] == 2
    assert sandbox.users[2]["active"] == 9


INVALID_ACTIVE = '{"success":false,"rows":[],"errors":{"active":["Active must be a number."]}}'
FRACTIONAL_ACTIVE = '{"success":false,"rows":[],"errors":{"active":["Active must be an integer."]}}'
NOT_FOUND = '{"success":false,"rows":[],"Record not found.":null}'
INJECT = (
    '{{"rows":[],"count":0,"sum":[],'
    '"msg":"Trying SQL inject, code: {}. Controller =&gt; user. Code {}"}}'
)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"id": 2, "active": "abc"}, INVALID_ACTIVE),
        ({"id": 2, "active": "1.5"}, FRACTIONAL_ACTIVE),
        ({"id": 2, "active": "1e0"}, FRACTIONAL_ACTIVE),
        ({"id": 404, "active": 1}, NOT_FOUND),
        ({"id": 2, "active": 1, "filter": "[]"}, "You only can edit one data per time"),
        ({"id": 2, "lastname": "Printes"}, INJECT.format("printes", "print")),
        ({"id": 2, "address": "Rua X; SELECT 1"}, INJECT.format("rua x; select 1", "select ")),
    ],
)
async def test_save_refusals(fields: dict[str, Any], expected: str) -> None:
    sandbox = recorded_magnus()
    async with client_for(sandbox.app) as client:
        answer = await call(client, "save", fields, query="")
    assert answer.status_code == 200
    assert answer.text == expected
    assert sandbox.users[2]["active"] == 1
    assert sandbox.users[2]["lastname"] == "da Silva"


OUT_OF_RANGE = (
    "Technical information: CDbCommand failed to execute the SQL statement: SQLSTATE[22003]: "
    "Numeric value out of range: 1264 Out of range value for column 'active' at row 1. "
    "The SQL statement executed was: UPDATE `pkg_user` SET `id_user`=:yp0, "
)


@pytest.mark.parametrize("active", [200, 128, -129, "99999999999999999999"])
async def test_active_outside_the_tinyint_range_is_an_sql_error_as_a_string(active: Any) -> None:
    sandbox = recorded_magnus()
    async with client_for(sandbox.app) as client:
        answer = await call(client, "save", {"id": 2, "active": active}, query="")
    body = answer.json()
    assert (answer.status_code, body["success"], body["rows"]) == (200, False, [])
    assert isinstance(body["errors"], str)
    assert body["errors"].startswith(OUT_OF_RANGE)
    assert body["errors"].endswith("WHERE `pkg_user`.`id`=2")
    assert sandbox.users[2]["active"] == 1


@pytest.mark.parametrize(("active", "stored"), [(127, 127), (-128, -128), (" +4 ", 4), ("", None)])
async def test_save_stores_what_the_column_holds(active: Any, stored: int | None) -> None:
    sandbox = recorded_magnus()
    async with client_for(sandbox.app) as client:
        answer = await call(client, "save", {"id": 2, "active": active}, query="")
        read_back = await call(
            client, "read", {"start": 0, "filter": _filter(_cond("numeric", "id", 2))}
        )
    assert answer.json()["success"] is True
    assert answer.json()["rows"][0]["active"] == stored
    assert read_back.json()["rows"][0]["active"] == stored


async def test_an_id_with_trailing_text_is_written_and_still_answered_as_a_failure() -> None:
    """Seen on the real server: `id=62abc` saves user 62, then the read-back SQL fails."""
    sandbox = recorded_magnus()
    async with client_for(sandbox.app) as client:
        answer = await call(client, "save", {"id": "2abc", "active": 4}, query="")
        spaced = await call(client, "save", {"id": "3 x", "active": 0}, query="")
    body = answer.json()
    assert (body["success"], body["rows"]) == (False, [])
    assert "1054 Unknown column '2abc' in 'where clause'" in body["errors"]
    assert sandbox.users[2]["active"] == 4, "written all the same"
    assert "1064 You have an error in your SQL syntax" in spaced.json()["errors"]
    assert sandbox.users[3]["active"] == 0


async def test_extractvalue_is_not_on_the_sanitizer_list() -> None:
    sandbox = recorded_magnus()
    async with client_for(sandbox.app) as client:
        answer = await call(client, "save", {"id": 2, "lastname": "extractvalue"}, query="")
    assert answer.json()["success"] is True
    assert sandbox.users[2]["lastname"] == "extractvalue"


async def test_id_list_on_save_is_refused() -> None:
    sandbox = recorded_magnus()
    async with client_for(sandbox.app) as client:
        body = "module=user&action=save&id%5B%5D=2&id%5B%5D=3&active=0"
        php_view = "module=user&action=save&id%5B0%5D=2&id%5B1%5D=3&active=0"
        headers = {"Key": KEY.key, "Sign": sign(KEY.secret, php_view)} | FORM
        answer = await client.post("/mbilling/index.php/user/save", content=body, headers=headers)
    assert answer.text == "You only can edit one data per time"


async def test_ip_allow_list_and_partial_headers() -> None:
    elsewhere = ApiKey("ip-key", "ip-secret", allowed_ips="10.0.0.1,10.0.0.2")
    sandbox = MagnusBillingSandbox([root_user()], [elsewhere])
    async with client_for(sandbox.app) as client:
        refused = await call(client, "read", {"start": 0}, key=elsewhere)
        only_key = await client.post("/mbilling/index.php/user/read", headers={"Key": "ip-key"})
    assert refused.text == "invalid IP"
    assert only_key.text == "Access denied to All action in All modules"


async def test_counters_and_latency() -> None:
    sandbox = recorded_magnus(latency=0.05)
    started = time.perf_counter()
    async with client_for(sandbox.app) as client:
        await call(client, "read", {"start": 0})
        await call(client, "save", {"id": 3, "active": 4}, query="")
        await client.post("/mbilling/index.php/user/read")
    assert time.perf_counter() - started >= 0.15
    assert (sandbox.requests, sandbox.reads, sandbox.saves) == (3, 2, 1)
    sandbox.reset_counters()
    assert sandbox.requests == sandbox.reads == 0


async def test_body_without_form_content_type_is_not_seen_by_php() -> None:
    body = "module=user&action=read&start=0&limit=5"
    headers = {"Key": KEY.key, "Sign": sign(KEY.secret, body)}
    async with client_for(recorded_magnus().app) as client:
        unlabelled = await client.post(
            "/mbilling/index.php/user/read", content=body, headers=headers
        )
        labelled = await client.post(
            "/mbilling/index.php/user/read", content=body, headers=headers | FORM
        )
    assert unlabelled.text == "invalid API access"
    assert labelled.json()["count"] == 13


async def test_key_of_a_missing_user_and_duplicate_email_on_create() -> None:
    orphan = ApiKey("orphan-key", "orphan-secret", user_id=777)
    sandbox = recorded_magnus()
    sandbox.api_keys[orphan.key] = orphan
    duplicate = {"createUser": 1, "firstname": "Ana", "email": "jose.pereira@example.net"}
    async with client_for(sandbox.app) as client:
        refused = await call(client, "read", {"start": 0}, key=orphan)
        taken = await call(client, "save", duplicate, query="")
    assert refused.text == "invalid user"
    assert taken.text == '{"success":false,"errors":"This email already in use"}'
    assert len(sandbox.users) == 13


def test_template_records_store_only_their_own_fields() -> None:
    record = make_user(42, "s3cr3tPass", dist="1520")
    assert list(record) == list(CUSTOMER_TEMPLATE)
    assert record["city"] == "" and record["dist"] == "1520"
    record["active"] = 4
    assert record.own == {"id": 42, "password": "s3cr3tPass", "dist": "1520", "active": 4}
    assert CUSTOMER_TEMPLATE["active"] == 1
    assert "s3cr3tPass" not in repr(record)
    assert flatten(record) == dict(record)
