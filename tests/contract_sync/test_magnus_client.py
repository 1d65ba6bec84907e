"""The MagnusBilling client against the real server's recorded answers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
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
    Problem,
    ServerError,
    ValidationFailed,
    is_transient,
)
from blocks.magnusbilling.client import (
    _PLAINTEXT_ERRORS,
    IdRange,
    MagnusBillingClient,
    listing_of,
)
from blocks.magnusbilling.signing import encode_form, sign
from contract_sync.failures import failure_text
from contract_sync.texts import template
from sandbox.base import Record
from sandbox.magnusbilling import MagnusBillingSandbox, make_user, root_user
from sandbox.stack import SANDBOX_KEY

FIXTURES = Path(__file__).parents[1] / "fixtures" / "magnusbilling"
VECTORS = json.loads((FIXTURES / "signing_vectors.json").read_text())


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


async def test_read_request_is_signed_and_sorted_by_id(magnus_exchange: Load):
    seen: list[httpx.Request] = []
    async with client_for(replay(magnus_exchange("c_user_read_all_limit1000"), seen)) as magnus:
        await magnus.read_users()
    newest, listing = seen
    assert dict(newest.url.params) == {"sort": "id", "dir": "DESC"}
    assert dict(parse_qsl(newest.content.decode()))["limit"] == "1"
    request = listing
    assert request.url.path == "/mbilling/index.php/user/read"
    assert dict(request.url.params) == {"sort": "id", "dir": "ASC"}
    body = request.content.decode()
    fields = parse_qsl(body, keep_blank_values=True)
    assert [k for k, _ in fields] == ["module", "action", "start", "limit", "filter", "nonce"]
    assert dict(fields)["start"] == "0"
    assert json.loads(dict(fields)["filter"]) == [
        {"type": "numeric", "field": "id", "value": 0, "comparison": "gt"}
    ]
    assert request.headers["Key"] == "the-key"
    assert request.headers["Sign"] == sign("the-secret", body)


async def test_a_server_that_ignores_the_id_filter_is_an_error_not_a_listing(magnus_exchange: Load):
    """The mock answers ids 1-5 to every request: the range (0, 1] got ids it did not ask for."""
    seen: list[httpx.Request] = []
    async with client_for(
        replay(magnus_exchange("a_user_read_page1_limit5"), seen), page_size=5
    ) as magnus:
        with pytest.raises(MalformedResponse, match="id filter was not applied"):
            await magnus.read_users()


def sandbox_client(sandbox: MagnusBillingSandbox, **options: Any) -> MagnusBillingClient:
    return MagnusBillingClient(
        "http://magnus.test",
        SANDBOX_KEY.key,
        SANDBOX_KEY.secret,
        transport=httpx.ASGITransport(app=sandbox.app),
        **options,
    )


def customers(ids: Iterable[int]) -> list[Record]:
    return [root_user(), *(make_user(i, f"pw-{i:08}", username=f"u{i}", dist=str(i)) for i in ids)]


async def test_the_listing_reads_id_ranges_each_continued_from_its_last_id():
    """Ids 2-4 and 100-120 in pages of 5: even ranges of the id space, and the crowded last
    range read page after page from the last id seen."""
    ids = [*range(2, 5), *range(100, 121)]
    sandbox = MagnusBillingSandbox(customers(ids), [SANDBOX_KEY])
    async with sandbox_client(sandbox, page_size=5, max_concurrency=2) as magnus:
        listing = await magnus.read_users()
    assert [u.id for u in listing.users] == [1, *ids]
    assert listing.problems == []
    assert listing.reported_total == 25
    # 1 for the highest id, 4 ranges of (0, 120] with nobody in most, 5 pages of (96, ...)
    assert sandbox.reads == 1 + 4 + 5


async def test_the_listing_in_parts_is_the_listing_and_a_range_can_be_read_again():
    """What a task retry relies on: a range read again alone asks only for its own pages and
    gives the same users, and the parts put together are what `read_users` gives."""
    ids = [*range(2, 5), *range(100, 121)]
    sandbox = MagnusBillingSandbox(customers(ids), [SANDBOX_KEY])
    async with sandbox_client(sandbox, page_size=5) as magnus:
        whole = await magnus.read_users()
        plan = await magnus.plan_listing()
        assert plan.total == 25
        # the highest id, 120, split in 25 users / 5 per page ranges; the last one open-ended
        assert plan.ranges == [
            IdRange(0, 24),
            IdRange(24, 48),
            IdRange(48, 72),
            IdRange(72, 96),
            IdRange(96, None),
        ]
        ranged = [await magnus.read_range(r) for r in plan.ranges]
        reads_before = sandbox.reads
        last_again = await magnus.read_range(plan.ranges[-1])
    assert sandbox.reads - reads_before == 5
    assert last_again == ranged[-1]
    assert [u.id for users, _ in last_again for u in users] == list(range(100, 121))
    assert listing_of(plan, ranged) == whole


async def test_a_listing_with_fewer_users_than_first_counted_says_so():
    """A customer deleted after the count: the parts hold one user fewer than planned."""
    sandbox = MagnusBillingSandbox(customers(range(2, 8)), [SANDBOX_KEY])
    async with sandbox_client(sandbox, page_size=5) as magnus:
        plan = await magnus.plan_listing()
        del sandbox.users[5]
        listing = listing_of(plan, [await magnus.read_range(r) for r in plan.ranges])
    assert [u.id for u in listing.users] == [1, 2, 3, 4, 6, 7]
    assert listing.reported_total == 7
    assert listing.problems == [Problem("magnus_list_changed", {"read": 6, "total": 7})]
    assert listing.problems[0].describe("pt-BR") == (
        "a lista de usuários mudou durante a leitura: 6 de 7 lidos"
    )


class ChurnWhileListing(httpx.AsyncBaseTransport):
    """After every answer to a listing page, an operator deletes one of the customers that page
    returned and creates a new one - the delete+create that shifts offset pages."""

    def __init__(self, sandbox: MagnusBillingSandbox) -> None:
        self.sandbox = sandbox
        self.inner = httpx.ASGITransport(app=sandbox.app)
        self.deleted: set[int] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        content = await response.aread()
        returned = [row["id"] for row in json.loads(content)["rows"] if row["id"] != 1]
        if request.url.path.endswith("/user/read") and returned:
            with self.sandbox.lock:
                gone = min(returned)
                del self.sandbox.users[gone]
                self.deleted.add(gone)
                new_id = max(self.sandbox.users) + 1
                self.sandbox.users[new_id] = make_user(new_id, "pw-created", username=f"n{new_id}")
        return httpx.Response(response.status_code, headers=response.headers, content=content)


@pytest.mark.parametrize("in_flight", [1, 4])
async def test_a_customer_deleted_and_another_created_between_pages_leaves_nobody_out(
    in_flight: int,
):
    ids = range(2, 60)
    sandbox = MagnusBillingSandbox(customers(ids), [SANDBOX_KEY])
    churn = ChurnWhileListing(sandbox)
    async with MagnusBillingClient(
        "http://magnus.test",
        SANDBOX_KEY.key,
        SANDBOX_KEY.secret,
        page_size=5,
        max_concurrency=in_flight,
        transport=churn,
    ) as magnus:
        listing = await magnus.read_users()
    assert churn.deleted, "the churn happened"
    read = {u.id for u in listing.users}
    never_deleted = {1, *ids} - churn.deleted
    assert never_deleted <= read, f"left out: {sorted(never_deleted - read)}"


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
    assert listing.problems == [Problem("magnus_username_not_found", {"username": "nobody"})]
    assert str(listing.problems[0]) == "username 'nobody' not found in MagnusBilling"
    assert listing.problems[0].describe("pt-BR") == (
        "usuário 'nobody' não encontrado no MagnusBilling"
    )


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
    ("fixture", "error", "message", "reread"),
    [
        (
            "g_user_save_active_abc_validation_error",
            ValidationFailed,
            "Active must be a number",
            True,
        ),
        ("h_user_save_nonexistent_id", NotFound, "record not found", True),
        ("m_user_save_name_rejected_by_sqlinject_filter", ValidationFailed, "SQL inject", True),
        ("k_save_with_readonly_key", PermissionDenied, "lacks the permission", False),
        ("i_wrong_sign", AuthenticationError, "signature refused", False),
        ("j_no_key_sign_headers", AuthenticationError, "no API key sent", False),
    ],
)
async def test_save_errors_are_typed_and_permanent(
    magnus_exchange: Load, fixture: str, error: type[Exception], message: str, reread: bool
):
    """A refused save is re-read once (a failure answer does not prove nothing was written),
    except when the credentials were refused; the save's own error is what is raised."""
    seen: list[httpx.Request] = []
    async with client_for(replay(magnus_exchange(fixture), seen)) as magnus:
        with pytest.raises(error, match=message) as caught:
            await magnus.set_active(2, 1)
    assert not is_transient(caught.value)
    actions = [r.url.path.rsplit("/", 1)[-1] for r in seen]
    assert actions[0] == "save" and set(actions[1:]) <= {"read"}
    assert bool(actions[1:]) == reread


