"""The IXC client against answers shaped like the real webservice's (numbers as strings...)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from blocks.errors import (
    ApiError,
    AuthenticationError,
    MalformedResponse,
    PermanentApiError,
    Problem,
    ServerError,
    is_transient,
)
from blocks.ixc.client import IxcClient, listing_of


def record(contract_id: int, status: str = "A", internet: str = "A") -> dict[str, str]:
    return {
        "id": str(contract_id),
        "id_cliente": str(contract_id + 7),
        "status": status,
        "status_internet": internet,
        "contrato": "PLANO 300MB",
        "data_ativacao": "2024-01-10",
    }


def table_server(
    table: dict[int, dict[str, str]], seen: list[dict[str, Any]]
) -> Callable[[httpx.Request], httpx.Response]:
    """A tiny stand-in honouring qtype/oper, the IN grid filter and paging, as IXC does."""

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body)
        rows = sorted(table.values(), key=lambda r: int(r["id"]))
        for condition in json.loads(body.get("grid_param", "[]")):
            allowed = set(condition["P"].split(","))
            rows = [r for r in rows if r["id"] in allowed]
        page, per_page = int(body["page"]), int(body["rp"])
        chunk = rows[(page - 1) * per_page : page * per_page]
        answer: dict[str, Any] = {"page": str(page), "total": str(len(rows))}
        if chunk:
            answer["registros"] = chunk
        return httpx.Response(200, json=answer)

    return handler


def client(handler: Callable[[httpx.Request], httpx.Response], **options: Any) -> IxcClient:
    return IxcClient(
        "http://ixc.test",
        "12:abcdef",
        transport=httpx.MockTransport(handler),
        **options,
    )


async def test_contracts_are_read_in_batches_with_the_in_filter():
    table = {n: record(n) for n in range(1, 5001)}
    seen: list[dict[str, Any]] = []
    async with client(table_server(table, seen), batch_size=100) as ixc:
        listing = await ixc.contracts([5, 17, 250, 4999, 123456])
    assert sorted(listing.contracts) == [5, 17, 250, 4999]
    assert listing.failed_ids == {}
    assert listing.strategy == "by-id"
    grid = json.loads(seen[-1]["grid_param"])
    assert grid == [{"TB": "cliente_contrato.id", "OP": "IN", "P": "5,17,250,4999,123456"}]
    assert len(seen) == 2  # table size + one batch


async def test_full_listing_is_chosen_when_it_takes_fewer_requests():
    table = {n: record(n, internet="CA" if n % 2 else "A") for n in range(1, 1001)}
    seen: list[dict[str, Any]] = []
    async with client(table_server(table, seen), batch_size=50, page_size=500) as ixc:
        listing = await ixc.contracts(range(1, 900))
    assert listing.strategy == "full-listing"
    assert len(listing.contracts) == 899
    assert len(seen) == 1 + 2
    assert listing.contracts[3].status_internet == "CA"


async def test_a_batch_larger_than_a_page_follows_the_pages():
    table = {n: record(n) for n in range(1, 31)}
    seen: list[dict[str, Any]] = []

    def capped(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        body["rp"] = str(min(int(body["rp"]), 10))  # a server that caps rows per page
        capped_request = httpx.Request("POST", request.url, content=json.dumps(body).encode())
        return table_server(table, seen)(capped_request)

    async with client(capped, batch_size=30) as ixc:
        listing = await ixc.contracts(range(1, 31))
    assert len(listing.contracts) == 30
    assert listing.failed_ids == {}


async def test_a_listing_shorter_than_its_total_is_a_read_failure():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"page": "1", "total": "3", "registros": [record(1)]})

    async with client(handler) as ixc:
        listing = await ixc.contracts([1, 2, 3])
    assert sorted(listing.failed_ids) == [1, 2, 3]
    assert "listed 3 contracts but sent 1" in str(listing.failed_ids[2])


async def test_numbers_as_strings_and_missing_registros_are_understood():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"page": "1", "total": "0"})

    async with client(handler) as ixc:
        listing = await ixc.contracts([1, 2])
    assert listing.contracts == {}
    assert listing.failed_ids == {}


async def test_sends_basic_auth_and_the_listing_header():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"page": "1", "total": "1", "registros": [record(1)]})

    async with client(handler) as ixc:
        await ixc.contracts([1])
    assert seen[0].headers["ixcsoft"] == "listar"
    assert seen[0].headers["Authorization"] == "Basic " + base64.b64encode(b"12:abcdef").decode()
    assert seen[0].url.path == "/webservice/v1/cliente_contrato"


@pytest.mark.parametrize(
    ("answer", "reason", "transient"),
    [
        (
            httpx.Response(200, json={"type": "error", "message": "Tabela inválida"}),
            "Tabela inválida",
            False,
        ),
        (
            httpx.Response(200, json={"tipo": "erro", "mensagem": "Falha interna"}),
            "Falha interna",
            False,
        ),
        (httpx.Response(200, text="<div class='erro'>Sessão expirada</div>"), "not JSON", True),
        (httpx.Response(200, text='{"page": "1", "total": "3", "regis'), "broken JSON", True),
        (httpx.Response(200, json={"page": "1", "total": "many"}), "'total'", True),
        (httpx.Response(200, json=["not", "an", "object"]), "expected a JSON object", True),
        (httpx.Response(502, text="<h1>Bad Gateway</h1>"), "HTTP 502", True),
        (httpx.Response(401, text="Unauthorized"), "token refused", False),
    ],
)
async def test_every_error_shape_fails_the_batch_as_read_failed_not_as_not_found(
    answer: httpx.Response, reason: str, transient: bool
):
    """Failed ids (never "not found"), each with the error's detail, after one request per
    call; the part's error is typed so that only a transient one is retried by its task."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer

    async with client(handler) as ixc:
        listing = await ixc.contracts([1, 2])
        assert len(seen) == 2  # the table size, then the one batch: each asked once
        plan = ixc.reading_plan([1, 2], table_size=None)
        with pytest.raises(ApiError, match=reason) as caught:
            await ixc.read_part(plan, plan.parts[0])
    assert len(seen) == 3
    assert is_transient(caught.value) is transient
    assert listing.contracts == {}
    assert set(listing.failed_ids) == {1, 2}
    assert {str(p) for p in listing.failed_ids.values()} == {str(caught.value)}
    assert str(caught.value).startswith("ixc: ") and reason in str(caught.value)


