"""Records databases for the holds / history / explain tests: SQLite in a temporary folder,
and a throw-away PostgreSQL database per test session on the local server (URL below, or
BILLING_SYNC_TEST_RECORDS_POSTGRES_URL). Without a PostgreSQL server its tests are skipped with
the reason; with CI=true they fail instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from contract_sync.records.store import Records, metadata, sqlite_url

POSTGRES_ADMIN_URL = os.environ.get(
    "BILLING_SYNC_TEST_RECORDS_POSTGRES_URL",
    "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
)


@pytest.fixture(scope="session")
def postgres_records_url() -> Iterator[str]:
    admin_url = make_url(POSTGRES_ADMIN_URL)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"billing_sync_records_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
    except OperationalError as problem:
        admin.dispose()
        reason = f"PostgreSQL not reachable ({type(problem).__name__}) at {admin_url.host}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    yield admin_url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.database)])
def records_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty records database on each backend."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "records.sqlite3")
    url = request.getfixturevalue("postgres_records_url")
    engine = create_engine(url)
    metadata.drop_all(engine)
    engine.dispose()
    return url


@pytest.fixture
def records(records_url: str) -> Iterator[Records]:
    store = Records(records_url)
    yield store
    store.close()
