"""IXCSoft (IXC Provedor) emulator: the read-only listing API of `/webservice/v1/{table}`.

What a client sees from the real ERP, copied here: HTTP Basic with the token "id:hash", the
`ixcsoft: listar` header that turns a POST into a listing, every value (numbers included) as a
string, `registros` missing when nothing matches, HTTP 200 errors as `{"type":"error",...}` and
an HTML fragment when the body cannot be parsed. Rows are template-backed (TemplateRecord) so half a
million contracts fit in memory, and id conditions use the sorted keys instead of a full scan.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sandbox._php import php_intval, php_is_numeric, php_json
from sandbox._sql import collate, fold, like_regex, order_rows, sign_of
from sandbox.base import Record, SandboxBase, TemplateRecord, flatten
from sandbox.faults import HTML, FaultPlan, FaultProfile

JSON = "application/json; charset=utf-8"
DEFAULT_TOKEN = "1:sandbox-token-hash"
# The real API documents no maximum for `rp`; the sandbox caps it so one request stays bounded.
MAX_RP = 10_000
DEFAULT_RP = 20

# Table `cliente_contrato` (the contract; `contrato` is the plan's name, not an id).
CONTRACT_TEMPLATE: dict[str, str] = {
    "id": "", "id_cliente": "", "id_filial": "1", "id_vd_contrato": "1",
    "contrato": "PLANO FIBRA 300 MEGA", "tipo": "I", "status": "A", "status_internet": "A",
    "status_velocidade": "N", "data": "2024-01-10", "data_ativacao": "2024-01-15",
    "data_renovacao": "2025-01-15", "data_expiracao": "0000-00-00",
    "data_cancelamento": "0000-00-00", "motivo_cancelamento": "0", "obs": "",
    "bloqueio_automatico": "S", "desbloqueio_confianca": "N",
    "desbloqueio_confianca_ativo": "N", "aviso_atraso": "S", "renovacao_automatica": "S",
    "pago_ate_data": "0000-00-00", "taxa_instalacao": "0.00",
    "ultima_atualizacao": "2024-01-15 10:00:00",
}  # fmt: skip

# Table `cliente` (the customer; `cnpj_cpf` is usually formatted with punctuation).
CLIENTE_TEMPLATE: dict[str, str] = {
    "id": "", "razao": "", "fantasia": "", "cnpj_cpf": "", "tipo_pessoa": "F", "ativo": "S",
    "ie_identidade": "", "email": "", "telefone_celular": "", "telefone_comercial": "",
    "endereco": "", "numero": "", "complemento": "", "bairro": "", "cidade": "", "uf": "",
    "cep": "", "data_cadastro": "2024-01-10", "ultima_atualizacao": "2024-01-10 09:00:00",
}  # fmt: skip

TEMPLATES: dict[str, dict[str, str]] = {
    "cliente_contrato": CONTRACT_TEMPLATE,
    "cliente": CLIENTE_TEMPLATE,
}
MAIN_OPERATORS = frozenset({"=", "!=", ">", "<", ">=", "<="})
GRID_OPERATORS = MAIN_OPERATORS | {"IN", "NI", "L", "BE"}
UNPARSEABLE_BODY = (
    '<div class="alert alert-danger" role="alert">\n'
    "<strong>Erro!</strong> Não foi possível interpretar os parâmetros da requisição.\n</div>\n"
)


def _string_row(template: dict[str, str], row_id: int, fields: Mapping[str, Any]) -> Record:
    own = {"id": str(row_id), **{k: str(v) for k, v in fields.items()}}
    return TemplateRecord(own, template)


def make_contract(contract_id: int, **fields: Any) -> Record:
    """A `cliente_contrato` row; values become strings, unspecified ones come from the template."""
    return _string_row(CONTRACT_TEMPLATE, contract_id, fields)


def make_cliente(cliente_id: int, **fields: Any) -> Record:
    """A `cliente` row; values become strings, unspecified ones come from the template."""
    return _string_row(CLIENTE_TEMPLATE, cliente_id, fields)


class IxcSandbox(SandboxBase):
    """In-memory IXC answering `POST /webservice/v1/{cliente_contrato|cliente}` listings.

    `contracts` / `clientes` map int id -> row (all values strings; a plain dict may omit fields,
    they then read as the table template). `token` is "id:hash". Counters: `requests` (all),
    `counts[table]`, `reads` (all listings).
    """

    profile = FaultProfile(
        text_200="Fatal error: Maximum execution time of 30 seconds exceeded",
        html_200=UNPARSEABLE_BODY,
    )

    def __init__(
        self,
        contracts: Iterable[Mapping[str, Any]] = (),
        clientes: Iterable[Mapping[str, Any]] = (),
        *,
        token: str = DEFAULT_TOKEN,
        seed: int | None = None,
        latency: float = 0.0,
        faults: FaultPlan | None = None,
    ) -> None:
        super().__init__(latency=latency, faults=faults)
        self.token = token
        self.contracts: dict[int, Record] = _table(contracts, CONTRACT_TEMPLATE)
        self.clientes: dict[int, Record] = _table(clientes, CLIENTE_TEMPLATE)
        self._rng = random.Random(seed)

    @property
    def reads(self) -> int:
        """Listing requests made, all tables together."""
        return sum(self.counts[table] for table in TEMPLATES)

    def update_contract(self, contract_id: int, **fields: Any) -> None:
        """Change a contract as the ERP would (values become strings, like everything in IXC)."""
        with self.lock:
            self.contracts[contract_id].update({k: str(v) for k, v in fields.items()})

    def routes(self) -> list[BaseRoute]:
        return [Route("/webservice/v1/{table}", self._endpoint, methods=["GET", "POST"])]

    def _rows(self, table: str) -> dict[int, Record]:
        return self.contracts if table == "cliente_contrato" else self.clientes

    async def _endpoint(self, request: Request) -> Response:
        table = request.path_params["table"]
        self.count(table)
        if not self._authorized(request.headers.get("authorization", "")):
            return _error("Token inválido ou sem permissão de acesso", status=401)
        if request.headers.get("ixcsoft", "").strip().lower() != "listar":
            return _error("Informe o cabeçalho ixcsoft: listar para consultar registros")
        if table not in TEMPLATES:
            return _error(f"Tabela '{table}' não encontrada")
        try:
            params = json.loads(await request.body())
        except ValueError:
            params = None
        if not isinstance(params, dict):
            return Response(UNPARSEABLE_BODY.encode(), headers={"content-type": HTML})
        try:
            listing = _Listing.parse(table, params)
        except _BadRequest as error:
            return _error(str(error))
        with self.lock:
            total, page = listing.run(self._rows(table), TEMPLATES[table], self._rng)
        return _answer(listing.page_label, total, page)

    def _authorized(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            credentials = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        return credentials == self.token


def _table(rows: Iterable[Mapping[str, Any]], template: dict[str, str]) -> dict[int, Record]:
    return {int(row["id"]): _complete(row, template) for row in rows}


def _complete(row: Mapping[str, Any], template: dict[str, str]) -> Record:
    """A row as stored, or backed by the template when a test stored a partial plain dict."""
    if isinstance(row, TemplateRecord):
        return row
    return TemplateRecord(row if isinstance(row, dict) else dict(row), template)


def _error(message: str, status: int = 200) -> Response:
    body = php_json({"type": "error", "message": message})
    return Response(body.encode(), status_code=status, headers={"content-type": JSON})


def _answer(page: str, total: int, rows: list[dict[str, Any]]) -> Response:
    payload: dict[str, Any] = {"page": page, "total": str(total)}
    if rows:
        payload["registros"] = rows
    return Response(php_json(payload).encode(), headers={"content-type": JSON})


class _BadRequest(Exception):
    """A listing IXC refuses with `{"type": "error"}`."""


@dataclass(frozen=True)
class _Condition:
    field: str
    op: str
    value: str
    value2: str = ""

    def id_numbers(self) -> list[float] | None:
        """The numeric operands when this condition can use the id index, else None."""
        if self.field != "id" or self.op not in ("=", "IN", ">", ">=", "<", "<=", "BE"):
            return None
        operands = _split(self.value) if self.op == "IN" else [self.value]
        if self.op == "BE":
            operands.append(self.value2)
        if not all(php_is_numeric(item) for item in operands):
            return None
        return [float(item) for item in operands]

    def predicate(self) -> Callable[[Mapping[str, Any]], bool]:
        field, op = self.field, self.op
        if op == "L":
            regex = like_regex(self.value)
            return lambda row: regex.fullmatch(fold(row[field])) is not None
        if op in ("IN", "NI"):
            wanted = _split(self.value)
            hit = op == "IN"
            return lambda row: any(_compare(row[field], v) == 0 for v in wanted) == hit
        if op == "BE":
            low, high = self.value, self.value2
            return lambda row: _compare(row[field], low) >= 0 and _compare(row[field], high) <= 0
        accept = _ACCEPT[op]
        value = self.value
        return lambda row: accept(_compare(row[field], value))


_ACCEPT: dict[str, Callable[[int], bool]] = {
    "=": lambda r: r == 0,
    "!=": lambda r: r != 0,
    ">": lambda r: r > 0,
    "<": lambda r: r < 0,
    ">=": lambda r: r >= 0,
    "<=": lambda r: r <= 0,
}


def _split(values: str) -> list[str]:
    return [item.strip() for item in values.split(",")]


def _compare(left: str, right: str) -> int:
    """Numeric when both sides are numeric, else the case/accent-insensitive collation."""
    if php_is_numeric(left) and php_is_numeric(right):
        return sign_of(float(left), float(right))
    return sign_of(collate(left), collate(right))


def _sort_key(field: str) -> Callable[[Mapping[str, Any]], Any]:
    def key(row: Mapping[str, Any]) -> tuple[int, Any]:
        value = row[field]
        return (0, float(value)) if php_is_numeric(value) else (1, collate(value))

    return key


def _field(table: str, qualified: Any, what: str) -> str:
    name = str(qualified)
    prefix, dot, column = name.partition(".")
    if dot and prefix != table:
        raise _BadRequest(f"{what}: tabela '{prefix}' inválida para {table}")
    column = column if dot else name
    if column not in TEMPLATES[table]:
        raise _BadRequest(f"{what}: campo '{name}' não existe em {table}")
    return column


@dataclass(frozen=True)
class _Listing:
    """One parsed listing request (qtype/query/oper + grid_param, sort, page)."""

    conditions: tuple[_Condition, ...]
    sort_field: str
    descending: bool
    page: int
    page_label: str
    rp: int

    @classmethod
    def parse(cls, table: str, params: Mapping[str, Any]) -> _Listing:
        conditions = [_main_condition(table, params), *_grid_conditions(table, params)]
        sort_field = _field(table, params.get("sortname", f"{table}.id"), "sortname")
        page_label = str(params.get("page", "1"))
        rp = php_intval(str(params.get("rp", DEFAULT_RP)))
        return cls(
            conditions=tuple(c for c in conditions if c is not None),
            sort_field=sort_field,
            descending=str(params.get("sortorder", "asc")).strip().lower() == "desc",
            page=max(php_intval(page_label), 1),
            page_label=page_label,
            rp=min(max(rp, 0), MAX_RP),
        )

    def run(
        self, rows: dict[int, Record], template: dict[str, str], rng: random.Random
    ) -> tuple[int, list[dict[str, Any]]]:
        """Total matches and the requested page (flattened copies, safe outside the lock)."""
        ids, rest = _narrow_by_id(rows, self.conditions)
        start = (self.page - 1) * self.rp
        if not rest and self.sort_field == "id":
            # Paging through the id index: no row is touched except the page's own.
            ordered = ids[::-1] if self.descending else ids
            page = [_complete(rows[i], template) for i in ordered[start : start + self.rp]]
            return len(ids), [flatten(row) for row in page]
        predicates = [condition.predicate() for condition in rest]
        views = (_complete(rows[i], template) for i in ids)
        matched = [row for row in views if all(p(row) for p in predicates)]
        if self.sort_field == "id":
            if self.descending:
                matched.reverse()
        else:
            order_rows(matched, _sort_key(self.sort_field), descending=self.descending, rng=rng)
        return len(matched), [flatten(row) for row in matched[start : start + self.rp]]


def _main_condition(table: str, params: Mapping[str, Any]) -> _Condition | None:
    if "qtype" not in params:
        return None
    field = _field(table, params["qtype"], "qtype")
    op = str(params.get("oper", "=")).strip()
    if op not in MAIN_OPERATORS:
        raise _BadRequest(f"Operador '{op}' inválido")
    return _Condition(field, op, str(params.get("query", "")))


def _grid_conditions(table: str, params: Mapping[str, Any]) -> list[_Condition]:
    """`grid_param` must be a JSON-encoded STRING of [{"TB", "OP", "P"[, "P2"]}]."""
    raw = params.get("grid_param")
    if raw is None or raw == "":
        return []
    try:
        items = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        items = None
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise _BadRequest("grid_param inválido: envie uma lista JSON codificada como texto")
    conditions = []
    for item in items:
        op = str(item.get("OP", "=")).strip().upper()
        if op not in GRID_OPERATORS:
            raise _BadRequest(f"grid_param: operador '{op}' inválido")
        field = _field(table, item.get("TB", ""), "grid_param")
        conditions.append(_Condition(field, op, str(item.get("P", "")), str(item.get("P2", ""))))
    return conditions


def _narrow_by_id(
    rows: dict[int, Record], conditions: Iterable[_Condition]
) -> tuple[list[int], list[_Condition]]:
    """Ids (ascending) allowed by the indexable id conditions, and the conditions left over."""
    exact: set[int] | None = None
    ranges: list[tuple[str, list[float]]] = []
    rest: list[_Condition] = []
    for condition in conditions:
        numbers = condition.id_numbers()
        if numbers is None:
            rest.append(condition)
        elif condition.op in ("=", "IN"):
            found = {int(n) for n in numbers if n.is_integer() and int(n) in rows}
            exact = found if exact is None else exact & found
        else:
            ranges.append((condition.op, numbers))
    ids = sorted(exact if exact is not None else rows)
    for op, numbers in ranges:
        ids = _bisect_range(ids, op, numbers)
    return ids, rest


def _bisect_range(ids: list[int], op: str, numbers: list[float]) -> list[int]:
    low, high = 0, len(ids)
    if op in (">", ">="):
        low = (bisect.bisect_right if op == ">" else bisect.bisect_left)(ids, numbers[0])
    elif op in ("<", "<="):
        high = (bisect.bisect_left if op == "<" else bisect.bisect_right)(ids, numbers[0])
    else:
        low = bisect.bisect_left(ids, numbers[0])
        high = bisect.bisect_right(ids, numbers[1])
    return ids[low:high]
