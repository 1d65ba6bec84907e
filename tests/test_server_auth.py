"""The Prefect server's credential: kept private, and a refused command says what to set.

That the real server refuses a request without it, and that the UI asks for it, is checked
against a real `prefect server` in tests/deployed.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from deployments.server_auth import (
    CLIENT_SETTING,
    CredentialFileExposed,
    ensure_credential,
    operator_env_file,
)
from sandbox.server import serve

ROOT = Path(__file__).resolve().parents[1]


def test_the_first_server_start_generates_a_credential_only_the_operator_can_read(
    tmp_path: Path,
) -> None:
    home = tmp_path / "prefect-home"

    credential = ensure_credential(home)

    path = operator_env_file(home)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    user, _, password = credential.partition(":")
    assert user and len(password) >= 32
    assert path.read_text() == f"{CLIENT_SETTING}={credential}\n"
    assert ensure_credential(home) == credential  # kept, not regenerated
    assert ensure_credential(tmp_path / "another-home") != credential


def test_a_credential_file_others_can_read_is_refused(tmp_path: Path) -> None:
    ensure_credential(tmp_path)
    operator_env_file(tmp_path).chmod(0o644)

    with pytest.raises(CredentialFileExposed, match="chmod 600"):
        ensure_credential(tmp_path)


def test_the_credential_file_is_never_in_the_repository() -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(operator_env_file(ROOT / ".prefect"))],
        cwd=ROOT,
        check=False,
    )
    assert ignored.returncode == 0


@pytest.fixture(scope="module")
def refusing_server() -> Iterator[str]:
    """Answers like a Prefect server with basic auth to a request without the credential."""

    async def unauthorized(request: Request) -> JSONResponse:
        return JSONResponse({"exception_message": "Unauthorized"}, status_code=401)

    app = Starlette(
        routes=[Route("/{path:path}", unauthorized, methods=["GET", "POST", "PATCH", "PUT"])]
    )
    with serve(app) as url:
        yield f"{url}/api"


@pytest.mark.parametrize(
    "command",
    [["deployments.approve"], ["deployments.deploy"], ["deployments.holds", "list"]],
    ids=lambda command: command[0],
)
def test_a_command_the_server_refuses_says_what_to_set(
    refusing_server: str, command: list[str], tmp_path: Path
) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    environment |= {"PREFECT_API_URL": refusing_server, "PREFECT_HOME": str(tmp_path)}

    done = subprocess.run(
        [sys.executable, "-m", *command],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr
    assert f"refused this command (HTTP 401): it sent no credential ({CLIENT_SETTING}" in (
        done.stderr
    )
    assert str(operator_env_file(tmp_path)) in done.stderr
    assert 'eval "$(make -s env)"' in done.stderr
