"""Async client for the MagnusBilling 7 API (`user/read`, `user/save`).

What the real server does, and this client copes with (see shared/API-NOTES.md):
- every answer is labelled text/html; errors mostly come as HTTP 200 with a plain-text body;
- a filter list must start with a numeric filter or PHP answers HTTP 500;
- the default order is by credit and unstable, so reads sort by id in the (unsigned) URL query;
- `page` is ignored, `start` is the offset; `count` is the total number of matches.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from blocks.errors import (
    AuthenticationError,
    MalformedResponse,
    NotFound,
    PermanentApiError,
    PermissionDenied,
    ValidationFailed,
    excerpt,
)
from blocks.http import (
    DEFAULT_RETRY,
    ApiClient,
    RetryPolicy,
    parse_json,
    response_text,
    send,
    with_retries,
)
from blocks.magnusbilling.models import VALID_ACTIVE, MagnusUser
from blocks.magnusbilling.signing import encode_form, sign

SYSTEM = "magnusbilling"
STABLE_ORDER = {"sort": "id", "dir": "ASC"}
# Numeric filter put first so the PHP 8 sanitizer does not crash on a string filter.
_ANY_ID = {"type": "numeric", "field": "id", "value": 0, "comparison": "gt"}

_PLAINTEXT_PREFIX = 200  # bytes: longer than every plain-text error below
_PLAINTEXT_ERRORS: dict[str, tuple[type[PermanentApiError], str]] = {
    "invalid api access": (AuthenticationError, "API key or signature refused"),
    "invalid ip": (AuthenticationError, "this machine's IP is not allowed for the API key"),
    "access denied": (AuthenticationError, "no API key sent"),
    "invalid user": (AuthenticationError, "the API key's user is not valid"),
    "invalid api action": (PermissionDenied, "the API key lacks the permission for this action"),
    "you only can edit one data per time": (ValidationFailed, "only one record per save"),
}


@dataclass
class UserListing:
    """All users read, plus what could not be parsed (described without customer data)."""

    users: list[MagnusUser]
    reported_total: int
    problems: list[str] = field(default_factory=list)


class MagnusBillingClient(ApiClient):
    """Reads customers and sets their `active` status. Holds one pooled HTTP connection set."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        api_secret: str,
        *,
        contract_field: str = "dist",
        page_size: int = 5000,
        max_concurrency: int = 4,
        timeout: float = 30.0,
        verify: bool = True,
        read_retry: RetryPolicy = DEFAULT_RETRY,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if page_size <= 0:
            raise ValueError("page_size must be positive (limit=0 returns no rows)")
        self._api_key = api_key
        self._api_secret = api_secret
        self.contract_field = contract_field
        self.page_size = page_size
        self._read_retry = read_retry
        self._limit = asyncio.Semaphore(max_concurrency)
        self._nonce = itertools.count(time.time_ns() // 1000)
        super().__init__(
            httpx.AsyncClient(
                base_url=base_url.rstrip("/"),
                timeout=timeout,
                verify=verify,
                transport=transport,
                limits=httpx.Limits(max_connections=max(max_concurrency, 8)),
            )
        )

    async def read_users(self) -> UserListing:
        """Every user, in large pages sorted by id, pages fetched concurrently (bounded).

        Each page is parsed as soon as it arrives and its raw rows dropped: a raw row has ~90
        fields, and holding every page of 100k users at once costs ~240 MB more (measured).
        """
        first = await self._read_page(start=0, filters=[])
        total = _int_field(first, "count")
        pages = [_parse_rows(first["rows"], self.contract_field)]
        del first

        async def parsed(start: int) -> _ParsedPage:
            page = await self._read_page(start=start, filters=[])
            return _parse_rows(page["rows"], self.contract_field)

        starts = range(self.page_size, total, self.page_size)
        pages += await asyncio.gather(*(parsed(s) for s in starts))
        listing = _merge_pages(pages)
        listing.reported_total = total
        if len(listing.users) + len(listing.problems) < total:
            listing.problems.append(
                f"the user list changed while it was read: {len(listing.users)} of {total} read"
            )
        return listing

    async def read_users_named(self, usernames: Sequence[str]) -> UserListing:
        """Only the given usernames (an ad-hoc run); unknown names are reported as problems."""
        pages = await asyncio.gather(
            *(
                self._read_page(
                    start=0,
                    filters=[
                        {"type": "string", "field": "username", "value": name, "comparison": "eq"}
                    ],
                )
                for name in usernames
            )
        )
        listing = _collect(pages, self.contract_field)
        found = {user.username for user in listing.users}
        listing.problems += [
            f"username {name!r} not found in MagnusBilling"
            for name in usernames
            if name not in found
        ]
        listing.reported_total = len(listing.users)
        return listing

    async def read_user(self, user_id: int) -> MagnusUser:
        """One user by id, read fresh (used right before a write)."""
        page = await self._read_page(
            start=0,
            filters=[{"type": "numeric", "field": "id", "value": user_id, "comparison": "eq"}],
            with_any_id=False,
        )
        users = _collect([page], self.contract_field)
        matching = [user for user in users.users if user.id == user_id]
        if not matching:
            raise NotFound(f"user id {user_id} not found", system=SYSTEM)
        return matching[0]

    async def set_active(self, user_id: int, active: int) -> MagnusUser:
        """Save `active` for one user and return the record as the server saved it.

        Not retried here: the caller re-reads and re-decides before any retry.
        """
        if active not in VALID_ACTIVE:
            raise ValueError(f"refusing to send active={active}: only 0-4 are valid")
        answer = await self._call("save", [("id", str(user_id)), ("active", str(active))])
        if not isinstance(answer, dict) or answer.get("success") is not True:
            raise _application_error(answer)
        rows = answer.get("rows")
        if not isinstance(rows, list) or len(rows) != 1 or not isinstance(rows[0], dict):
            raise MalformedResponse(
                "save succeeded but did not return the saved user", system=SYSTEM
            )
        try:
            saved = MagnusUser.from_row(rows[0], self.contract_field)
        except ValueError:
            raise MalformedResponse(
                "save answered a user without a valid id", system=SYSTEM
            ) from None
        if saved.id != user_id or saved.active != active:
            raise MalformedResponse(
                f"save of user {user_id} answered id={saved.id} active={saved.active}",
                system=SYSTEM,
            )
        return saved

    async def _read_page(
        self, *, start: int, filters: list[dict[str, Any]], with_any_id: bool = True
    ) -> dict[str, Any]:
        filter_list = [_ANY_ID, *filters] if with_any_id and filters else filters
        fields = [
            ("start", str(start)),
            ("limit", str(self.page_size)),
            ("filter", json.dumps(filter_list, separators=(",", ":"), ensure_ascii=False)),
        ]

        async def attempt() -> dict[str, Any]:
            answer = await self._call("read", fields, query=STABLE_ORDER)
            if not isinstance(answer, dict) or not isinstance(answer.get("rows"), list):
                raise _application_error(answer)
            _int_field(answer, "count")
            return answer

        async with self._limit:
            return await with_retries(attempt, self._read_retry)

    async def _call(
        self, action: str, fields: list[tuple[str, str]], query: dict[str, str] | None = None
    ) -> Any:
        body = encode_form(
            [("module", "user"), ("action", action), *fields, ("nonce", str(next(self._nonce)))]
        )
        request = self._http.build_request(
            "POST",
            f"/mbilling/index.php/user/{action}",
            params=query,
            content=body.encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Key": self._api_key,
                "Sign": sign(self._api_secret, body),
            },
        )
        response = await send(self._http, SYSTEM, request)
        if response.status_code == 401:
            raise PermissionDenied(
                "HTTP 401: the API key may not read users", system=SYSTEM, status_code=401
            )
        if response.status_code >= 400:
            raise PermanentApiError(
                f"HTTP {response.status_code}: {excerpt(response_text(response))}",
                system=SYSTEM,
                status_code=response.status_code,
            )
        _raise_for_plaintext(response.content[:_PLAINTEXT_PREFIX])
        return parse_json(response, SYSTEM)


