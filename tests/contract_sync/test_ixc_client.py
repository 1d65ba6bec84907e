"""The IXC client against answers shaped like the real webservice's (numbers as strings...)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from blocks.errors import AuthenticationError, MalformedResponse, PermanentApiError
from blocks.http import RetryPolicy
from blocks.ixc.client import IxcClient

NO_WAIT = RetryPolicy(attempts=2, base_delay=0, jitter=0)


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
        read_retry=NO_WAIT,
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
    assert "listed 3 contracts but sent 1" in listing.failed_ids[2]


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
    ("answer", "reason"),
    [
        (
            httpx.Response(200, json={"type": "error", "message": "Tabela inválida"}),
            "Tabela inválida",
        ),
        (httpx.Response(200, json={"tipo": "erro", "mensagem": "Falha interna"}), "Falha interna"),
        (httpx.Response(200, text="<div class='erro'>Sessão expirada</div>"), "not JSON"),
        (httpx.Response(200, text='{"page": "1", "total": "3", "regis'), "broken JSON"),
        (httpx.Response(200, json={"page": "1", "total": "many"}), "'total'"),
        (httpx.Response(200, json=["not", "an", "object"]), "expected a JSON object"),
        (httpx.Response(502, text="<h1>Bad Gateway</h1>"), "HTTP 502"),
        (httpx.Response(401, text="Unauthorized"), "token refused"),
    ],
)
async def test_every_error_shape_fails_the_batch_as_read_failed_not_as_not_found(
    answer: httpx.Response, reason: str
):
    def handler(request: httpx.Request) -> httpx.Response:
        return answer

    async with client(handler) as ixc:
        listing = await ixc.contracts([1, 2])
    assert listing.contracts == {}
    assert set(listing.failed_ids) == {1, 2}
    assert all(r.startswith("IXC read failed") and reason in r for r in listing.failed_ids.values())


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
    assert listing.problems == ["IXC read failed: ixc: HTTP 503: busy (100 contracts)"]


async def test_conflicting_duplicate_rows_are_not_trusted():
    def handler(request: httpx.Request) -> httpx.Response:
        rows = [record(1, internet="A"), record(1, internet="CA"), record(2)]
        return httpx.Response(200, json={"page": "1", "total": "3", "registros": rows})

    async with client(handler) as ixc:
        listing = await ixc.contracts([1, 2])
    assert sorted(listing.contracts) == [2]
    assert "two different records" in listing.failed_ids[1]


async def test_records_without_numeric_id_are_ignored_and_reported():
    def handler(request: httpx.Request) -> httpx.Response:
        rows = [{"id": "", "status": "A"}, {"status": "A"}, "junk", record(2)]
        return httpx.Response(200, json={"page": "1", "total": "4", "registros": rows})

    async with client(handler) as ixc:
        listing = await ixc.contracts([2])
    assert sorted(listing.contracts) == [2]
    assert len(listing.problems) == 3


def test_token_must_be_id_colon_hash():
    with pytest.raises(ValueError, match="id:hash"):
        IxcClient("http://ixc.test", "no-colon")


def test_error_types():
    assert issubclass(AuthenticationError, PermanentApiError)
    assert MalformedResponse("x", system="ixc").retryable