def server_error(status: int, detail: str) -> Problem:
    """What a failed read says about an IXC 5xx (in the operators' language when shown)."""
    problem = Problem("api_server_error", {"system": "ixc", "status": status, "detail": detail})
    assert str(problem) == f"ixc: HTTP {status}: {detail}"
    return problem


async def test_one_failing_batch_does_not_hide_the_others():
    table = {n: record(n) for n in range(1, 201)}
    seen: list[dict[str, Any]] = []
    healthy = table_server(table, seen)

    def handler(request: httpx.Request) -> httpx.Response:
        grid = json.loads(json.loads(request.content).get("grid_param", "[]"))
        if grid and grid[0]["P"].startswith("101,"):
            return httpx.Response(503, text="busy")
        return healthy(request)

    async with client(handler, batch_size=100, page_size=50) as ixc:
        listing = await ixc.contracts(range(1, 201))
    assert sorted(listing.contracts) == list(range(1, 101))
    assert sorted(listing.failed_ids) == list(range(101, 201))
    assert {str(p) for p in listing.failed_ids.values()} == {"ixc: HTTP 503: busy"}
    assert listing.problems == [
        Problem("ixc_read_failed", {"why": server_error(503, "busy"), "count": 100})
    ]
    assert str(listing.problems[0]) == "IXC read failed: ixc: HTTP 503: busy (100 contracts)"
    assert listing.problems[0].describe("pt-BR") == (
        "leitura do IXC falhou: ixc: HTTP 503: busy (100 contratos)"
    )


def test_the_reading_plan_takes_batches_unless_the_full_listing_is_fewer_requests():
    ixc = IxcClient("http://ixc.test", "12:abcdef", batch_size=2, page_size=10)
    by_id = ixc.reading_plan([5, 1, 3, 1, 9], table_size=None)  # size unknown: always by id
    assert (by_id.strategy, by_id.wanted, by_id.parts) == ("by-id", [1, 3, 5, 9], [[1, 3], [5, 9]])
    assert ixc.reading_plan([5, 1, 3, 9], table_size=20).strategy == "by-id"  # 2 pages, 2 batches
    full = ixc.reading_plan([5, 1, 3, 9, 11], table_size=20)  # 2 pages beat 3 batches
    assert (full.strategy, full.parts, full.table_size) == ("full-listing", [1, 2], 20)
    assert ixc.reading_plan([], table_size=20).parts == []