async def test_a_refused_key_is_said_in_the_operators_language_and_logged_in_english(
    magnus_exchange: Load,
):
    """The client speaks no operator's language: its error carries a code, said in pt-BR in a
    pt-BR report, in English in `str()` (logs)."""
    async with client_for(replay(magnus_exchange("i_wrong_sign"), [])) as magnus:
        with pytest.raises(AuthenticationError) as caught:
            await magnus.set_active(2, 1)
    pt = failure_text(caught.value, "pt-BR")
    assert pt.startswith("magnusbilling: chave de API ou assinatura recusada (o servidor disse ")
    assert failure_text(caught.value, "en").startswith("magnusbilling: API key or signature")
    assert str(caught.value).startswith("magnusbilling: API key or signature refused")


async def test_no_answer_in_time_is_said_in_the_operators_language():
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    async with client_for(httpx.MockTransport(hang)) as magnus:
        with pytest.raises(ApiTimeout) as caught:
            await magnus.set_active(2, 1)
    assert failure_text(caught.value, "pt-BR") == (
        "magnusbilling: sem resposta a tempo (ReadTimeout)"
    )
    assert failure_text(ValueError("http://x/webhooks/1/secret"), "pt-BR") == (
        "erro inesperado (ValueError)"
    ), "anything else by its type only"


