"""The MagnusBilling client against the real server's recorded answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from blocks.errors import (
    ApiTimeout,
    AuthenticationError,
    MalformedResponse,
    NotFound,
    PermissionDenied,
    ServerError,
    ValidationFailed,
    is_transient,
)
from blocks.http import RetryPolicy
from blocks.magnusbilling.client import MagnusBillingClient
from blocks.magnusbilling.signing import encode_form, sign

FIXTURES = Path(__file__).parents[1] / "fixtures" / "magnusbilling"
VECTORS = json.loads((FIXTURES / "signing_vectors.json").read_text())
NO_WAIT = RetryPolicy(attempts=2, base_delay=0, jitter=0)


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: c["description"][:40])
def test_signing_matches_what_the_real_server_accepted(case: dict[str, Any]) -> None:
    body = encode_form([tuple(pair) for pair in case["fields"]])
    assert body == case["body"]
    assert sign(case["secret"], body) == case["sign"]


@pytest.mark.parametrize("case", VECTORS["rejected_cases"], ids=lambda c: c["description"][:40])
def test_signing_does_not_repeat_the_rejected_mistakes(case: dict[str, Any]) -> None:
    body = encode_form([tuple(pair) for pair in case["fields"]])
    assert sign(case["secret"], body) == case["sign_server_expects"]
    assert sign(case["secret"], body) != case["sign_sent"]


def replay(exchange: dict[str, Any], seen: list[httpx.Request]) -> httpx.MockTransport:
    """Answer every request with the recorded response, keeping the requests for inspection."""
    recorded = exchange["response"]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            recorded["status"],
            content=recorded["body"].encode(),
            headers={"Content-Type": recorded["content_type"]},
        )

    return httpx.MockTransport(handler)


def client_for(transport: httpx.AsyncBaseTransport, **options: Any) -> MagnusBillingClient:
    return MagnusBillingClient(
        "http://magnus.test",
        "the-key",
        "the-secret",
        read_retry=NO_WAIT,
        transport=transport,
        **options,
    )


Load = Callable[[str], dict[str, Any]]


async def test_read_all_users_parses_every_row_without_keeping_passwords(magnus_exchange: Load):
    seen: list[httpx.Request] = []
    async with client_for(replay(magnus_exchange("c_user_read_all_limit1000"), seen)) as magnus:
        listing = await magnus.read_users()
    assert [u.id for u in listing.users] == list(range(1, 14))
    assert listing.reported_total == 13
    assert listing.problems == []
    by_id = {u.id: u for u in listing.users}
    assert by_id[2].contract_ref == "1520" and by_id[2].active == 1
    assert by_id[6].contract_ref is None and by_id[10].contract_ref == ""
    assert by_id[7].contract_ref == by_id[9].contract_ref == "4409"
    assert {u.active for u in listing.users} == {0, 1, 2, 3, 4}
    assert all("password" not in u.model_dump() for u in listing.users)
    assert "redacted" not in repr(listing)


async def test_read_request_is_signed_sorted_by_id_and_offset_by_start(magnus_exchange: Load):
    seen: list[httpx.Request] = []
    async with client_for(replay(magnus_exchange("c_user_read_all_limit1000"), seen)) as magnus:
        await magnus.read_users()
    request = seen[0]
    assert request.url.path == "/mbilling/index.php/user/read"
    assert dict(request.url.params) == {"sort": "id", "dir": "ASC"}
    body = request.content.decode()
    fields = parse_qsl(body, keep_blank_values=True)
    assert [k for k, _ in fields] == ["module", "action", "start", "limit", "filter", "nonce"]
    assert dict(fields)["start"] == "0" and dict(fields)["filter"] == "[]"
    assert request.headers["Key"] == "the-key"
    assert request.headers["Sign"] == sign("the-secret", body)


async def test_pages_are_read_by_start_offset_until_count(magnus_exchange: Load):
    """13 users in pages of 5: three requests with start 0, 5 and 10."""
    seen: list[httpx.Request] = []
    async with client_for(
        replay(magnus_exchange("a_user_read_page1_limit5"), seen), page_size=5
    ) as magnus:
        listing = await magnus.read_users()
    starts = sorted(dict(parse_qsl(r.content.decode()))["start"] for r in seen)
    assert starts == ["0", "10", "5"]
    # The mock answers page 1 every time: duplicates collapse, and the shortfall is reported.
    assert [u.id for u in listing.users] == [1, 2, 3, 4, 5]
    assert any("changed while it was read" in p for p in listing.problems)


async def test_a_string_filter_is_always_preceded_by_a_numeric_one(magnus_exchange: Load):
    seen: list[httpx.Request] = []
    async with client_for(
        replay(magnus_exchange("d2_user_read_filter_dist_eq_single_match"), seen)
    ) as magnus:
        await magnus.read_users_named(["76795"])
    filters = json.loads(dict(parse_qsl(seen[0].content.decode()))["filter"])
    assert filters[0] == {"type": "numeric", "field": "id", "value": 0, "comparison": "gt"}
    assert filters[1]["type"] == "string" and filters[1]["value"] == "76795"


async def test_unknown_username_is_reported(magnus_exchange: Load):
    seen: list[httpx.Request] = []
    async with client_for(replay(magnus_exchange("l_user_read_limit0"), seen)) as magnus:
        listing = await magnus.read_users_named(["nobody"])
    assert listing.users == []
    assert listing.problems == ["username 'nobody' not found in MagnusBilling"]


async def test_save_returns_the_saved_user(magnus_exchange: Load):
    seen: list[httpx.Request] = []
    async with client_for(replay(magnus_exchange("f_user_save_active_1_to_4"), seen)) as magnus:
        saved = await magnus.set_active(3, 4)
    assert (saved.id, saved.active, saved.contract_ref) == (3, 4, "88231")
    fields = parse_qsl(seen[0].content.decode())
    assert fields[:4] == [("module", "user"), ("action", "save"), ("id", "3"), ("active", "4")]


async def test_save_answer_with_another_status_is_not_taken_as_success(magnus_exchange: Load):
    seen: list[httpx.Request] = []
    async with client_for(replay(magnus_exchange("f_user_save_active_1_to_4"), seen)) as magnus:
        with pytest.raises(MalformedResponse, match="active=4"):
            await magnus.set_active(3, 0)


@pytest.mark.parametrize("active", [-1, 5, 9])
async def test_values_outside_0_to_4_are_never_sent(active: int):
    seen: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200))
    async with client_for(transport) as magnus:
        with pytest.raises(ValueError, match="only 0-4"):
            await magnus.set_active(2, active)
    assert seen == []


@pytest.mark.parametrize(
    ("fixture", "error", "message"),
    [
        ("g_user_save_active_abc_validation_error", ValidationFailed, "Active must be a number"),
        ("h_user_save_nonexistent_id", NotFound, "record not found"),
        ("m_user_save_name_rejected_by_sqlinject_filter", ValidationFailed, "Trying SQL inject"),
        ("k_save_with_readonly_key", PermissionDenied, "lacks the permission"),
        ("i_wrong_sign", AuthenticationError, "signature refused"),
        ("j_no_key_sign_headers", AuthenticationError, "no API key sent"),
    ],
)
async def test_save_errors_are_typed_and_permanent(
    magnus_exchange: Load, fixture: str, error: type[Exception], message: str
):
    seen: list[httpx.Request] = []
    async with client_for(replay(magnus_exchange(fixture), seen)) as magnus:
        with pytest.raises(error, match=message) as caught:
            await magnus.set_active(2, 1)
    assert not is_transient(caught.value)
    assert len(seen) == 1


@pytest.mark.parametrize(
    ("fixture", "error"),
    [
        ("i_wrong_sign", AuthenticationError),
        ("j_no_key_sign_headers", AuthenticationError),
        ("k2_read_with_key_without_r", PermissionDenied),
    ],
)
async def test_read_errors_in_plaintext_are_not_retried(
    magnus_exchange: Load, fixture: str, error: type[Exception]
):
    seen: list[httpx.Request] = []
    async with client_for(replay(magnus_exchange(fixture), seen)) as magnus:
        with pytest.raises(error):
            await magnus.read_users()
    assert len(seen) == 1


async def test_php_500_page_is_transient_and_retried(magnus_exchange: Load):
    seen: list[httpx.Request] = []
    async with client_for(
        replay(magnus_exchange("e_user_read_filter_dist_eq_string_only_http500"), seen)
    ) as magnus:
        with pytest.raises(ServerError, match="TypeError") as caught:
            await magnus.read_users()
    assert is_transient(caught.value)
    assert len(seen) == NO_WAIT.attempts


async def test_read_of_one_user(magnus_exchange: Load):
    seen: list[httpx.Request] = []
    async with client_for(replay(magnus_exchange("f2_user_read_back_after_save"), seen)) as magnus:
        user = await magnus.read_user(3)
        with pytest.raises(NotFound):
            await magnus.read_user(4)
    assert user.active == 4
    assert json.loads(dict(parse_qsl(seen[0].content.decode()))["filter"]) == [
        {"type": "numeric", "field": "id", "value": 3, "comparison": "eq"}
    ]


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (200, '{"rows":[{"id":1,"username":"root","password":"s3cr', MalformedResponse),
        (200, "<html><body>Bad gateway</body></html>", MalformedResponse),
        (200, "", MalformedResponse),
        (200, '{"rows": "nope", "count": 1}', MalformedResponse),
        (200, '{"rows": [], "count": "13"}', MalformedResponse),
        (401, "Unauthorized", PermissionDenied),
        (503, "<h1>Service Unavailable</h1>", ServerError),
        (200, b"\xff\xfe not utf-8", MalformedResponse),
    ],
)
async def test_bad_answers_become_clear_errors_without_customer_data(
    status: int, body: str | bytes, error: type[Exception]
):
    content = body.encode() if isinstance(body, str) else body
    transport = httpx.MockTransport(lambda r: httpx.Response(status, content=content))
    async with client_for(transport) as magnus:
        with pytest.raises(error) as caught:
            await magnus.read_users()
    assert "s3cr" not in str(caught.value)


async def test_timeouts_become_transient_errors_without_the_url():
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    async with client_for(httpx.MockTransport(hang)) as magnus:
        with pytest.raises(ApiTimeout) as caught:
            await magnus.read_users()
    assert is_transient(caught.value)
    assert "magnus.test" not in str(caught.value)
