"""Seed data for the sandboxes: a small provider with every awkward case, and big synthetic ones.

`demo_provider()` is for demos and integration tests: ~215 realistic Brazilian customers where
every Magnus status meets every IXC contract status and internet status, plus the data-entry
accidents seen in real installations (missing/padded/non-numeric `dist`, a contract shared by two
customers, a contract IXC does not know, `active` = 9, the root admin). `synthetic_provider()`
is for benchmarks: N consistent customers over M contracts with a chosen share of drift.

The records are the sandboxes' own record types (TemplateRecord), and sandboxes built from a
Provider share them: build a fresh Provider for each independent sandbox.
"""

from __future__ import annotations

import random
import string
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import count

from sandbox.base import Record, TemplateRecord
from sandbox.ixc import CONTRACT_TEMPLATE, make_cliente, make_contract
from sandbox.magnusbilling import CUSTOMER_TEMPLATE, make_user, root_user

MAGNUS_ACTIVE = (0, 1, 2, 3, 4)
CONTRACT_STATUS = ("A", "I", "P", "N", "D")
INTERNET_STATUS = ("A", "D", "CM", "CA", "FA", "AA", "", "ZZ")
PADDED_DIST_CONTRACT = 1520
SHARED_CONTRACT = 4409
UNKNOWN_CONTRACT_BASE = 990_001
ODD_DISTS: tuple[str | None, ...] = (None, "", "  ", "abc", f" {PADDED_DIST_CONTRACT} ", "12.5")
DRIFT_ACTIONS = ("block", "unblock", "disable", "enable")
FIRST_CUSTOMER_ID = 2  # id 1 is the root admin

FIRST_NAMES = (
    "Maria", "José", "Ana", "João", "Francisca", "Antônio", "Adriana", "Carlos", "Juliana",
    "Paulo", "Márcia", "Lucas", "Aline", "Luiz", "Fernanda", "Raimundo", "Patrícia", "Marcos",
    "Cláudia", "Sebastião", "Letícia", "Gabriel", "Tereza", "Rafael", "Conceição", "Thiago",
    "Luzia", "Felipe", "Sônia", "Débora",
)  # fmt: skip
LAST_NAMES = (
    "da Silva", "dos Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira",
    "Lima", "Gomes", "Ribeiro", "Carvalho", "Araújo", "Nascimento", "Conceição", "Barbosa",
    "Mendes Barbosa", "Cavalcanti", "Nogueira", "Magalhães", "Brandão", "de Assis",
)  # fmt: skip
COMPANIES = (
    "Padaria Pão de Mel Ltda", "Mercadinho São José ME", "Auto Peças Irmãos Araújo Ltda",
    "Clínica Sorriso Odontologia S/S", "Farmácia Popular do Bairro Ltda",
    "Oficina Mecânica Dois Irmãos", "Escritório Contábil Confiança Ltda",
    "Pousada Beira-Mar EIRELI", "Academia Corpo & Mente Ltda", "Açaí da Praça ME",
)  # fmt: skip
# (city, state, neighbourhood, area code)
PLACES = (
    ("São Paulo", "SP", "Mooca", 11), ("Rio de Janeiro", "RJ", "Tijuca", 21),
    ("Belo Horizonte", "MG", "Savassi", 31), ("Salvador", "BA", "Itapuã", 71),
    ("Fortaleza", "CE", "Aldeota", 85), ("Recife", "PE", "Boa Viagem", 81),
    ("Porto Alegre", "RS", "Menino Deus", 51), ("Curitiba", "PR", "Água Verde", 41),
    ("Goiânia", "GO", "Setor Bueno", 62), ("São Luís", "MA", "Renascença", 98),
    ("Florianópolis", "SC", "Trindade", 48), ("Manaus", "AM", "Adrianópolis", 92),
)  # fmt: skip
STREETS = ("Rua das Flores", "Avenida Brasil", "Rua Sete de Setembro", "Travessa São João",
           "Rua Dom Pedro II", "Avenida Getúlio Vargas", "Rua Tiradentes")  # fmt: skip
PLANS = ("PLANO FIBRA 300 MEGA", "PLANO FIBRA 500 MEGA", "FIBRA 1 GIGA", "RÁDIO 10 MEGA",
         "EMPRESARIAL FIBRA 600 MEGA + IP FIXO", "COMBO FIBRA 400 + TELEFONIA")  # fmt: skip
PASSWORD_ALPHABET = string.ascii_letters + string.digits


@dataclass
class Provider:
    """One provider's data: Magnus users (root first) and IXC contracts/customers.

    `drifted` (synthetic providers only) maps Magnus user id -> the change the sync should make.
    """

    magnus_users: list[Record]
    ixc_contracts: list[Record]
    ixc_clientes: list[Record] = field(default_factory=list)
    drifted: dict[int, str] = field(default_factory=dict)


