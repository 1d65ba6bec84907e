"""The deployed test's own REST calls: a transient 5xx is tried again, a real failure still fails.

A SQLite-backed Prefect server under load answers 503 for a while (a fresh-clone `make test`
failed once on it); an operator would try again, so the test does too - within a bound.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import operator_env
import pytest
from operator_env import PrefectServer, api_request
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.server import serve


class FlakyApi:
    """Answers `failures` times with `status`, then 201; records the Authorization headers."""

    def __init__(self) -> None:
        self.failures = 0
        self.status = 503
        self.authorizations: list[str | None] = []
        self.app = Starlette(routes=[Route("/api/{path:path}", self.answer, methods=["POST"])])

    async def answer(self, request: Request) -> JSONResponse:
        self.authorizations.append(request.headers.get("authorization"))
        if self.failures:
            self.failures -= 1
            return JSONResponse({"exception_message": "Service Unavailable"}, self.status)
        return JSONResponse({"status": "ACCEPT"}, 201)


@pytest.fixture
def flaky(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FlakyApi, PrefectServer]]:
    monkeypatch.setattr(operator_env, "TRANSIENT_WITHIN_SECONDS", 4.0)
    api = FlakyApi()
    with serve(api.app) as url:
        yield api, PrefectServer(f"{url}/api", Path(), Path(), "sqlite", "operator:secret")


async def test_a_transient_503_is_tried_again_with_the_credential(
    flaky: tuple[FlakyApi, PrefectServer],
) -> None:
    api, server = flaky
    api.failures = 2

    answer = await api_request(server, "POST", "/flow_runs/1/resume", credential="operator:secret")

    assert answer.status_code == 201
    basic = "Basic " + base64.b64encode(b"operator:secret").decode()
    assert api.authorizations == [basic] * 3


@pytest.mark.parametrize("status", [500, 503])
async def test_a_server_that_keeps_failing_still_fails_the_test(
    flaky: tuple[FlakyApi, PrefectServer], status: int
) -> None:
    api, server = flaky
    api.failures, api.status = 1000, status

    answer = await api_request(server, "POST", "/flow_runs/1/resume", credential=None)

    assert answer.status_code == status
    assert api.authorizations[0] is None
    assert 2 <= len(api.authorizations) < 10  # bounded, backing off


async def test_a_refusal_is_not_tried_again(flaky: tuple[FlakyApi, PrefectServer]) -> None:
    api, server = flaky
    api.failures, api.status = 1000, 409

    answer = await api_request(server, "POST", "/flow_runs/1/resume", credential=None)

    assert answer.status_code == 409
    assert len(api.authorizations) == 1
