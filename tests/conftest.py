"""Shared test set-up.

Prefect settings are fixed before Prefect is imported: a private PREFECT_HOME per test session,
no analytics (no network here) and a generous ephemeral start-up timeout.
Flow tests share ONE session-scoped `prefect_test_harness` (starting it costs ~20 s here).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

_TEST_HOME = tempfile.mkdtemp(prefix="billing-sync-prefect-")
os.environ["PREFECT_HOME"] = _TEST_HOME
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ.setdefault("PREFECT_LOGGING_TO_API_BATCH_INTERVAL", "0.3")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """A throw-away Prefect API (SQLite) for tests that run whole flows."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def magnus_exchange() -> Callable[[str], dict[str, Any]]:
    """Load one recorded MagnusBilling exchange (tests/fixtures/magnusbilling/<name>.json)."""

    def load(name: str) -> dict[str, Any]:
        return json.loads((FIXTURES / "magnusbilling" / f"{name}.json").read_text())

    return load
