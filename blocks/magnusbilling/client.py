"""Async client for the MagnusBilling 7 API (`user/read`, `user/save`).

What the real server does, and this client copes with (see shared/API-NOTES.md):
- every answer is labelled text/html; errors mostly come as HTTP 200 with a plain-text body;
- a filter list must start with a numeric filter or PHP answers HTTP 500;
- the default order is by credit, so reads sort by id in the (unsigned) URL query;
- `page` is ignored, `start` is the offset; `count` is the total number of matches. The listing
  does not page by offset (a customer deleted between two pages would shift every later one
  and one would be skipped): it pages by id (`id > last id seen`).
- a save that answers `success:false` may still have written: a failed save is re-read.

Every call is one attempt: retries are the caller's (Prefect task retries in contract-sync,
so each shows in the UI). The listing is therefore offered in parts a caller can retry one by
one: `plan_listing()` (one request), then `read_range()` per id range, then `listing_of()`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from blocks.errors import (
    ApiError,
    AuthenticationError,
    MalformedResponse,
    NotFound,
    PermanentApiError,
    PermissionDenied,
    Problem,
    ValidationFailed,
    excerpt,
    register_secrets,
)
from blocks.http import ApiClient, parse_json, response_text, send
from blocks.magnusbilling.models import VALID_ACTIVE, MagnusUser, user_id_of
from blocks.magnusbilling.signing import encode_form, sign

SYSTEM = "magnusbilling"
STABLE_ORDER = {"sort": "id", "dir": "ASC"}
NEWEST_FIRST = {"sort": "id", "dir": "DESC"}
MAX_PAGES_PER_RANGE = 10_000  # a server that keeps inventing higher ids is not a listing

_PLAINTEXT_PREFIX = 200  # bytes: longer than every plain-text error below
# prefix -> (error, what it means in English, its code for operators' texts)
_PLAINTEXT_ERRORS: dict[str, tuple[type[PermanentApiError], str, str]] = {
    "invalid api access": (AuthenticationError, "API key or signature refused", "key_refused"),
    "invalid ip": (
        AuthenticationError,
        "this machine's IP is not allowed for the API key",
        "ip_not_allowed",
    ),
    "access denied": (AuthenticationError, "no API key sent", "no_key"),
    "invalid user": (AuthenticationError, "the API key's user is not valid", "key_user_invalid"),
    "invalid api action": (
        PermissionDenied,
        "the API key lacks the permission for this action",
        "key_lacks_permission",
    ),
    "you only can edit one data per time": (
        ValidationFailed,
        "only one record per save",
        "one_record_per_save",
    ),
}


@dataclass(frozen=True)
class IdRange:
    """Users with `after < id <= up_to` (no upper end when `up_to` is None)."""

    after: int
    up_to: int | None


@dataclass(frozen=True)
class ListingPlan:
    """How the whole listing is read: the count the server gave first, and the id ranges."""

    total: int
    ranges: list[IdRange]


UserPage = tuple[list[MagnusUser], list[Problem]]  # the users of one page, and its problems


@dataclass
class UserListing:
    """All users read, plus what could not be parsed (described without customer data)."""

    users: list[MagnusUser]
    reported_total: int
    problems: list[Problem] = field(default_factory=list)


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
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if page_size <= 0:
            raise ValueError("page_size must be positive (limit=0 returns no rows)")
        register_secrets([api_key, api_secret])
        self._api_key = api_key
        self._api_secret = api_secret
        self.contract_field = contract_field
        self.page_size = page_size
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
        """Every user: the listing plan, then its id ranges concurrently (bounded)."""
        plan = await self.plan_listing()
        ranged = await asyncio.gather(*(self.read_range(r) for r in plan.ranges))
        return listing_of(plan, ranged)

    async def plan_listing(self) -> ListingPlan:
        """One read of the highest id splits the ids into ranges of about a page each.

        Paging by offset loses a customer whenever another is deleted between two pages;
        paging by id (`id > last id seen`, sorted by id) cannot. With ranges of about a page
        the listing takes about as many requests, as concurrently, as offset pages did; a range
        holding more than a page is continued from its last id. The last range has no upper
        end, so customers created meanwhile are read too.
        """
        newest = await self._read_page([], limit=1, order=NEWEST_FIRST)
        total = _int_field(newest, "count")
        highest = max(filter(None, map(user_id_of, newest["rows"])), default=0)
        count = max(1, math.ceil(total / self.page_size))
        starts = sorted({highest * n // count for n in range(count)})
        ends: list[int | None] = [*starts[1:], None]
        return ListingPlan(total, [IdRange(a, b) for a, b in zip(starts, ends, strict=True)])

    async def read_range(self, id_range: IdRange) -> list[UserPage]:
        """The users of one id range, page after page by id.

        Each page is parsed as soon as it arrives and its raw rows dropped: a raw row has ~90
        fields, and holding every page of 100k users at once costs ~240 MB more (measured).
        """
        after, up_to = id_range.after, id_range.up_to
        pages: list[UserPage] = []
        while len(pages) < MAX_PAGES_PER_RANGE:
            upper = [] if up_to is None else [_id_filter("lt", up_to + 1)]
            answer = await self._read_page([_id_filter("gt", after), *upper])
            page = _parse_rows(answer["rows"], self.contract_field)
            ids = [user.id for user in page[0]]
            stray = [i for i in ids if i <= after or (up_to is not None and i > up_to)]
            if stray:
                raise MalformedResponse(
                    f"asked for user ids above {after}"
                    + ("" if up_to is None else f" up to {up_to}")
                    + f" and got id {stray[0]}: the id filter was not applied",
                    system=SYSTEM,
                )
            pages.append(page)
            if not ids or len(answer["rows"]) >= answer["count"]:
                return pages
            after = max(ids)
        raise MalformedResponse(
            f"the user listing does not end (more than {MAX_PAGES_PER_RANGE} pages above id "
            f"{after})",
            system=SYSTEM,
        )

    async def read_users_named(self, usernames: Sequence[str]) -> UserListing:
        """Only the given usernames (an ad-hoc run); unknown names are reported as problems."""
        pages = await asyncio.gather(
            *(
                self._read_page(
                    [{"type": "string", "field": "username", "value": name, "comparison": "eq"}]
                )
                for name in usernames
            )
        )
        listing = _collect(pages, self.contract_field)
        found = {user.username for user in listing.users}
        listing.problems += [
            Problem("magnus_username_not_found", {"username": name})
            for name in usernames
            if name not in found
        ]
        listing.reported_total = len(listing.users)
        return listing

    async def read_user(self, user_id: int) -> MagnusUser:
        """One user by id, read fresh (used right before a write)."""
        page = await self._read_page([_id_filter("eq", user_id)])
        users = _collect([page], self.contract_field)
        matching = [user for user in users.users if user.id == user_id]
        if not matching:
            raise NotFound(f"user id {user_id} not found", system=SYSTEM)
        return matching[0]

    async def set_active(self, user_id: int, active: int) -> MagnusUser:
        """Save `active` for one user and return the record as the server saved it.

        A failure answer does not prove that nothing was written: the real server can write
        the change and still answer `success:false` with an SQL error. So a failed save is
        re-read: a user who now has `active` is returned as saved; otherwise the save's error
        is raised. Refused credentials are the exception (the server stopped before the
        save). Not retried here: the caller re-reads and re-decides before any retry.
        """
        if active not in VALID_ACTIVE:
            raise ValueError(f"refusing to send active={active}: only 0-4 are valid")
        try:
            return await self._save_active(user_id, active)
        except (AuthenticationError, PermissionDenied):
            raise
        except ApiError:
            saved = await self._reread_with(user_id, active)
            if saved is None:
                raise
            return saved

    async def _save_active(self, user_id: int, active: int) -> MagnusUser:
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

    async def _reread_with(self, user_id: int, active: int) -> MagnusUser | None:
        """The user as Magnus has it now if it has `active`; None otherwise or unreadable."""
        try:
            current = await self.read_user(user_id)
        except ApiError:
            return None
        return current if current.active == active else None

    async def _read_page(
        self,
        filters: list[dict[str, Any]],
        *,
        limit: int | None = None,
        order: dict[str, str] = STABLE_ORDER,
    ) -> dict[str, Any]:
        """One `user/read`; a filter list always starts with a numeric filter, or the real
        server's PHP 8 sanitizer crashes (HTTP 500)."""
        if filters and filters[0]["type"] != "numeric":
            filters = [_id_filter("gt", 0), *filters]
        fields = [
            ("start", "0"),
            ("limit", str(self.page_size if limit is None else limit)),
            ("filter", json.dumps(filters, separators=(",", ":"), ensure_ascii=False)),
        ]

        async with self._limit:
            answer = await self._call("read", fields, query=order)
        if not isinstance(answer, dict) or not isinstance(answer.get("rows"), list):
            raise _application_error(answer)
        _int_field(answer, "count")
        return answer

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
                "HTTP 401: the API key may not read users",
                system=SYSTEM,
                status_code=401,
                code="key_cannot_read",
            )
        if response.status_code >= 400:
            detail = excerpt(response_text(response))
            raise PermanentApiError(
                f"HTTP {response.status_code}: {detail}",
                system=SYSTEM,
                status_code=response.status_code,
                code="http_error",
                values={"status": response.status_code, "detail": detail},
            )
        _raise_for_plaintext(response.content[:_PLAINTEXT_PREFIX])
        return parse_json(response, SYSTEM)


