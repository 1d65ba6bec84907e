"""IXC sandbox: listing filters, paging, string values, missing `registros`, auth and errors."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from magnus_recording import client_for

from sandbox.ixc import MAX_RP, IxcSandbox, make_cliente, make_contract

AUTH = httpx.BasicAuth("1", "sandbox-token-hash")
LISTAR = {"ixcsoft": "listar"}
URL = "/webservice/v1/cliente_contrato"


def _sandbox() -> IxcSandbox:
    statuses = ["A", "I", "P", "N", "D"]
    contracts = [
        make_contract(
            i,
            id_cliente=1000 + i,
            status=statuses[i % 5],
            status_internet="CA" if i % 7 == 0 else "A",
            contrato="Plano Fibra Ótima" if i % 2 else "PLANO RÁDIO 10M",
        )
        for i in range(1, 101)
    ]
    clientes = [make_cliente(1001, razao="Maria da Silva", cnpj_cpf="935.411.347-80")]
    return IxcSandbox(contracts, clientes, seed=5)


async def _list(client: httpx.AsyncClient, table: str = "cliente_contrato", **body: Any) -> Any:
    answer = await client.post(f"/webservice/v1/{table}", json=body, auth=AUTH, headers=LISTAR)
    assert answer.status_code == 200
    return answer.json()


def _grid(*items: dict[str, str]) -> str:
    return json.dumps(list(items))


async def test_listing_pages_with_strings_everywhere() -> None:
    async with client_for(_sandbox().app) as client:
        page = await _list(
            client,
            qtype="cliente_contrato.id",
            query="10",
            oper=">",
            page="2",
            rp="20",
            sortname="cliente_contrato.id",
            sortorder="asc",
        )
    assert page["page"] == "2"
    assert page["total"] == "90"
    assert [row["id"] for row in page["registros"]] == [str(i) for i in range(31, 51)]
    assert all(isinstance(v, str) for row in page["registros"] for v in row.values())
    assert page["registros"][0]["id_cliente"] == "1031"


async def test_registros_is_absent_when_nothing_matches_or_past_the_end() -> None:
    async with client_for(_sandbox().app) as client:
        none = await _list(client, qtype="cliente_contrato.id", query="5000", oper="=")
        past = await _list(client, qtype="cliente_contrato.id", query="0", oper=">", page="9")
    assert none == {"page": "1", "total": "0"}
    assert past == {"page": "9", "total": "100"}


@pytest.mark.parametrize(
    ("grid", "expected"),
    [
        ({"TB": "cliente_contrato.id", "OP": "IN", "P": "3, 99,500,7"}, ["3", "7", "99"]),
        ({"TB": "cliente_contrato.id", "OP": "BE", "P": "8", "P2": "10"}, ["8", "9", "10"]),
        ({"TB": "cliente_contrato.id", "OP": "<=", "P": "2"}, ["1", "2"]),
        ({"TB": "cliente_contrato.status", "OP": "NI", "P": "A,I,P,N"}, ["4", "9", "14"]),
        ({"TB": "cliente_contrato.contrato", "OP": "L", "P": "%otima%"}, ["1", "3", "5"]),
        ({"TB": "cliente_contrato.status_internet", "OP": "=", "P": "ca"}, ["7", "14", "21"]),
    ],
)
async def test_grid_param_operators(grid: dict[str, str], expected: list[str]) -> None:
    async with client_for(_sandbox().app) as client:
        page = await _list(
            client,
            qtype="cliente_contrato.id",
            query="0",
            oper=">",
            rp="3",
            sortname="cliente_contrato.id",
            sortorder="asc",
            grid_param=_grid(grid),
        )
    assert [row["id"] for row in page["registros"]] == expected


async def test_numeric_comparison_only_when_both_sides_are_numeric() -> None:
    async with client_for(_sandbox().app) as client:
        numeric = await _list(client, qtype="cliente_contrato.id", query="9", oper="<", rp="100")
        text = await _list(client, qtype="cliente_contrato.status", query="N", oper=">", rp="100")
    assert numeric["total"] == "8"
    assert {row["status"] for row in text["registros"]} == {"P"}


async def test_sort_desc_and_other_table() -> None:
    async with client_for(_sandbox().app) as client:
        page = await _list(
            client, qtype="cliente_contrato.id", query="95", oper=">=", sortorder="desc"
        )
        cliente = await _list(client, "cliente", qtype="cliente.id", query="1001", oper="=")
    assert [row["id"] for row in page["registros"]] == ["100", "99", "98", "97", "96", "95"]
    assert cliente["registros"][0]["cnpj_cpf"] == "935.411.347-80"
    assert cliente["registros"][0]["tipo_pessoa"] == "F"


async def test_rp_is_capped() -> None:
    contracts = [make_contract(i) for i in range(1, MAX_RP + 11)]
    async with client_for(IxcSandbox(contracts).app) as client:
        page = await _list(client, qtype="cliente_contrato.id", query="0", oper=">", rp="999999")
    assert page["total"] == str(MAX_RP + 10)
    assert len(page["registros"]) == MAX_RP


@pytest.mark.parametrize(
    "body",
    [
        {"qtype": "cliente_contrato.nope", "query": "1", "oper": "="},
        {"qtype": "cliente.id", "query": "1", "oper": "="},
        {"qtype": "cliente_contrato.id", "query": "1", "oper": "LIKE"},
        {"qtype": "cliente_contrato.id", "query": "1", "oper": "=", "sortname": "x.id"},
        {"qtype": "cliente_contrato.id", "query": "1", "oper": "=", "grid_param": [{"TB": "id"}]},
        {"qtype": "cliente_contrato.id", "query": "1", "oper": "=", "grid_param": "[{"},
    ],
)
async def test_bad_listings_are_http_200_type_error(body: dict[str, Any]) -> None:
    async with client_for(_sandbox().app) as client:
        answer = await _list(client, **body)
    assert answer["type"] == "error"
    assert answer["message"]


async def test_unknown_table_missing_header_and_unparseable_body() -> None:
    async with client_for(_sandbox().app) as client:
        table = await _list(client, "radusuarios", qtype="radusuarios.id", query="1", oper="=")
        no_header = await client.post(URL, json={}, auth=AUTH)
        garbage = await client.post(URL, content=b"qtype=id", auth=AUTH, headers=LISTAR)
    assert table["type"] == "error"
    assert no_header.status_code == 200
    assert no_header.json()["type"] == "error"
    assert garbage.status_code == 200
    assert garbage.text.lstrip().startswith("<")
    with pytest.raises(json.JSONDecodeError):
        json.loads(garbage.text)


@pytest.mark.parametrize(
    "auth",
    [None, httpx.BasicAuth("1", "wrong"), httpx.BasicAuth("2", "sandbox-token-hash")],
)
async def test_bad_or_missing_token_is_401_json(auth: httpx.BasicAuth | None) -> None:
    sandbox = _sandbox()
    async with client_for(sandbox.app) as client:
        answer = await client.post(URL, json={}, auth=auth, headers=LISTAR)
    assert answer.status_code == 401
    assert answer.json()["type"] == "error"
    assert sandbox.requests == 1


async def test_state_changes_are_seen_and_counted() -> None:
    sandbox = _sandbox()
    async with client_for(sandbox.app) as client:
        with sandbox.lock:
            sandbox.contracts[3]["status"] = "I"
            sandbox.contracts[101] = {"id": "101", "status": "A"}
        first = await _list(client, qtype="cliente_contrato.id", query="3", oper="=")
        added = await _list(client, qtype="cliente_contrato.id", query="101", oper="=")
    assert first["registros"][0]["status"] == "I"
    assert added["registros"][0]["status_internet"] == "A"
    assert (sandbox.reads, sandbox.counts["cliente_contrato"]) == (2, 2)
