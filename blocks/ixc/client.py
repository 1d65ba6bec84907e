"""Async client for the IXCSoft webservice (`POST /webservice/v1/{table}`, `ixcsoft: listar`).

Contracts are read in bulk: by batches of ids with the `IN` grid filter, or by the full listing
when that takes fewer requests - whichever is cheaper, decided from the table's size. A batch
that fails is reported as failed ids, never as "not found".

Every call is one attempt: retries are the caller's (Prefect task retries in contract-sync, so
each shows in the UI). So the reading is offered in parts a caller can retry one by one:
`table_size()`, `reading_plan()`, `read_part()` per batch or page, then `listing_of()`.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from blocks.errors import (
    ApiError,
    AuthenticationError,
    MalformedResponse,
    NotFound,
    PermanentApiError,
    PermissionDenied,
    Problem,
    basic_auth_secrets,
    excerpt,
    register_secrets,
)
from blocks.http import ApiClient, parse_json, response_text, send
from blocks.ixc.models import IxcContract

SYSTEM = "ixc"
CONTRACT_TABLE = "cliente_contrato"
_ID = f"{CONTRACT_TABLE}.id"
ReadingStrategy = Literal["by-id", "full-listing"]


@dataclass
class ContractListing:
    """Contracts found, ids whose read failed (and why), and how they were read."""

    contracts: dict[int, IxcContract] = field(default_factory=dict)
    failed_ids: dict[int, Problem] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    strategy: ReadingStrategy = "by-id"


@dataclass
class _Page:
    total: int
    records: list[dict[str, Any]]


Records = list[dict[str, Any]]


@dataclass(frozen=True)
class ReadingPlan:
    """The contracts wanted and how: batches of ids (`by-id`) or pages of the whole table."""

    wanted: list[int]
    strategy: ReadingStrategy
    parts: list[list[int]] | list[int]  # id batches, or page numbers
    table_size: int | None = None


class IxcClient(ApiClient):
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        batch_size: int = 1000,
        page_size: int = 1000,
        max_concurrency: int = 4,
        timeout: float = 30.0,
        verify: bool = True,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        user, _, password = token.partition(":")
        if not user or not password:
            raise ValueError("the IXC token must look like 'id:hash'")
        register_secrets(basic_auth_secrets(user, password))
        self.batch_size = batch_size
        self.page_size = page_size
        self._limit = asyncio.Semaphore(max_concurrency)
        super().__init__(
            httpx.AsyncClient(
                base_url=base_url.rstrip("/"),
                auth=httpx.BasicAuth(user, password),
                timeout=timeout,
                verify=verify,
                transport=transport,
                headers={"ixcsoft": "listar", "Content-Type": "application/json"},
                limits=httpx.Limits(max_connections=max(max_concurrency, 8)),
            )
        )

    async def contracts(self, ids: Collection[int]) -> ContractListing:
        """The contracts with these ids, read in as few requests as the table size allows."""
        try:
            size = await self.table_size() if ids else None
        except ApiError:
            size = None  # size unknown: reading by id is always correct
        plan = self.reading_plan(ids, size)
        results = await asyncio.gather(
            *(self.read_part(plan, part) for part in plan.parts), return_exceptions=True
        )
        return listing_of(plan, results)

    async def table_size(self) -> int:
        """How many contracts the table holds (one request for one row)."""
        return (await self._page(page=1, rows=1, grid=[])).total

    def reading_plan(self, ids: Collection[int], table_size: int | None) -> ReadingPlan:
        """Batches of ids, or the full listing when that takes fewer requests."""
        wanted = sorted(set(ids))
        batches = [wanted[i : i + self.batch_size] for i in range(0, len(wanted), self.batch_size)]
        if table_size is not None and wanted:
            pages = math.ceil(table_size / self.page_size)
            if pages < len(batches):
                return ReadingPlan(wanted, "full-listing", list(range(1, pages + 1)), table_size)
        return ReadingPlan(wanted, "by-id", batches, table_size)

    async def read_part(self, plan: ReadingPlan, part: list[int] | int) -> Records:
        """The records of one batch of ids (every page of it), or of one page of the table."""
        if isinstance(part, int):
            return (await self._page(page=part, rows=self.page_size, grid=[])).records
        return await self._read_batch(part)

    async def _read_batch(self, chunk: Sequence[int]) -> list[dict[str, Any]]:
        """One IN-filtered listing; later pages use the page size the server really gave."""
        grid = [{"TB": _ID, "OP": "IN", "P": ",".join(map(str, chunk))}]
        first = await self._page(page=1, rows=self.batch_size, grid=grid)
        records = list(first.records)
        per_page, page = len(records), 1
        while per_page and len(records) < first.total:
            page += 1
            more = (await self._page(page=page, rows=per_page, grid=grid)).records
            if _ids(more) <= _ids(records):
                break  # the server ignores paging or ran out early: no progress, stop
            records += more
        if len(records) < first.total:
            raise MalformedResponse(
                f"listed {first.total} contracts but sent {len(records)}", system=SYSTEM
            )
        return records

    async def _page(self, *, page: int, rows: int, grid: list[dict[str, str]]) -> _Page:
        body: dict[str, str] = {
            "qtype": _ID,
            "query": "0",
            "oper": ">",
            "page": str(page),
            "rp": str(rows),
            "sortname": _ID,
            "sortorder": "asc",
        }
        if grid:
            body["grid_param"] = json.dumps(grid)

        request = self._http.build_request(
            "POST", f"/webservice/v1/{CONTRACT_TABLE}", content=json.dumps(body).encode()
        )
        async with self._limit:
            response = await send(self._http, SYSTEM, request)
        _raise_for_status(response)
        return _parse_page(parse_json(response, SYSTEM))


def listing_of(plan: ReadingPlan, results: Sequence[Records | BaseException]) -> ContractListing:
    """The contracts found, and every wanted id a failed part may have held as failed."""
    listing = ContractListing(strategy=plan.strategy)
    if plan.strategy == "by-id":
        for chunk, result in zip(plan.parts, results, strict=True):
            assert isinstance(chunk, list)
            if isinstance(result, BaseException):
                _fail(listing, chunk, result)
            else:
                _unusable_records(listing, chunk, _merge(listing, result, set(chunk)))
        return listing
    wanted = set(plan.wanted)
    pages_read = [r for r in results if not isinstance(r, BaseException)]
    unusable = sum(_merge(listing, records, wanted) for records in pages_read)
    _unusable_records(listing, plan.wanted, unusable)
    failures = [r for r in results if isinstance(r, BaseException)]
    received = sum(len(records) for records in pages_read)
    if not failures and plan.table_size is not None and received < plan.table_size:
        failures = [
            MalformedResponse(
                f"listed {plan.table_size} contracts but sent {received}", system=SYSTEM
            )
        ]
    if failures:
        _fail(listing, [i for i in plan.wanted if i not in listing.contracts], failures[0])
    return listing


def _raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    detail = excerpt(response_text(response))
    if status == 401:
        raise AuthenticationError(
            f"token refused (HTTP 401): {detail}",
            system=SYSTEM,
            status_code=401,
            code="token_refused",
            values={"detail": detail},
        )
    if status == 403:
        raise PermissionDenied(
            f"HTTP 403: {detail}",
            system=SYSTEM,
            status_code=403,
            code="forbidden",
            values={"detail": detail},
        )
    if status == 404:
        raise NotFound(
            f"HTTP 404 (check the base URL): {detail}",
            system=SYSTEM,
            status_code=404,
            code="check_base_url",
            values={"detail": detail},
        )
    raise PermanentApiError(
        f"HTTP {status}: {detail}",
        system=SYSTEM,
        status_code=status,
        code="http_error",
        values={"status": status, "detail": detail},
    )


def _parse_page(answer: Any) -> _Page:
    if not isinstance(answer, dict):
        raise MalformedResponse(
            f"expected a JSON object, got {type(answer).__name__}", system=SYSTEM
        )
    kind = str(answer.get("type", answer.get("tipo", ""))).lower()
    if kind in {"error", "erro"}:
        message = answer.get("message", answer.get("mensagem", ""))
        said = excerpt(str(message))
        raise PermanentApiError(
            f"IXC answered an error: {said}",
            system=SYSTEM,
            code="ixc_said_error",
            values={"detail": said},
        )
    raw_total = str(answer.get("total", "")).strip()
    if not raw_total.isdigit():
        raise MalformedResponse(
            f"'total' missing or not a number: {excerpt(raw_total, 40)!r}", system=SYSTEM
        )
    records = answer.get("registros", [])
    if not isinstance(records, list):
        raise MalformedResponse("'registros' is not a list", system=SYSTEM)
    return _Page(total=int(raw_total), records=records)


def _ids(records: list[dict[str, Any]]) -> set[str]:
    return {str(r.get("id")) for r in records if isinstance(r, dict)}


def _merge(listing: ContractListing, records: list[dict[str, Any]], wanted: set[int]) -> int:
    """Add parsed records; a contract seen twice with different data is not trusted.

    Returns how many records had no usable id (the caller cannot tell which contract they were).
    """
    unusable = 0
    for record in records:
        try:
            contract = IxcContract.from_record(record) if isinstance(record, dict) else None
        except ValueError:
            contract = None
        if contract is None:
            listing.problems.append(Problem("ixc_record_without_id"))
            unusable += 1
            continue
        if contract.id not in wanted or contract.id in listing.failed_ids:
            continue
        known = listing.contracts.setdefault(contract.id, contract)
        if known != contract:
            del listing.contracts[contract.id]
            listing.failed_ids[contract.id] = Problem("ixc_two_records")
    return unusable


def _unusable_records(listing: ContractListing, ids: Sequence[int], unusable: int) -> None:
    """Records without an id might be any of the contracts not found: those were not read."""
    if unusable:
        missing = [i for i in ids if i not in listing.contracts and i not in listing.failed_ids]
        reason = Problem("ixc_records_without_id", {"count": unusable})
        for contract_id in missing:
            listing.failed_ids[contract_id] = reason


def _fail(listing: ContractListing, ids: Sequence[int], error: BaseException) -> None:
    why = error.problem if isinstance(error, ApiError) else type(error).__name__
    listing.problems.append(Problem("ixc_read_failed", {"why": why, "count": len(ids)}))
    for contract_id in ids:
        listing.failed_ids.setdefault(contract_id, Problem("ixc_error", {"why": why}))