def _id_filter(comparison: str, value: int) -> dict[str, Any]:
    return {"type": "numeric", "field": "id", "value": value, "comparison": comparison}


def _raise_for_plaintext(head: bytes) -> None:
    """Auth and permission failures arrive as bare text with HTTP 200.

    Only the start of the body is looked at: a page of users is megabytes of JSON, and
    `parse_json` reads it once.
    """
    text = head.decode("utf-8", errors="replace")
    lowered = text.strip().lower()
    for prefix, (error, meaning, code) in _PLAINTEXT_ERRORS.items():
        if lowered.startswith(prefix):
            said = repr(excerpt(text, 80))
            raise error(
                f"{meaning} (server said {said})",
                system=SYSTEM,
                code=code,
                values={"said": said},
            )


def _application_error(answer: Any) -> Exception:
    """Turn a JSON answer that is not a success into the error it describes."""
    if not isinstance(answer, dict):
        return MalformedResponse(
            f"expected a JSON object, got {type(answer).__name__}", system=SYSTEM
        )
    if "Record not found." in answer:
        return NotFound("record not found", system=SYSTEM, code="record_not_found")
    errors = answer.get("errors")
    if isinstance(errors, dict) and errors:
        detail = "; ".join(
            f"{name}: {' '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}"
            for name, msgs in errors.items()
        )
        return _rejected(detail)
    if isinstance(errors, str) and errors:  # a database error, e.g. a value out of range
        return _rejected(errors)
    message = answer.get("msg")
    if isinstance(message, str) and message:
        return _rejected(message)
    return MalformedResponse(
        f"unexpected answer with keys {sorted(map(str, answer))[:8]}", system=SYSTEM
    )