# ---- documents ------------------------------------------------------------------------------


def _check_digit(digits: Sequence[int], weights: Sequence[int]) -> int:
    remainder = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
    return 0 if remainder < 2 else 11 - remainder


def cpf(rng: random.Random, formatted: bool = False) -> str:
    """A CPF with valid check digits ("12345678909" or "123.456.789-09")."""
    digits = [rng.randrange(10) for _ in range(9)]
    digits.append(_check_digit(digits, range(10, 1, -1)))
    digits.append(_check_digit(digits, range(11, 1, -1)))
    text = "".join(map(str, digits))
    return f"{text[:3]}.{text[3:6]}.{text[6:9]}-{text[9:]}" if formatted else text


def cnpj(rng: random.Random, formatted: bool = False) -> str:
    """A CNPJ (head office "0001") with valid check digits, raw or "12.345.678/0001-95"."""
    digits = [rng.randrange(10) for _ in range(8)] + [0, 0, 0, 1]
    digits.append(_check_digit(digits, (5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)))
    digits.append(_check_digit(digits, (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)))
    text = "".join(map(str, digits))
    if not formatted:
        return text
    return f"{text[:2]}.{text[2:5]}.{text[5:8]}/{text[8:12]}-{text[12:]}"


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if c.isascii() and (c.isalnum() or c == " "))


def _passwords(rng: random.Random, amount: int) -> list[str]:
    letters = rng.choices(PASSWORD_ALPHABET, k=10 * amount)
    return ["".join(letters[i : i + 10]) for i in range(0, 10 * amount, 10)]


# ---- demo provider ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Person:
    """One real-world customer, seen by both systems (Magnus user and IXC `cliente`)."""

    first: str
    last: str
    company: str | None
    document: str
    place: tuple[str, str, str, int]
    street: str


@dataclass
class _DemoBuilder:
    """Accumulates the demo provider; one place decides what a realistic customer looks like."""

    rng: random.Random
    users: list[Record] = field(default_factory=list)
    contracts: list[Record] = field(default_factory=list)
    clientes: list[Record] = field(default_factory=list)
    user_ids: count = field(default_factory=lambda: count(FIRST_CUSTOMER_ID))
    cliente_ids: count = field(default_factory=lambda: count(501))
    contract_ids: count = field(default_factory=lambda: count(20_000, 7))

    def person(self) -> _Person:
        rng = self.rng
        company = rng.choice(COMPANIES) if rng.random() < 0.15 else None
        formatted = rng.random() < 0.4
        document = cnpj(rng, formatted) if company else cpf(rng, formatted)
        street = f"{rng.choice(STREETS)}, {rng.randint(1, 3000)}"
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        return _Person(first, last, company, document, rng.choice(PLACES), street)

    def contract(self, person: _Person, status: str, internet: str, contract_id: int = 0) -> int:
        """Add an IXC contract (and its `cliente`) for `person`; return the contract id."""
        rng = self.rng
        contract_id = contract_id or next(self.contract_ids)
        cliente_id = next(self.cliente_ids)
        name = person.company or f"{person.first} {person.last}"
        _, uf, district, _ = person.place
        self.clientes.append(
            make_cliente(
                cliente_id,
                razao=name.upper() if rng.random() < 0.3 else name,
                cnpj_cpf=person.document,
                tipo_pessoa="J" if person.company else "F",
                ativo="N" if status in ("I", "D") else "S",
                endereco=person.street,
                bairro=district,
                uf=uf,
            )
        )
        activated = f"20{rng.randint(19, 25)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        cancelled = f"2026-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}"
        self.contracts.append(
            make_contract(
                contract_id,
                id_cliente=cliente_id,
                contrato=rng.choice(PLANS),
                status=status,
                status_internet=internet,
                data_ativacao=activated,
                data_cancelamento=cancelled if status in ("I", "D") else "0000-00-00",
                bloqueio_automatico=rng.choice("SN"),
                desbloqueio_confianca=rng.choice("SN"),
            )
        )
        return contract_id

    def customer(self, person: _Person, active: int, dist: str | None) -> None:
        """Add `person` to Magnus with `dist` as typed by an operator (None = never set)."""
        rng = self.rng
        user_id = next(self.user_ids)
        city, uf, district, ddd = person.place
        handle = _ascii(f"{person.first}.{person.last}").lower().replace(" ", "")
        self.users.append(
            make_user(
                user_id,
                _passwords(rng, 1)[0],
                username=str(10_000 + user_id * 37 % 90_000),
                credit=rng.choice(("0.0000", "0.0000", "0.0000", "15.5000", "7.2500", "120.0000")),
                active=active,
                firstname=person.first,
                lastname=person.last,
                company_name=person.company,
                email=f"{handle}{user_id}@example.com",
                mobile=f"{ddd}9{rng.randint(10_000_000, 99_999_999)}",
                address=person.street,
                neighborhood=district,
                city=city,
                state=uf,
                doc=person.document,
                dist=dist,
                callingcard_pin=rng.randint(100_000, 999_999),
            )
        )

    def both(self, active: int, status: str, internet: str, contract_id: int = 0) -> None:
        """A customer present in both systems."""
        person = self.person()
        self.customer(person, active, str(self.contract(person, status, internet, contract_id)))


