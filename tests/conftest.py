"""Shared test set-up.

Prefect settings are fixed before Prefect is imported: a private PREFECT_HOME per test session,
no analytics (no network here) and a generous ephemeral start-up timeout.
Flow tests share ONE session-scoped `prefect_test_harness` per test process (starting it costs
~20 s idle; six processes starting theirs at once beside the Docker build took over 90 s).
Every test ends with a check that no MagnusBilling emulator saw two saves at once (see
`one_magnus_save_at_a_time`).
"""

from __future__ import annotations

import json
import os
import tempfile
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

_TEST_HOME = tempfile.mkdtemp(prefix="billing-sync-prefect-")
os.environ["PREFECT_HOME"] = _TEST_HOME
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "240")
os.environ.setdefault("PREFECT_LOGGING_TO_API_BATCH_INTERVAL", "0.3")

import pytest  # noqa: E402

# `make test` spreads the suite over processes (pytest-xdist): most of a flow test's time is
# waiting (saves one at a time, locks, retries), not CPU. Each process has its own Prefect test
# server and takes the next test when it is free, except the deployed tests, whose module
# fixture is a whole Prefect server: they stay together, one process per Prefect backend (the
# fixture's parameter). The longest (Docker, deployed, flows) start first. (A scheduler of our
# own: xdist's `loadgroup` ignores its markers under pytest 9.)
_FIRST = ("docker", "deployed", "prefect")
_DEPLOYED = "tests/deployed/"


def _group(nodeid: str) -> str:
    module, _, test = nodeid.partition("::")
    if not module.startswith(_DEPLOYED):
        return nodeid
    return module + (test[test.index("[") :] if test.endswith("]") else "")


def _start_order(item: pytest.Item) -> int:
    marked = [item.get_closest_marker(name) is not None for name in _FIRST]
    return marked.index(True) if True in marked else len(_FIRST)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_start_order)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    from xdist.scheduler import LoadScopeScheduling

    class ByGroup(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _group(nodeid)

    return ByGroup(config, log)


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """A throw-away Prefect API (SQLite) for tests that run whole flows."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=240):
        yield


FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session", autouse=True)
def magnus_emulators() -> Iterator[weakref.WeakSet[Any]]:
    """Every MagnusBilling emulator made during the session (module fixtures' included)."""
    from sandbox.magnusbilling import MagnusBillingSandbox

    made: weakref.WeakSet[Any] = weakref.WeakSet()
    build = MagnusBillingSandbox.__init__

    def register(self: MagnusBillingSandbox, *args: Any, **kwargs: Any) -> None:
        build(self, *args, **kwargs)
        made.add(self)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(MagnusBillingSandbox, "__init__", register)
        yield made


@pytest.fixture(autouse=True)
def one_magnus_save_at_a_time(
    request: pytest.FixtureRequest, magnus_emulators: weakref.WeakSet[Any]
) -> Iterator[None]:
    """On a real MagnusBilling a save that overlaps another makes Asterisk load a half-written
    peers file (phones drop): no test may make one, unless marked `overlapping_saves` (the tests
    of the emulator's detector)."""
    before: weakref.WeakKeyDictionary[Any, tuple[int, int]] = weakref.WeakKeyDictionary(
        {m: (m.overlapping_saves, m.torn_reloads) for m in magnus_emulators}
    )
    yield
    if request.node.get_closest_marker("overlapping_saves") is not None:
        return
    for magnus in list(magnus_emulators):
        counts = (magnus.overlapping_saves, magnus.torn_reloads)
        new = tuple(
            now - then for now, then in zip(counts, before.get(magnus, (0, 0)), strict=True)
        )
        assert new == (0, 0), (
            f"MagnusBilling saves overlapped in this test: {new[0]} save(s) started while "
            f"another was in flight, {new[1]} Asterisk reload(s) read a half-written peers file"
        )


@pytest.fixture
def magnus_exchange() -> Callable[[str], dict[str, Any]]:
    """Load one recorded MagnusBilling exchange (tests/fixtures/magnusbilling/<name>.json)."""

    def load(name: str) -> dict[str, Any]:
        return json.loads((FIXTURES / "magnusbilling" / f"{name}.json").read_text())

    return load