def test_every_error_code_a_client_raises_has_a_text_in_both_languages():
    sources = [*(Path(__file__).parents[2] / "blocks").rglob("*.py")]
    codes = {
        code for source in sources for code in re.findall(r'\bcode="([a-z_]+)"', source.read_text())
    } | {entry[2] for entry in _PLAINTEXT_ERRORS.values()}
    assert len(codes) >= 20
    for code in sorted(codes):
        for language in ("pt-BR", "en"):
            assert template(language, f"problem.api_{code}"), code


SQL_FAILURE = {
    "success": False,
    "rows": [],
    "errors": "Technical information: CDbCommand failed to execute the SQL statement: "
    "SQLSTATE[42S22]: Column not found: 1054 Unknown column '2abc' in 'where clause'",
}


class SaveAnswers(httpx.AsyncBaseTransport):
    """The sandbox, except that every save is answered with `answer`; `write` says whether
    the sandbox saved it first (the real server's write-then-fail) or never saw it."""

    def __init__(self, sandbox: MagnusBillingSandbox, answer: dict[str, Any], write: bool):
        self.inner = httpx.ASGITransport(app=sandbox.app)
        self.answer, self.write = answer, write

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not request.url.path.endswith("/user/save"):
            return await self.inner.handle_async_request(request)
        if self.write:
            await (await self.inner.handle_async_request(request)).aread()
        return httpx.Response(200, json=self.answer)


