"""The Prefect server's credential: whoever reaches the API without it gets 401.

Anyone who reaches an open Prefect API can read every block with its secrets and start
`contract-sync/hourly` with any parameters, so `make server` starts Prefect with basic auth
(`PREFECT_SERVER_API_AUTH_STRING`). The credential is generated on the first `make server` and
kept in the operator's environment file, `$PREFECT_HOME/operator.env` (mode 600; `.prefect/` is
git-ignored, so it never reaches the repository). Every client sends it as
`PREFECT_API_AUTH_STRING`: the make targets read it from that file, and `eval "$(make -s env)"`
exports it to a shell.

    python -m deployments.server_auth ensure   # create the file if missing; print its path

The operator commands (`make deploy`, `make approve`, ...) run their `main` through
`exit_clearly_when_refused`: a server that refuses them ends in a message that says what to set,
not in a traceback.
"""

from __future__ import annotations

import argparse
import os
import secrets
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import httpx

OPERATOR_ENV = "operator.env"
CLIENT_SETTING = "PREFECT_API_AUTH_STRING"
USER = "operator"

T = TypeVar("T")


class CredentialFileExposed(Exception):
    """The operator's environment file can be read by other users of the machine."""


def operator_env_file(prefect_home: Path) -> Path:
    return prefect_home / OPERATOR_ENV


def ensure_credential(prefect_home: Path) -> str:
    """The server's credential, generated into a new operator.env (mode 600) if there is none."""
    path = operator_env_file(prefect_home)
    prefect_home.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_credential(path)
    with os.fdopen(descriptor, "w") as file:
        file.write(f"{CLIENT_SETTING}={USER}:{secrets.token_urlsafe(32)}\n")
    return read_credential(path)


def read_credential(path: Path) -> str:
    """The credential kept in `path`; refused if others can read the file."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise CredentialFileExposed(
            f"{path} holds the Prefect server's credential but has mode {mode:o}: chmod 600 {path}"
        )
    for line in path.read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == CLIENT_SETTING and value.strip():
            return value.strip()
    raise ValueError(f"{path} has no {CLIENT_SETTING}=... line")


def refusal_message(api_url: str | None, status_code: int) -> str:
    sent = (
        "sent a credential it did not accept"
        if os.environ.get(CLIENT_SETTING)
        else (f"sent no credential ({CLIENT_SETTING} is not set)")
    )
    home = os.environ.get("PREFECT_HOME", "~/.prefect")
    return (
        f"the Prefect server at {api_url or '(PREFECT_API_URL not set)'} refused this command "
        f"(HTTP {status_code}): it {sent}. Set {CLIENT_SETTING} to the server's credential, "
        f"kept by `make server` in {operator_env_file(Path(home))}: run the make target from "
        f'the same checkout, or `eval "$(make -s env)"` first.'
    )


def exit_clearly_when_refused(main: Callable[[], T]) -> T:
    """Run an operator command; a 401/403 from the Prefect server ends it with `refusal_message`."""
    try:
        return main()
    except httpx.HTTPStatusError as error:
        if error.response.status_code not in (401, 403):
            raise
        from prefect.settings import PREFECT_API_URL

        sys.exit(refusal_message(PREFECT_API_URL.value(), error.response.status_code))
    except CredentialFileExposed as error:
        sys.exit(str(error))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["ensure"])
    parser.parse_args()
    home = Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect")
    try:
        ensure_credential(home)
    except (CredentialFileExposed, ValueError) as error:
        sys.exit(str(error))
    print(
        f"The server's credential ({CLIENT_SETTING}, asked by the UI's login) is in "
        f"{operator_env_file(home)}"
    )


if __name__ == "__main__":
    main()