def _rejected(detail: str) -> ValidationFailed:
    shown = excerpt(detail)
    return ValidationFailed(
        f"rejected: {shown}", system=SYSTEM, code="rejected", values={"detail": shown}
    )


def _int_field(answer: dict[str, Any], name: str) -> int:
    value = answer.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedResponse(
            f"'{name}' is missing or not a count: {excerpt(repr(value), 60)}", system=SYSTEM
        )
    return value


def listing_of(plan: ListingPlan, ranged: Sequence[Sequence[UserPage]]) -> UserListing:
    """The whole listing from its ranges' pages; fewer users than first counted is reported."""
    listing = _merge_pages([page for pages in ranged for page in pages])
    listing.reported_total = plan.total
    if len(listing.users) + len(listing.problems) < plan.total:
        listing.problems.append(
            Problem("magnus_list_changed", {"read": len(listing.users), "total": plan.total})
        )
    return listing


def _parse_rows(rows: Sequence[Any], contract_field: str) -> UserPage:
    """The users of one page, and what could not be parsed (described without customer data)."""
    users: list[MagnusUser] = []
    problems: list[Problem] = []
    for position, row in enumerate(rows):
        if not isinstance(row, dict):
            problems.append(Problem("magnus_row_not_object", {"position": position}))
            continue
        try:
            users.append(MagnusUser.from_row(row, contract_field))
        except ValueError:
            problems.append(Problem("magnus_row_without_id", {"position": position}))
    return users, problems


def _merge_pages(pages: Sequence[UserPage]) -> UserListing:
    """Users of several pages; the same id twice is kept once if identical, else flagged."""
    by_id: dict[int, MagnusUser] = {}
    conflicting: set[int] = set()
    problems: list[Problem] = []
    for users, page_problems in pages:
        problems += page_problems
        for user in users:
            known = by_id.setdefault(user.id, user)
            if known is not user and known != user:
                conflicting.add(user.id)
    for user_id in sorted(conflicting):
        problems.append(Problem("magnus_user_twice", {"user_id": user_id}))
        del by_id[user_id]
    return UserListing(
        users=sorted(by_id.values(), key=lambda u: u.id), reported_total=0, problems=problems
    )


def _collect(pages: Sequence[dict[str, Any]], contract_field: str) -> UserListing:
    """Parse rows of several pages; the same id twice is kept once if identical, else flagged."""
    return _merge_pages([_parse_rows(page["rows"], contract_field) for page in pages])
