"""Helpers for the sandbox tests: the recorded MagnusBilling fixtures and in-process clients."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path
from typing import Any

import httpx

from sandbox._php import php_urlencode
from sandbox.base import Record
from sandbox.magnusbilling import ApiKey, MagnusBillingSandbox, sign

FIXTURES = Path(__file__).parents[1] / "fixtures" / "magnusbilling"
KEY = ApiKey("main-key", "main-secret", actions="crud")
READ_ONLY_KEY = ApiKey("read-only-key", "read-only-secret", actions="r")
NO_READ_KEY = ApiKey("no-read-key", "no-read-secret", actions="cud")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def load_fixture(name: str) -> dict[str, Any]:
    """A recorded exchange file by its prefix (e.g. "c" or "signing_vectors")."""
    matches = [p for p in FIXTURES.glob("*.json") if p.stem.split("_")[0] == name]
    if not matches:
        matches = [FIXTURES / f"{name}.json"]
    return json.loads(matches[0].read_text(encoding="utf-8"))


def recorded_users() -> list[Record]:
    """The 13 rows of fixture c (state before the save in f), with made-up passwords."""
    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits
    users: list[Record] = []
    for row in load_fixture("c")["response"]["json"]["rows"]:
        length = 40 if row["id"] == 1 else 10
        users.append({**row, "password": "".join(rng.choice(alphabet) for _ in range(length))})
    return users


def recorded_magnus(**options: Any) -> MagnusBillingSandbox:
    """A sandbox holding the recorded server's state and the three recorded kinds of key."""
    return MagnusBillingSandbox(recorded_users(), [KEY, READ_ONLY_KEY, NO_READ_KEY], **options)


def client_for(app: Any) -> httpx.AsyncClient:
    """An httpx client talking to an ASGI app in process."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox")


def form_body(fields: dict[str, Any]) -> str:
    """A form body encoded the way MagnusBilling re-encodes it (so the Sign matches)."""
    return "&".join(f"{php_urlencode(k)}={php_urlencode(str(v))}" for k, v in fields.items())


async def call(
    client: httpx.AsyncClient,
    action: str,
    fields: dict[str, Any],
    *,
    key: ApiKey = KEY,
    query: str = "sort=id&dir=ASC",
) -> httpx.Response:
    """A correctly signed `user/<action>` request."""
    body = form_body({"module": "user", "action": action, **fields, "nonce": "1"})
    headers = FORM | {"Key": key.key, "Sign": sign(key.secret, body)}
    url = f"/mbilling/index.php/user/{action}" + (f"?{query}" if query else "")
    return await client.post(url, content=body, headers=headers)