async def test_a_part_read_again_after_a_failure_fills_in_what_it_had_left_failed():
    """What a task retry relies on: each batch is read on its own, and the listing is put
    together from whatever each part finally gave - records, or the error it failed with."""
    table = {n: record(n) for n in range(1, 7)}
    seen: list[dict[str, Any]] = []
    answers = iter([httpx.Response(503, text="busy")])
    healthy = table_server(table, seen)

    def handler(request: httpx.Request) -> httpx.Response:
        grid = json.loads(json.loads(request.content).get("grid_param", "[]"))
        if grid and grid[0]["P"] == "3,4":
            return next(answers, None) or healthy(request)
        return healthy(request)

    async with client(handler, batch_size=2) as ixc:
        plan = ixc.reading_plan(range(1, 7), table_size=None)
        first, second, third = plan.parts
        with pytest.raises(ServerError) as caught:
            await ixc.read_part(plan, second)
        read_first, read_third = await ixc.read_part(plan, first), await ixc.read_part(plan, third)
        failed = listing_of(plan, [read_first, caught.value, read_third])
        read_second = await ixc.read_part(plan, second)  # what the task's retry does
    retried = listing_of(plan, [read_first, read_second, read_third])
    assert sorted(failed.contracts) == [1, 2, 5, 6]
    busy = Problem("ixc_error", {"why": server_error(503, "busy")})
    assert failed.failed_ids == {3: busy, 4: busy}
    assert sorted(retried.contracts) == [1, 2, 3, 4, 5, 6]
    assert (retried.failed_ids, retried.problems) == ({}, [])


async def test_a_failed_page_of_the_full_listing_leaves_every_contract_not_found_failed():
    """A page's ids cannot be known before it is read: any wanted contract not seen on the
    pages that were read is failed, not "not found"."""
    table = {n: record(n) for n in range(1, 21)}
    seen: list[dict[str, Any]] = []
    async with client(table_server(table, seen), batch_size=1, page_size=10) as ixc:
        plan = ixc.reading_plan([2, 15, 99], table_size=await ixc.table_size())
        assert (plan.strategy, plan.parts) == ("full-listing", [1, 2])
        page_one = await ixc.read_part(plan, 1)
    timeout = ServerError("HTTP 504: gateway", system="ixc", status_code=504)
    listing = listing_of(plan, [page_one, timeout])
    assert sorted(listing.contracts) == [2]
    gateway = Problem("ixc_error", {"why": timeout.problem})
    assert str(gateway) == "ixc: HTTP 504: gateway"
    assert listing.failed_ids == {15: gateway, 99: gateway}


async def test_conflicting_duplicate_rows_are_not_trusted():
    def handler(request: httpx.Request) -> httpx.Response:
        rows = [record(1, internet="A"), record(1, internet="CA"), record(2)]
        return httpx.Response(200, json={"page": "1", "total": "3", "registros": rows})

    async with client(handler) as ixc:
        listing = await ixc.contracts([1, 2])
    assert sorted(listing.contracts) == [2]
    assert listing.failed_ids[1] == Problem("ixc_two_records")
    assert listing.failed_ids[1].describe("pt-BR") == (
        "o IXC devolveu dois registros diferentes para este id"
    )


async def test_records_without_numeric_id_are_ignored_and_reported():
    def handler(request: httpx.Request) -> httpx.Response:
        rows = [{"id": "", "status": "A"}, {"status": "A"}, "junk", record(2)]
        return httpx.Response(200, json={"page": "1", "total": "4", "registros": rows})

    async with client(handler) as ixc:
        listing = await ixc.contracts([2])
    assert sorted(listing.contracts) == [2]
    assert listing.problems == [Problem("ixc_record_without_id")] * 3


def test_token_must_be_id_colon_hash():
    with pytest.raises(ValueError, match="id:hash"):
        IxcClient("http://ixc.test", "no-colon")


def test_error_types():
    assert issubclass(AuthenticationError, PermanentApiError)
    assert MalformedResponse("x", system="ixc").retryable
