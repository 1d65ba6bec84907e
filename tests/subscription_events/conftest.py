"""ERP databases and a Mundipagg sandbox for the subscription-events tests.

SQLite always runs. PostgreSQL and MariaDB run against real servers (URLs below, override with
GYM_ERP_TEST_POSTGRES_URL / GYM_ERP_TEST_MARIADB_URL): each test session creates its own
uniquely named database there and drops it at the end. A machine without those servers skips
their tests with the reason; with CI=true an unreachable server fails the tests instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import create_engine, delete, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError

from blocks.gym_erp.cards import FernetCardCipher
from blocks.gym_erp.database import ErpDatabase
from blocks.gym_erp.schema import create_schema, metadata
from blocks.mundipagg.client import MundipaggClient
from clock import DEFAULT_TIMEZONE, Clock, ManualTime, frozen
from sandbox.gym_demo import GymErp
from sandbox.mundipagg import BASE_PATH, MundipaggSandbox
from subscription_events.handlers import Services

SERVER_URLS = {
    "postgresql": (
        "GYM_ERP_TEST_POSTGRES_URL",
        "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    ),
    "mariadb": ("GYM_ERP_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test"),
}
# Every test here runs at this instant - flow, ERP writer and gateway sandbox alike - whatever the
# machine's clock or time zone says (CI runs the suite with the clock moved years ahead).
NOW = datetime(2026, 11, 22, 8, 0, tzinfo=ZoneInfo(DEFAULT_TIMEZONE))


def _unreachable(backend: str, problem: Exception) -> None:
    reason = (
        f"{backend} server not reachable ({type(problem).__name__}); set {SERVER_URLS[backend][0]}"
    )
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI=true: {reason}")
    pytest.skip(reason)


def _throwaway_database(backend: str) -> Iterator[str]:
    """A uniquely named database with the ERP tables on the backend's server, dropped after."""
    env, default = SERVER_URLS[backend]
    admin_url = make_url(os.environ.get(env, default))
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"billing_sync_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
    except OperationalError as problem:
        admin.dispose()
        _unreachable(backend, problem)
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    create_schema(engine)
    engine.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE {name}"))
    admin.dispose()


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    yield from _throwaway_database("postgresql")


@pytest.fixture(scope="session")
def mariadb_url() -> Iterator[str]:
    yield from _throwaway_database("mariadb")


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.database),
        pytest.param("mariadb", marks=pytest.mark.database),
    ]
)
def any_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return _fresh_database(request.param, request, tmp_path)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return _fresh_database("sqlite", request, tmp_path)


def _fresh_database(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'gym.db'}"
        engine = create_engine(url)
        create_schema(engine)
        engine.dispose()
        return url
    url = request.getfixturevalue(f"{backend}_url")
    engine = create_engine(url)
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(delete(table))
    engine.dispose()
    return url


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    url = request.getfixturevalue(
        "any_database_url" if "any_database_url" in request.fixturenames else "database_url"
    )
    engine = create_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[ManualTime]:
    with frozen(NOW) as manual:
        yield manual


@pytest.fixture
def cipher() -> FernetCardCipher:
    return FernetCardCipher(SecretStr(Fernet.generate_key().decode()))


@pytest.fixture
def gym(engine: Engine, cipher: FernetCardCipher) -> GymErp:
    return GymErp(engine, cipher)


@pytest.fixture
def gateway() -> MundipaggSandbox:
    return MundipaggSandbox()


@pytest.fixture
async def services(
    engine: Engine, gateway: MundipaggSandbox, cipher: FernetCardCipher
) -> AsyncIterator[Services]:
    client = MundipaggClient(
        f"http://mundipagg.test{BASE_PATH}",
        gateway.secret_key,
        transport=httpx.ASGITransport(app=gateway.app),
    )
    erp = ErpDatabase(engine, clock=Clock())
    async with client:
        yield Services(erp, client, cipher, Clock())
    erp.dispose()