def sandbox_with_answer(write: bool) -> tuple[MagnusBillingSandbox, MagnusBillingClient]:
    sandbox = MagnusBillingSandbox(customers([2, 3]), [SANDBOX_KEY])
    transport = SaveAnswers(sandbox, SQL_FAILURE, write)
    client = MagnusBillingClient(
        "http://magnus.test", SANDBOX_KEY.key, SANDBOX_KEY.secret, transport=transport
    )
    return sandbox, client


async def test_a_failed_save_that_was_written_is_found_by_the_reread_and_returned():
    sandbox, client = sandbox_with_answer(write=True)
    async with client as magnus:
        saved = await magnus.set_active(2, 4)
    assert (saved.id, saved.active) == (2, 4)
    assert sandbox.users[2]["active"] == 4
    assert (sandbox.saves, sandbox.reads) == (1, 1)


async def test_a_failed_save_that_wrote_nothing_raises_the_servers_error():
    sandbox, client = sandbox_with_answer(write=False)
    async with client as magnus:
        with pytest.raises(ValidationFailed, match="1054 Unknown column"):
            await magnus.set_active(2, 4)
    assert sandbox.users[2]["active"] == 1
    assert sandbox.reads == 1


async def test_the_real_servers_out_of_range_answer_is_a_clear_validation_error():
    """`active=200` comes back as an SQL error in a string (the sandbox answers it like the
    real server); the client never sends it, so the answer is replayed through a save of 4."""
    sandbox = MagnusBillingSandbox(customers([2]), [SANDBOX_KEY])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.app)) as raw_http:
        body = encode_form([("module", "user"), ("action", "save"), ("id", "2"), ("active", "200")])
        answer = await raw_http.post(
            "http://magnus.test/mbilling/index.php/user/save",
            content=body.encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Key": SANDBOX_KEY.key,
                "Sign": sign(SANDBOX_KEY.secret, body),
            },
        )
    transport = SaveAnswers(sandbox, answer.json(), write=False)
    async with MagnusBillingClient(
        "http://magnus.test", SANDBOX_KEY.key, SANDBOX_KEY.secret, transport=transport
    ) as magnus:
        with pytest.raises(ValidationFailed, match="1264 Out of range value") as caught:
            await magnus.set_active(2, 4)
    assert len(str(caught.value)) < 300, "an excerpt, not the whole SQL statement"


@pytest.mark.parametrize(
    ("fixture", "error"),
    [
        ("i_wrong_sign", AuthenticationError),
        ("j_no_key_sign_headers", AuthenticationError),
        ("k2_read_with_key_without_r", PermissionDenied),
    ],
)
async def test_read_errors_in_plaintext_are_permanent_after_one_request(
    magnus_exchange: Load, fixture: str, error: type[Exception]
):
    """Permanent: the task that reads fails at once instead of asking again."""
    seen: list[httpx.Request] = []
    async with client_for(replay(magnus_exchange(fixture), seen)) as magnus:
        with pytest.raises(error) as caught:
            await magnus.read_users()
    assert not is_transient(caught.value)
    assert len(seen) == 1


async def test_php_500_page_is_transient_after_one_request(magnus_exchange: Load):
    """Transient, so the reading task retries it; the client itself asks once."""
    seen: list[httpx.Request] = []
    async with client_for(
        replay(magnus_exchange("e_user_read_filter_dist_eq_string_only_http500"), seen)
    ) as magnus:
        with pytest.raises(ServerError, match="TypeError") as caught:
            await magnus.read_users()
    assert is_transient(caught.value)
    assert len(seen) == 1


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


async def test_a_listing_that_never_ends_is_an_error(monkeypatch):
    """A server that answers every page with a higher id and `count` saying there is more."""
    monkeypatch.setattr("blocks.magnusbilling.client.MAX_PAGES_PER_RANGE", 5)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        filters = json.loads(dict(parse_qsl(request.content.decode()))["filter"])
        after = filters[0]["value"] if filters else 0
        return httpx.Response(200, json={"rows": [{"id": after + 1}], "count": 2, "sum": []})

    async with client_for(httpx.MockTransport(handler)) as magnus:
        with pytest.raises(MalformedResponse, match="does not end"):
            await magnus.read_users()
    assert len(seen) == 1 + 5