def demo_provider(seed: int = 2026) -> Provider:
    """The demo provider: every status combination and every known data accident, deterministic."""
    build = _DemoBuilder(random.Random(seed))
    for active in MAGNUS_ACTIVE:
        for status in CONTRACT_STATUS:
            for internet in INTERNET_STATUS:
                build.both(active, status, internet)
    for active in MAGNUS_ACTIVE:
        build.customer(build.person(), active, str(UNKNOWN_CONTRACT_BASE + active))
    build.contract(build.person(), "A", "A", PADDED_DIST_CONTRACT)
    for dist in ODD_DISTS:
        build.customer(build.person(), 1, dist)
    build.both(1, "A", "CA", SHARED_CONTRACT)
    build.customer(build.person(), 4, str(SHARED_CONTRACT))
    build.both(9, "A", "A")
    return Provider([root_user(), *build.users], build.contracts, build.clientes)


# ---- synthetic provider ----------------------------------------------------------------------

# (Magnus active, IXC status, IXC status_internet) that need no change, with their weights.
_CONSISTENT = (
    ((1, "A", "A"), 80),
    ((4, "A", "CA"), 5),
    ((4, "A", "CM"), 3),
    ((4, "A", "FA"), 4),
    ((0, "I", "D"), 5),
    ((0, "D", "D"), 3),
)
_DRIFTED: dict[str, tuple[tuple[int, str, str], ...]] = {
    "block": ((1, "A", "CA"), (1, "A", "FA"), (1, "A", "CM")),
    "unblock": ((4, "A", "A"), (3, "A", "A"), (2, "A", "A")),
    "disable": ((1, "I", "D"), (4, "D", "D")),
    "enable": ((0, "A", "A"),),
}


def synthetic_provider(
    customers: int, contracts: int, drift: float = 0.01, seed: int = 0
) -> Provider:
    """N Magnus customers on N distinct contracts among M, consistent except a `drift` share.

    About 1% of the customers are unmanaged (empty `dist`). Rows share templates, so 100k
    customers over 500k contracts build in a few seconds and a few hundred MB.
    """
    if contracts < customers:
        raise ValueError("need at least one contract per customer")
    rng = random.Random(seed)
    states, weights = zip(*_CONSISTENT, strict=True)
    contract_state = rng.choices(states, weights, k=contracts)
    assigned = rng.sample(range(1, contracts + 1), customers)
    unmanaged_count = customers // 100
    drift_count = min(round(customers * drift), customers - unmanaged_count)
    positions = rng.sample(range(customers), unmanaged_count + drift_count)
    unmanaged = set(positions[:unmanaged_count])
    customer_state = rng.choices(states, weights, k=customers)
    drifted: dict[int, str] = {}
    for position in positions[unmanaged_count:]:
        action = rng.choice(DRIFT_ACTIONS)
        customer_state[position] = rng.choice(_DRIFTED[action])
        drifted[FIRST_CUSTOMER_ID + position] = action
    for position, contract_id in enumerate(assigned):
        contract_state[contract_id - 1] = customer_state[position]
    users = _synthetic_users(rng, assigned, customer_state, unmanaged)
    contract_rows = [_synthetic_contract(cid, state) for cid, state in enumerate(contract_state, 1)]
    return Provider([root_user(), *users], contract_rows, drifted=drifted)


def _synthetic_contract(contract_id: int, state: tuple[int, str, str]) -> Record:
    text = str(contract_id)  # one string for both ids: half a million rows add up
    own = {"id": text, "id_cliente": text, "status": state[1], "status_internet": state[2]}
    return TemplateRecord(own, CONTRACT_TEMPLATE)


def _synthetic_users(
    rng: random.Random,
    assigned: list[int],
    states: list[tuple[int, str, str]],
    unmanaged: set[int],
) -> list[Record]:
    passwords = _passwords(rng, len(assigned))
    firsts = rng.choices(FIRST_NAMES, k=len(assigned))
    lasts = rng.choices(LAST_NAMES, k=len(assigned))
    return [
        TemplateRecord(
            {
                "id": FIRST_CUSTOMER_ID + position,
                "username": str(100_000 + position),
                "password": passwords[position],
                "active": states[position][0],
                "firstname": firsts[position],
                "lastname": lasts[position],
                "dist": "" if position in unmanaged else str(contract_id),
            },
            CUSTOMER_TEMPLATE,
        )
        for position, contract_id in enumerate(assigned)
    ]
