"""Seed data invariants: the demo covers every case; synthetic data is consistent but drifts."""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from typing import Any

import httpx
from magnus_recording import KEY, call, client_for

from sandbox.base import flatten
from sandbox.ixc import IxcSandbox
from sandbox.magnusbilling import MagnusBillingSandbox
from sandbox.world import (
    CONTRACT_STATUS,
    INTERNET_STATUS,
    MAGNUS_ACTIVE,
    ODD_DISTS,
    SHARED_CONTRACT,
    Provider,
    demo_provider,
    synthetic_provider,
)


def _valid_document(document: str) -> bool:
    """Independent CPF/CNPJ check-digit test (mod 11)."""
    digits = [int(c) for c in re.sub(r"\D", "", document)]
    if len(digits) == 11:
        weight_sets = [list(range(10, 1, -1)), list(range(11, 1, -1))]
    elif len(digits) == 14:
        weight_sets = [
            [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2],
            [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2],
        ]
    else:
        return False
    for position, weights in zip((-2, -1), weight_sets, strict=True):
        body = digits[: len(weights)]
        remainder = sum(d * w for d, w in zip(body, weights, strict=True)) % 11
        if digits[position] != (0 if remainder < 2 else 11 - remainder):
            return False
    return True


def _contracts(provider: Provider) -> dict[str, Any]:
    return {row["id"]: row for row in provider.ixc_contracts}


def test_demo_is_deterministic_and_realistically_sized() -> None:
    first, second = demo_provider(), demo_provider()
    assert [flatten(u) for u in first.magnus_users] == [flatten(u) for u in second.magnus_users]
    assert 100 <= len(first.magnus_users) <= 250
    ids = [user["id"] for user in first.magnus_users]
    assert len(set(ids)) == len(ids)
    assert len({u["username"] for u in first.magnus_users}) == len(ids)
    assert len(_contracts(first)) == len(first.ixc_contracts)


def test_demo_covers_every_status_combination() -> None:
    provider = demo_provider()
    contracts = _contracts(provider)
    seen = {
        (
            user["active"],
            contracts[user["dist"]]["status"],
            contracts[user["dist"]]["status_internet"],
        )
        for user in provider.magnus_users
        if user["dist"] in contracts
    }
    wanted = set(itertools.product(MAGNUS_ACTIVE, CONTRACT_STATUS, INTERNET_STATUS))
    assert wanted <= seen


def test_demo_has_every_data_accident() -> None:
    provider = demo_provider()
    contracts = _contracts(provider)
    users = provider.magnus_users
    dists = [user["dist"] for user in users]
    root = users[0]
    assert (root["id"], root["username"], root["dist"], root["id_group"]) == (1, "root", None, 1)
    for odd in ODD_DISTS:
        assert odd in dists
    assert dists.count(str(SHARED_CONTRACT)) == 2
    assert any(user["active"] == 9 for user in users)
    unknown = {
        user["active"]
        for user in users
        if user["dist"] and user["dist"].strip().isdigit() and user["dist"] not in contracts
    }
    assert unknown == set(MAGNUS_ACTIVE)
    assert " 1520 ".strip() in contracts


def test_demo_records_look_real() -> None:
    provider = demo_provider()
    customers = provider.magnus_users[1:]
    assert all(len(user["password"]) == 10 for user in customers)
    assert all(_valid_document(user["doc"]) for user in customers)
    assert any("." in user["doc"] for user in customers)
    assert any(user["doc"].isdigit() for user in customers)
    assert any(user["company_name"] for user in customers)
    assert all(_valid_document(c["cnpj_cpf"]) for c in provider.ixc_clientes)
    for row in itertools.chain(provider.ixc_contracts, provider.ixc_clientes):
        assert all(isinstance(value, str) for value in flatten(row).values())
    cliente_ids = {c["id"] for c in provider.ixc_clientes}
    assert all(row["id_cliente"] in cliente_ids for row in provider.ixc_contracts)


def _consistent(active: int, status: str, internet: str) -> bool:
    if status in ("I", "D"):
        return active == 0
    if status == "A" and internet == "A":
        return active == 1
    return status == "A" and internet in ("CA", "CM", "FA") and active == 4


def test_synthetic_provider_is_consistent_except_the_drift() -> None:
    provider = synthetic_provider(4000, 9000, drift=0.05, seed=3)
    contracts = _contracts(provider)
    customers = provider.magnus_users[1:]
    assert len(customers) == 4000
    assert len(provider.ixc_contracts) == 9000
    managed = [user for user in customers if user["dist"]]
    assert len(customers) - len(managed) == 40
    assert len({user["dist"] for user in managed}) == len(managed)
    assert len(provider.drifted) == 200
    assert set(provider.drifted.values()) == {"block", "unblock", "disable", "enable"}
    for user in managed:
        row = contracts[user["dist"]]
        consistent = _consistent(user["active"], row["status"], row["status_internet"])
        assert consistent == (user["id"] not in provider.drifted), user["id"]
    assert Counter(user["active"] for user in managed)[1] > len(managed) // 2


def test_synthetic_provider_is_reproducible_and_builds_at_scale() -> None:
    small = synthetic_provider(300, 300, seed=9)
    again = synthetic_provider(300, 300, seed=9)
    assert [flatten(u) for u in small.magnus_users] == [flatten(u) for u in again.magnus_users]
    big = synthetic_provider(100_000, 500_000)
    assert len(big.magnus_users) == 100_001
    assert len(big.ixc_contracts) == 500_000
    assert len(big.drifted) == 1000


async def test_demo_provider_served_by_both_sandboxes() -> None:
    provider = demo_provider()
    magnus = MagnusBillingSandbox(provider.magnus_users, [KEY])
    ixc = IxcSandbox(provider.ixc_contracts, provider.ixc_clientes)
    async with client_for(magnus.app) as client:
        users = (await call(client, "read", {"start": 0, "limit": -1})).json()["rows"]
    dists = [user["dist"] for user in users if user["dist"] and user["dist"].strip().isdigit()]
    grid = json.dumps([{"TB": "cliente_contrato.id", "OP": "IN", "P": ",".join(dists)}])
    body = {"qtype": "cliente_contrato.id", "query": "0", "oper": ">", "rp": "1000"}
    async with client_for(ixc.app) as client:
        answer = await client.post(
            "/webservice/v1/cliente_contrato",
            json=body | {"grid_param": grid},
            auth=httpx.BasicAuth("1", "sandbox-token-hash"),
            headers={"ixcsoft": "listar"},
        )
    found = {row["id"] for row in answer.json()["registros"]}
    assert len(users) == len(provider.magnus_users)
    # " 1520 " finds contract 1520: MariaDB compares the int id with the padded text as a number.
    assert found == {d.strip() for d in dists if d.strip() in _contracts(provider)}