def _raise_for_plaintext(head: bytes) -> None:
    """Auth and permission failures arrive as bare text with HTTP 200.

    Only the start of the body is looked at: a page of users is megabytes of JSON, and
    `parse_json` reads it once.
    """
    text = head.decode("utf-8", errors="replace")
    lowered = text.strip().lower()
    for prefix, (error, meaning) in _PLAINTEXT_ERRORS.items():
        if lowered.startswith(prefix):
            raise error(f"{meaning} (server said {excerpt(text, 80)!r})", system=SYSTEM)


def _application_error(answer: Any) -> Exception:
    """Turn a JSON answer that is not a success into the error it describes."""
    if not isinstance(answer, dict):
        return MalformedResponse(
            f"expected a JSON object, got {type(answer).__name__}", system=SYSTEM
        )
    if "Record not found." in answer:
        return NotFound("record not found", system=SYSTEM)
    errors = answer.get("errors")
    if isinstance(errors, dict) and errors:
        detail = "; ".join(
            f"{name}: {' '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}"
            for name, msgs in errors.items()
        )
        return ValidationFailed(f"rejected: {excerpt(detail)}", system=SYSTEM)
    message = answer.get("msg")
    if isinstance(message, str) and message:
        return ValidationFailed(f"rejected: {excerpt(message)}", system=SYSTEM)
    return MalformedResponse(
        f"unexpected answer with keys {sorted(map(str, answer))[:8]}", system=SYSTEM
    )


def _int_field(answer: dict[str, Any], name: str) -> int:
    value = answer.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedResponse(
            f"'{name}' is missing or not a count: {value!r}"[:120], system=SYSTEM
        )
    return value


_ParsedPage = tuple[list[MagnusUser], list[str]]


def _parse_rows(rows: Sequence[Any], contract_field: str) -> _ParsedPage:
    """The users of one page, and what could not be parsed (described without customer data)."""
    users: list[MagnusUser] = []
    problems: list[str] = []
    for position, row in enumerate(rows):
        if not isinstance(row, dict):
            problems.append(f"row {position} of a page is not an object")
            continue
        try:
            users.append(MagnusUser.from_row(row, contract_field))
        except ValueError:
            problems.append(f"row {position} of a page has no valid id")
    return users, problems


def _merge_pages(pages: Sequence[_ParsedPage]) -> UserListing:
    """Users of several pages; the same id twice is kept once if identical, else flagged."""
    by_id: dict[int, MagnusUser] = {}
    conflicting: set[int] = set()
    problems: list[str] = []
    for users, page_problems in pages:
        problems += page_problems
        for user in users:
            known = by_id.setdefault(user.id, user)
            if known is not user and known != user:
                conflicting.add(user.id)
    for user_id in sorted(conflicting):
        problems.append(f"user id {user_id} came back twice with different data; left out")
        del by_id[user_id]
    return UserListing(
        users=sorted(by_id.values(), key=lambda u: u.id), reported_total=0, problems=problems
    )


def _collect(pages: Sequence[dict[str, Any]], contract_field: str) -> UserListing:
    """Parse rows of several pages; the same id twice is kept once if identical, else flagged."""
    return _merge_pages([_parse_rows(page["rows"], contract_field) for page in pages])
