"""MagnusBilling 7 emulator: the `user` module of its signed API, quirks included.

Ground truth: the exchanges recorded from a real MagnusBilling 7.8.5.3 (PHP 8.2, MariaDB 10.11)
in fixtures/magnusbilling. Everything a client can observe is copied: HTTP 200 plaintext auth
errors, `text/html` on every answer, PHP `json_encode` escaping, the request sanitizer (runs
before authentication, rejects words such as "eval" and crashes with HTTP 500 when a filter list
starts with a string filter), the HMAC over PHP's re-encoding of the POST fields, `start`-only
paging, the default order (credit DESC; ties in an order of the server's own, the same for the
same request but not by id), MariaDB's case/accent-insensitive string comparisons and numeric
coercion of strings. Saves follow Yii's validation (`active` "abc" is not a number, "1.5" not
an integer) and MariaDB's strict mode (`active` 200 is out of the TINYINT's range: an SQL error
as a string); '' stores NULL; an id such as "62abc" is written and still answered
`success:false` with an SQL error.

What a save costs is copied too (measured on the same server, see sandbox/asterisk.py): every
save that writes regenerates the Asterisk SIP peers file from every SIP account and reloads
Asterisk, so it takes time in proportion to the SIP accounts, saves in flight share the server's
CPU (overlapping saves are no faster than sequential ones), and the emulator counts the saves
that overlapped and the reloads that read a half-written peers file.
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
import json
import math
import random
import re
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from clock import Clock
from sandbox._php import (
    http_build_query,
    mysql_number,
    parse_php_form,
    php_intval,
    php_is_numeric,
    php_json,
)
from sandbox._sql import collate, fold, like_regex, sign_of
from sandbox.asterisk import (
    SAVE_BASE_SECONDS,
    SAVE_PER_ACCOUNT_SECONDS,
    AsteriskPeers,
    SaveCost,
)
from sandbox.base import Record, SandboxBase, TemplateRecord, flatten
from sandbox.faults import HTML, FaultPlan, FaultProfile

BASE_PATH = "/mbilling/index.php"
INSPECTION_PATH = "/sandbox/magnus/saves"

# A customer row exactly as `user/read` returns it (key order and types from fixture c).
CUSTOMER_TEMPLATE: dict[str, Any] = {
    "id": 0, "id_user": 1, "id_group": 3, "id_group_agent": None, "id_plan": None,
    "id_offer": None, "username": "", "password": "", "credit": "0.0000", "active": 1,
    "creationdate": "2026-11-22 06:58:31", "firstusedate": "0000-00-00 00:00:00",
    "expirationdate": "0000-00-00 00:00:00", "enableexpire": 0, "expiredays": 0,
    "lastname": "", "firstname": "", "address": "", "city": "", "neighborhood": None,
    "state": "", "country": "", "zipcode": "", "phone": "", "mobile": "", "email": "",
    "email2": "", "vat": None, "company_name": None, "commercial_name": None,
    "company_website": None, "state_number": None, "dist": None, "contract_value": 0,
    "lastuse": "0000-00-00 00:00:00", "typepaid": 0, "creditlimit": 0, "language": "pt_BR",
    "redial": None, "loginkey": None, "last_notification": None, "credit_notification": 10,
    "credit_notification_daily": 0, "restriction": 0, "callingcard_pin": 0,
    "prefix_local": "", "callshop": "", "plan_day": None, "record_call": 0,
    "active_paypal": 0, "boleto": 0, "boleto_day": None, "description": None,
    "last_login": "0000-00-00 00:00:00", "googleAuthenticator_enable": 0,
    "google_authenticator_key": "", "doc": None, "id_sacado_sac": None, "disk_space": -1,
    "sipaccountlimit": -1, "calllimit": -1, "cpslimit": -1, "calllimit_error": "503",
    "mix_monitor_format": "gsm", "transfer_show_selling_price": 0,
    "transfer_bdservice_rate": 0, "transfer_dbbl_rocket_profit": 0,
    "transfer_bkash_profit": 0, "transfer_flexiload_profit": 0,
    "transfer_international_profit": 0, "transfer_dbbl_rocket": 0, "transfer_bkash": 0,
    "transfer_flexiload": 0, "transfer_international": 0, "restriction_use": 1,
    "email_services": 1, "email_did": 1, "inbound_call_limit": -1, "idGroupname": "Client",
    "idGroupid_user_type": 3, "idPlanname": None, "idUserusername": "root", "sip_count": 1,
    "offer": 0,
}  # fmt: skip

# The built-in admin differs from a customer in these columns (fixture c, row id 1).
ROOT_OVERRIDES: dict[str, Any] = {
    "id": 1, "id_group": 1, "username": "root", "creationdate": "0000-00-00 00:00:00",
    "vat": "0", "company_name": "", "company_website": "", "language": "en", "redial": "",
    "loginkey": "", "prefix_local": "21", "callshop": "0", "plan_day": 1, "boleto_day": 0,
    "description": "", "idGroupname": "Administrator", "idGroupid_user_type": 1,
    "sip_count": 0, "callingcard_pin": 534565,
}  # fmt: skip

# Columns that come from joins, not from pkg_user: they cannot be filtered, sorted or saved.
JOINED_COLUMNS = frozenset(
    {"idGroupname", "idGroupid_user_type", "idPlanname", "idUserusername", "sip_count", "offer"}
)
# Nullable integer/decimal columns (their template value is None, so types cannot tell).
_NUMERIC_NULLABLE = frozenset(
    {"id_group_agent", "id_plan", "id_offer", "plan_day", "boleto_day", "id_sacado_sac", "credit"}
)
NUMERIC_COLUMNS = (
    frozenset(key for key, value in CUSTOMER_TEMPLATE.items() if isinstance(value, int))
    | _NUMERIC_NULLABLE
)

# `createUser` echoes the model's attributes: columns with a non-NULL default first, in column
# order (setup fixture), then the other posted attributes in posted order, then generated ones.
_CREATE_DEFAULTS: dict[str, Any] = {
    "firstusedate": "0000-00-00 00:00:00", "expirationdate": "0000-00-00 00:00:00",
    "enableexpire": 0, "expiredays": 0, "lastname": "", "firstname": "", "city": "",
    "state": "", "zipcode": "", "phone": "", "mobile": "", "email": "", "contract_value": "0",
    "lastuse": "0000-00-00 00:00:00", "typepaid": 0, "creditlimit": 0, "language": "en",
    "credit_notification": 10, "credit_notification_daily": 0, "restriction": 0,
    "record_call": 0, "active_paypal": 0, "boleto": 0, "last_login": "0000-00-00 00:00:00",
    "googleAuthenticator_enable": 0, "disk_space": -1, "sipaccountlimit": -1, "calllimit": -1,
    "cpslimit": -1, "calllimit_error": "503", "mix_monitor_format": "gsm",
    "transfer_show_selling_price": 0, "transfer_bdservice_rate": 0,
    "transfer_dbbl_rocket_profit": 0, "transfer_bkash_profit": 0,
    "transfer_flexiload_profit": 0, "transfer_international_profit": 0,
    "transfer_dbbl_rocket": 0, "transfer_bkash": 0, "transfer_flexiload": 0,
    "transfer_international": 0, "restriction_use": 1, "email_services": 1, "email_did": 1,
    "inbound_call_limit": -1,
}  # fmt: skip

# The request sanitizer's word list, in its order (the first match is the one reported).
SQL_INJECT_CODES: tuple[str, ...] = (
    "update ", "select ", " set ", " table ", "delete from", " database ", "drop table",
    "drop database", "schema", "concat", "foreign_key", "truncate ", "create ", "print",
    "echo", "while", "shell_exec", "popen", "proc_open", "passthru", "eval", "assert",
    "fopen", "file_get_contents", "file_put_contents", "unlink", "mkdir", "rmdir", "copy",
    "rename", "curl_exec", "curl_init", "fsockopen", "socket_connect", "mysql_query",
    "mysqli_query", "pg_query", "sqlite_query", "prepare", "alert", "src=", "<img",
    "console",
)  # fmt: skip

_SYSTEM_FIELDS = frozenset({"module", "action", "nonce", "id", "createUser"})
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_PASSWORD_ALPHABET = string.ascii_letters + string.digits
_HTML_ENTITIES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#039;"}
)
_PHP_TYPE_ERROR = "{}: Argument #{} must be of type string, stdClass given"


def make_user(user_id: int, password: str, **fields: Any) -> Record:
    """A customer record in the exact read shape, backed by the shared template.

    Only the given fields are stored per user (a TemplateRecord over CUSTOMER_TEMPLATE), which keeps
    100k users in memory cheap; writes land in the per-user layer.
    """
    return TemplateRecord({"id": user_id, "password": password, **fields}, CUSTOMER_TEMPLATE)


def root_user(password_hash: str = "0" * 40) -> Record:
    """The built-in `root` admin (id 1, no `dist`), present on every real server."""
    return TemplateRecord({**ROOT_OVERRIDES, "password": password_hash}, CUSTOMER_TEMPLATE)


@dataclass
class ApiKey:
    """A `pkg_api` row: key, secret, permission letters (subset of "crud"), IP allow-list."""

    key: str
    secret: str
    actions: str = "crud"
    allowed_ips: str = ""
    user_id: int = 1
    active: bool = True


def sign(secret: str, body: str) -> str:
    """The `Sign` header for `body`, as the server computes it."""
    return hmac.new(secret.encode(), body.encode(), hashlib.sha512).hexdigest()


class MagnusBillingSandbox(SandboxBase):
    """In-memory MagnusBilling answering `POST /mbilling/index.php/user/{read,save}`.

    `users` maps id -> record (read shape, plaintext `password` included); `api_keys` maps key ->
    ApiKey. Counters: `requests` (all), `reads`, `saves`. `seed` fixes the random tie order and
    the generated usernames/passwords.

    Every save that writes (an update or a creation) then regenerates the SIP peers file and
    reloads Asterisk (`asterisk`, see sandbox/asterisk.py): it costs `save_cost.seconds(accounts)`
    of the server's CPU, shared with the other saves in flight, before it answers. `sip_accounts`
    fixes the count of accounts; None counts the users that have one (`sip_count` > 0, every
    customer). `save_cost_scale` < 1 runs the calibrated cost faster (tests, demo); the counters
    `overlapping_saves`, `torn_reloads`, `save_seconds` work at any scale, and
    `GET /sandbox/magnus/saves` serves them.
    """

    profile = FaultProfile(
        text_200=(
            "<br />\n<b>Warning</b>:  mysqli::real_connect(): (HY000/2002): Connection refused in "
            "<b>/var/www/html/mbilling/protected/components/LoadConfig.php</b> on line <b>29</b>"
            "<br />\n"
        ),
        html_200=(
            "<!DOCTYPE html>\n<html><head><title>MagnusBilling</title></head><body>"
            "<div id='loading'>Loading...</div></body></html>"
        ),
    )

    def __init__(
        self,
        users: Iterable[Record] | None = None,
        api_keys: Iterable[ApiKey] = (ApiKey("sandbox-key", "sandbox-secret"),),
        *,
        seed: int | None = None,
        latency: float = 0.0,
        faults: FaultPlan | None = None,
        clock: Clock | None = None,
        save_base_seconds: float = SAVE_BASE_SECONDS,
        save_per_account_seconds: float = SAVE_PER_ACCOUNT_SECONDS,
        save_cost_scale: float = 1.0,
        sip_accounts: int | None = None,
    ) -> None:
        super().__init__(latency=latency, faults=faults)
        self.save_cost = SaveCost(save_base_seconds, save_per_account_seconds, save_cost_scale)
        self.sip_accounts = sip_accounts
        self.asterisk = AsteriskPeers()
        self._counted_accounts = (-1, 0)  # (len(users) when counted, accounts)
        self.clock = clock or Clock()  # the server's local time (MagnusBilling's own setting)
        records = list(users) if users is not None else [root_user()]
        self.users: dict[int, Record] = {int(record["id"]): record for record in records}
        self.api_keys: dict[str, ApiKey] = {api.key: api for api in api_keys}
        self._rng = random.Random(seed)
        self._tie_salt = random.Random(seed).getrandbits(62)

    @property
    def reads(self) -> int:
        """Requests made to `user/read`."""
        return self.counts["user/read"]

    @property
    def saves(self) -> int:
        """Requests made to `user/save` (updates and creations)."""
        return self.counts["user/save"]

    @property
    def overlapping_saves(self) -> int:
        """Saves that started while another save was in flight (one at a time: 0)."""
        return self.asterisk.overlapping_saves

    @property
    def torn_reloads(self) -> int:
        """Asterisk reloads that read a peers file another save was rewriting (or had garbled)."""
        return self.asterisk.torn_reloads

    @property
    def save_seconds(self) -> list[float]:
        """How long each save that wrote took, from its write to its reload (oldest first)."""
        return list(self.asterisk.save_seconds)

    def accounts(self) -> int:
        """SIP accounts a save regenerates: `sip_accounts`, else the users that have one."""
        if self.sip_accounts is not None:
            return self.sip_accounts
        with self.lock:
            size, counted = self._counted_accounts
            if size != len(self.users):  # a join column: only creations change it
                counted = sum(1 for record in self.users.values() if record["sip_count"])
                self._counted_accounts = (len(self.users), counted)
            return counted

    def save_cost_seconds(self) -> float:
        """What one save costs alone now (scaled)."""
        return self.save_cost.seconds(self.accounts())

    def reset_counters(self) -> None:
        super().reset_counters()
        self.asterisk.reset()

    def user(self, user_id: int) -> dict[str, Any]:
        """A snapshot (plain dict, read shape) of one user, taken under the lock."""
        with self.lock:
            return flatten(self.users[user_id])

    def update_user(self, user_id: int, **fields: Any) -> None:
        """Change a user as an operator would in the UI (e.g. between a flow's fetch and write)."""
        with self.lock:
            self.users[user_id].update(fields)

    def routes(self) -> list[BaseRoute]:
        return [
            Route(BASE_PATH + "/{module}/{action}", self._endpoint, methods=["GET", "POST"]),
            Route(INSPECTION_PATH, self._inspect, methods=["GET"]),
        ]

    async def _inspect(self, _request: Request) -> Response:
        """Sandbox only (no such route on a real server): the saves and what they did."""
        return JSONResponse({"saves": self.saves, **self.asterisk.summary()})

    async def _endpoint(self, request: Request) -> Response:
        module = request.path_params["module"]
        action = request.path_params["action"]
        self.count(f"{module}/{action}")
        if module != "user":
            return _yii_error(404, "CHttpException", f'Unable to resolve the request "{module}".')
        fields = await _posted_fields(request)
        post = {key: _text(value) for key, value in fields.items()}
        rejected = _sanitize(list(request.query_params.items()) + list(post.items()), module)
        if rejected is not None:
            return rejected
        denied = self._authenticate(request, fields)
        if denied is not None:
            return denied
        return await self._dispatch(action, post, dict(request.query_params))

    def _authenticate(
        self, request: Request, fields: dict[str, bytes | list[bytes]]
    ) -> Response | None:
        """ApiAccess: key, HMAC over PHP's re-encoding, IP list, user, permission letter."""
        key, signature = request.headers.get("key"), request.headers.get("sign")
        if key is None or signature is None:
            return _plain("Access denied to All action in All modules")
        with self.lock:
            api = self.api_keys.get(key)
            owner_exists = api is not None and api.user_id in self.users
        if api is None or not api.active:
            return _plain("invalid API access")
        if not hmac.compare_digest(signature, sign(api.secret, http_build_query(fields))):
            return _plain("invalid API access")
        client = request.client.host if request.client else ""
        allowed = [ip for ip in api.allowed_ips.strip().split(",") if ip]
        if allowed and client not in allowed:
            return _plain("invalid IP")
        if not owner_exists:
            return _plain("invalid user")
        letter = _permission_letter(fields)
        if letter is not None and letter not in api.actions:
            return _plain("invalid API action")
        one_record = "createUser" in fields or _posted_action(fields) != "save"
        if not one_record and (isinstance(fields.get("id"), list) or _text(fields.get("filter"))):
            return _plain("You only can edit one data per time")
        return None

    async def _dispatch(self, action: str, post: dict[str, str], query: dict[str, str]) -> Response:
        if "createUser" in post:
            return await self._create(post)
        if action == "read":
            return self._read(post, query)
        if action == "save":
            return await self._save(post)
        message = f'The system is unable to find the requested action "{action}".'
        return _yii_error(404, "CHttpException", message)

    # ---- read ---------------------------------------------------------------------------------

    def _read(self, post: dict[str, str], query: dict[str, str]) -> Response:
        try:
            matches = _compile_filter(post.get("filter", ""))
            order = _compile_order(query.get("sort"), query.get("dir"))
        except _SqlError as error:
            return _yii_error(500, "CDbException", str(error))
        with self.lock:
            rows = order.arrange(self.users, matches, self._tie_salt)
            page = [flatten(record) for record in _page(rows, post)]
        return _json({"rows": page, "count": len(rows), "sum": []})

    # ---- save ---------------------------------------------------------------------------------

    async def _after_save(self) -> None:
        """UserController::afterSave: regenerate the SIP peers file and reload Asterisk."""
        await self.asterisk.regenerate(self.save_cost_seconds())

    async def _save(self, post: dict[str, str]) -> Response:
        """actionSave for one record: find it, validate, UPDATE, afterSave, then read it back.

        The read-back pastes the posted id into SQL: an id such as "62abc" finds user 62
        (MariaDB casts it), is written, and then fails with an SQL error (`success:false`).
        """
        changes = {k: v for k, v in post.items() if k not in _SYSTEM_FIELDS}
        errors = _validate(changes)
        raw_id = post.get("id", "")
        with self.lock:
            user_id = _primary_key(raw_id)
            record = self.users.get(user_id) if user_id is not None else None
            if record is None:
                return _json({"success": False, "rows": [], "Record not found.": None})
            if errors:
                return _json({"success": False, "rows": [], "errors": errors})
            writable = [c for c in changes if c in CUSTOMER_TEMPLATE and c not in JOINED_COLUMNS]
            try:
                stored = {column: _stored_value(column, changes[column]) for column in writable}
            except _SqlError as error:
                failure = _technical_error(str(error), _update_statement(record["id"]))
                return _json({"success": False, "rows": [], "errors": failure})
            record.update(stored)
            saved = flatten(record)
        await self._after_save()
        problem = _reread_problem(raw_id)
        if problem is not None:
            return _json({"success": False, "rows": [], "errors": problem})
        return _json({"success": True, "rows": [saved], "msg": "Operation was successful."})

    async def _create(self, post: dict[str, str]) -> Response:
        """`createUser=1`: add a customer; answer the non-empty attributes, posted ones as text."""
        values = {k: v for k, v in post.items() if k not in _SYSTEM_FIELDS}
        with self.lock:
            taken = {(r["email"], r["username"]) for r in self.users.values()}
            if values.get("email") in {email for email, _ in taken}:
                return _json({"success": False, "errors": "This email already in use"})
            if values.get("username") in {name for _, name in taken}:
                return _json({"success": False, "errors": "This username already in use"})
            generated = self._generated_credentials(values, {name for _, name in taken})
            user_id = max(self.users, default=0) + 1
            created = self.clock.now().strftime("%Y-%m-%d %H:%M:%S")
            record = make_user(user_id, generated["password"], creationdate=created)
            try:
                for column, value in {**values, **generated}.items():
                    if column in CUSTOMER_TEMPLATE and column not in JOINED_COLUMNS:
                        record[column] = _stored_value(column, value)
            except _SqlError as error:
                statement = "INSERT INTO `pkg_user` (...) VALUES (...)"
                return _json({"success": False, "errors": _technical_error(str(error), statement)})
            self.users[user_id] = record
        await self._after_save()
        posted = {k: v for k, v in values.items() if k in CUSTOMER_TEMPLATE}
        echo = {**_CREATE_DEFAULTS, **posted, **generated, "id_user": 1, "id_group": 3}
        echo |= {"creationdate": created, "id": str(user_id)}
        data = {k: v for k, v in echo.items() if v is not None and str(v) != ""}
        return _json({"success": True, "data": data})

    def _generated_credentials(self, values: dict[str, str], usernames: set[str]) -> dict[str, Any]:
        username = values.get("username")
        while username is None or username in usernames:
            username = str(self._rng.randint(10000, 99999))
        password = values.get("password") or "".join(
            self._rng.choice(_PASSWORD_ALPHABET) for _ in range(10)
        )
        pin = int(values.get("callingcard_pin") or self._rng.randint(100000, 999999))
        return {"username": username, "password": password, "callingcard_pin": pin}


# ---- helpers: transport shapes -------------------------------------------------------------


def _plain(text: str, status: int = 200) -> Response:
    return Response(text.encode(), status_code=status, headers={"content-type": HTML})


def _json(payload: Any) -> Response:
    return _plain(php_json(payload))


def _html_escape(text: str) -> str:
    """Yii's CHtml::encode (htmlspecialchars with ENT_QUOTES)."""
    return text.translate(_HTML_ENTITIES)


def _yii_error(status: int, title: str, message: str) -> Response:
    """The Yii 1.1 debug error page (YII_DEBUG is on in the recorded server)."""
    page = (
        '<!DOCTYPE html PUBLIC\n\t"-//W3C//DTD XHTML 1.0 Transitional//EN"\n'
        '\t"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
        '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">\n<head>\n'
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8"/>\n'
        f"<title>{_html_escape(title)}</title>\n</head>\n<body>\n"
        f'<div class="container">\n<h1>{_html_escape(title)}</h1>\n\n'
        f'<p class="message">\n{_html_escape(message)}</p>\n\n'
        '<div class="version">\n'
        "PHP 8.2.36 Development Server, Yii Framework/1.1.32-dev</div>\n</div>\n</body>\n</html>\n"
    )
    return _plain(page, status)


async def _posted_fields(request: Request) -> dict[str, bytes | list[bytes]]:
    """PHP fills `$_POST` only for form-encoded bodies; anything else signs as an empty form."""
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("application/x-www-form-urlencoded"):
        return {}
    return parse_php_form(await request.body())


def _text(value: bytes | list[bytes] | None) -> str:
    if isinstance(value, list):
        return ",".join(item.decode("utf-8", "replace") for item in value)
    return (value or b"").decode("utf-8", "replace")


# ---- helpers: the request sanitizer (SqlInject) --------------------------------------------


def _sanitize(fields: list[tuple[str, str]], controller: str) -> Response | None:
    """Every request field, GET then POST, before authentication; first hit wins.

    A JSON list is inspected item by item: the first object item ends the whole check when it is
    a numeric filter and crashes PHP 8 (HTTP 500) otherwise; that is the string-filter-first bug.
    """
    for _name, raw in fields:
        decoded = _json_or_none(raw)
        if isinstance(decoded, list):
            outcome = _sanitize_list(decoded, controller)
            if outcome is not False:
                return None if outcome is True else outcome
        elif isinstance(decoded, dict):
            message = _PHP_TYPE_ERROR.format("strlen()", "1 ($string)")
            return _yii_error(500, "TypeError", message)
        else:
            text = decoded if isinstance(decoded, str) else raw
            rejected = _sanitize_scalar(text, controller)
            if rejected is not None:
                return rejected
    return None


def _sanitize_list(items: list[Any], controller: str) -> Response | bool:
    """A rejection, True when a numeric first filter ends all checks, False to go on."""
    for code in SQL_INJECT_CODES:
        for item in items:
            if isinstance(item, dict):
                data = item.get("data")
                is_list = isinstance(data, dict) and data.get("type") == "list"
                if is_list or item.get("type") == "numeric":
                    return True
                message = _PHP_TYPE_ERROR.format("preg_match()", "2 ($subject)")
                return _yii_error(500, "TypeError", message)
            text = "" if item is None else str(item)
            if len(text.encode()) > 250:
                return _inject_rejection(f"Variable to long: {text}", controller)
            if code in text:
                return _inject_rejection(f"Trying SQL inject, code: {text}", controller, code)
    return False


def _sanitize_scalar(text: str, controller: str) -> Response | None:
    if len(text.encode()) > 1000:
        return _inject_rejection(f"Variable to long2: {text}", controller)
    lowered = text.translate(_ASCII_LOWER)
    for code in SQL_INJECT_CODES:
        if code in lowered:
            return _inject_rejection(f"Trying SQL inject, code: {lowered}", controller, code)
    return None


def _inject_rejection(info: str, controller: str, code: str | None = None) -> Response:
    message = f"{info}. Controller => {controller}" + (f". Code {code}" if code else "")
    return _json({"rows": [], "count": 0, "sum": [], "msg": _html_escape(message)})


def _json_or_none(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


# ---- helpers: authentication ----------------------------------------------------------------


def _posted_action(fields: Mapping[str, bytes | list[bytes]]) -> str | None:
    if "createUser" in fields:
        return "save"
    action = fields.get("action")
    return _text(action) if action is not None else None


def _permission_letter(fields: Mapping[str, bytes | list[bytes]]) -> str | None:
    """The letter ApiAccess requires; None where PHP's comparisons match no branch."""
    action = _posted_action(fields)
    raw_id = fields.get("id")
    if action == "read":
        return "r"
    if action == "destroy":
        return "d"
    if action != "save":
        return None
    if raw_id is None:
        return "c"
    if isinstance(raw_id, list):
        return "u"
    text = _text(raw_id)
    if php_is_numeric(text):
        return "c" if float(text) == 0 else ("u" if float(text) > 0 else None)
    return "u" if text > "0" else None


# ---- helpers: read (filters, order, paging) ------------------------------------------------


class _SqlError(Exception):
    """A query MariaDB would refuse; Yii shows it as a CDbException page."""


def _column(field: Any, clause: str) -> str:
    name = str(field)
    name = name.removeprefix("#").removeprefix("t.")
    if name not in CUSTOMER_TEMPLATE or name in JOINED_COLUMNS:
        raise _SqlError(
            "CDbCommand failed to execute the SQL statement: SQLSTATE[42S22]: Column not found: "
            f"1054 Unknown column 't.{name}' in '{clause}'"
        )
    return name


def _sql_compare(column: str, left: Any, right: Any) -> int | None:
    """MariaDB comparison of a column value with a bound parameter (-1/0/1, None for NULL)."""
    if left is None or right is None:
        return None
    a: float | str
    b: float | str
    if column in NUMERIC_COLUMNS or not isinstance(right, str):
        a, b = _as_number(left), _as_number(right)
    else:
        a, b = collate(str(left)), collate(str(right))
    return sign_of(a, b)


Predicate = Callable[[Mapping[str, Any]], bool]


def _comparison(column: str, value: Any, accept: Callable[[int], bool]) -> Predicate:
    def predicate(record: Mapping[str, Any]) -> bool:
        result = _sql_compare(column, record[column], value)
        return result is not None and accept(result)

    return predicate


def _like_predicate(column: str, pattern: str) -> Predicate:
    regex = like_regex(pattern)
    return lambda record: (
        record[column] is not None and bool(regex.fullmatch(fold(str(record[column]))))
    )


def _in_predicate(column: str, values: list[Any], negate: bool) -> Predicate:
    def predicate(record: Mapping[str, Any]) -> bool:
        hit = any(_sql_compare(column, record[column], v) == 0 for v in values)
        return record[column] is not None and hit != negate

    return predicate


_OPS: dict[str, Callable[[int], bool]] = {
    "eq": lambda r: r == 0,
    "df": lambda r: r != 0,
    "lt": lambda r: r < 0,
    "gt": lambda r: r > 0,
}
_LIKE_SHAPES = {"st": "{}%", "ed": "%{}", "ct": "%{}%"}


def _condition(item: Mapping[str, Any]) -> Predicate | None:
    """One Ext JS filter as BaseController::createCondition builds it (None = ignored)."""
    kind, value = item["type"], item.get("value")
    data = item.get("data")
    comparison = data.get("comparison") if isinstance(data, dict) else item.get("comparison")
    column = _column(item.get("field"), "where clause")
    if kind in ("list", "notlist"):
        values = value if isinstance(value, list) else [value]
        return _in_predicate(column, values, negate=kind == "notlist")
    if kind == "boolean":
        return _comparison(column, int(bool(value)), _OPS["eq"])
    if kind == "string" and comparison in _LIKE_SHAPES and value is not None:
        return _like_predicate(column, _LIKE_SHAPES[comparison].format(value))
    if kind == "date" and comparison == "eq" and value is not None:
        return _like_predicate(column, str(value).split(" ")[0] + "%")
    allowed = {"string": ("eq", "df"), "numeric": ("eq", "lt", "gt"), "date": ("lt", "gt")}
    if comparison in allowed.get(kind, ()):
        return _comparison(column, value, _OPS[comparison])
    return None


@dataclass(frozen=True)
class _Filter:
    """A compiled filter list: `matches` (None = every row) and, like MariaDB's primary-key
    lookup, the only ids `id eq` conditions let through (None = no such condition) and the
    open interval `id gt` / `id lt` conditions bound (each row is still checked by every
    predicate: these only spare scanning rows that cannot match)."""

    matches: Predicate | None
    ids: frozenset[int] | None = None
    above: float = -math.inf
    below: float = math.inf

    def rows(self, users: dict[int, Record], ascending_ids: list[int]) -> list[Record]:
        """The matching users among `ascending_ids` (sorted), in that order."""
        low = bisect.bisect_right(ascending_ids, self.above)
        high = bisect.bisect_left(ascending_ids, self.below)
        candidates = ascending_ids[low:high]
        if self.ids is not None:
            candidates = [i for i in candidates if i in self.ids]
        rows = [users[i] for i in candidates]
        return rows if self.matches is None else [row for row in rows if self.matches(row)]


def _compile_filter(raw: str) -> _Filter:
    decoded = _json_or_none(raw) if raw else None
    items = decoded if isinstance(decoded, list) else []
    conditions = [item for item in items if isinstance(item, dict) and "type" in item]
    compiled = [(item, _condition(item)) for item in conditions]  # unknown column: SQL error
    ids, above, below = _primary_key_lookup(conditions)
    # Conditions on the primary key are answered by the lookup, as MariaDB answers them by
    # the index: the ids are integers, so the bounds decide them exactly.
    predicates = [
        p for item, p in compiled if p is not None and _primary_key_condition(item) is None
    ]
    if not predicates:
        return _Filter(None, ids, above, below)
    if len(predicates) == 1:
        return _Filter(predicates[0], ids, above, below)
    return _Filter(lambda record: all(p(record) for p in predicates), ids, above, below)


def _primary_key_condition(item: Mapping[str, Any]) -> tuple[str, float] | None:
    """(comparison, number) of a numeric `id eq/gt/lt` condition; None for any other."""
    data = item.get("data")
    comparison = data.get("comparison") if isinstance(data, dict) else item.get("comparison")
    field = str(item.get("field")).removeprefix("#").removeprefix("t.")
    value = item.get("value")
    if item["type"] != "numeric" or field != "id" or value is None:
        return None
    if comparison not in ("eq", "gt", "lt"):
        return None
    return comparison, float(_as_number(value))


def _primary_key_lookup(
    conditions: list[dict[str, Any]],
) -> tuple[frozenset[int] | None, float, float]:
    """The ids numeric `id eq` conditions allow, and the bounds `id gt` / `id lt` set."""
    ids: frozenset[int] | None = None
    above, below = -math.inf, math.inf
    for item in conditions:
        condition = _primary_key_condition(item)
        if condition is None:
            continue
        comparison, number = condition
        if comparison == "eq":
            allowed = frozenset({int(number)} if number.is_integer() else ())
            ids = allowed if ids is None else ids & allowed
        elif comparison == "gt":
            above = max(above, number)
        else:
            below = min(below, number)
    return ids, above, below


@dataclass(frozen=True)
class _Order:
    column: str
    descending: bool

    def arrange(self, users: dict[int, Record], where: _Filter, tie_salt: int) -> list:
        """The matching users in this order. Rows tying on the column come in an order of
        the server's own, the same for the same request, unrelated to their ids."""
        rows = where.rows(users, sorted(users))
        if self.column == "id":  # the primary key: unique
            return rows[::-1] if self.descending else rows
        key = _sort_key(self.column)
        rows.sort(key=lambda r: (key(r), hash((tie_salt, r["id"]))), reverse=self.descending)
        return rows


_NUMBER_TYPES = (int, float)


def _as_number(value: Any) -> float:
    return value if isinstance(value, _NUMBER_TYPES) else mysql_number(str(value))


def _sort_key(column: str) -> Callable[[Mapping[str, Any]], Any]:
    """ORDER BY key: NULLs first (ascending), numbers as numbers, text by collation."""
    if column in NUMERIC_COLUMNS:
        return lambda r: (0, 0) if r[column] is None else (1, _as_number(r[column]))
    return lambda r: (0, "") if r[column] is None else (1, collate(str(r[column])))


def _compile_order(sort: str | None, direction: str | None) -> _Order:
    """`?sort=&dir=` (unsigned URL query); default `t.credit DESC` with ties in random order."""
    if not sort:
        return _Order("credit", descending=True)
    column = _column(sort, "order clause")
    if direction is not None and direction.strip().upper() not in ("ASC", "DESC"):
        raise _SqlError(
            "CDbCommand failed to execute the SQL statement: SQLSTATE[42000]: Syntax error or "
            f"access violation: 1064 You have an error in your SQL syntax near '{direction}'"
        )
    descending = direction is not None and direction.strip().upper() == "DESC"
    return _Order(column, descending=descending)


def _php_positive(text: str) -> bool:
    """PHP 8 `$text > 0` for a request string."""
    return float(text) > 0 if php_is_numeric(text) else text > "0"


def _page(rows: list[Record], post: dict[str, str]) -> list[Record]:
    """Yii applyLimit: LIMIT only when `limit >= 0` (PHP comparison), OFFSET only when > 0."""
    start, limit = post.get("start", "0"), post.get("limit", "25")
    offset = php_intval(start) if _php_positive(start) else 0
    unlimited = float(limit) < 0 if php_is_numeric(limit) else limit < "0"
    return rows[offset:] if unlimited else rows[offset : offset + max(php_intval(limit), 0)]


# ---- helpers: save ----------------------------------------------------------------------------


def _primary_key(raw: str | None) -> int | None:
    """findByPk: MariaDB casts the posted text to a number ("3abc" finds 3)."""
    if raw is None:
        return None
    number = mysql_number(raw)
    return int(number) if number.is_integer() else None


# User::rules(): the `numerical, integerOnly` columns, and `credit`/`contract_value` as double.
_INTEGER_ONLY = frozenset(
    {
        "id_user", "id_group", "id_plan", "id_offer", "active", "enableexpire", "expiredays",
        "typepaid", "creditlimit", "credit_notification", "sipaccountlimit", "restriction",
        "callingcard_pin", "callshop", "plan_day", "active_paypal", "boleto", "boleto_day",
        "calllimit", "disk_space", "id_group_agent", "transfer_dbbl_rocket_profit",
        "transfer_bkash_profit", "transfer_flexiload_profit", "transfer_international_profit",
        "transfer_dbbl_rocket", "transfer_bkash", "transfer_flexiload", "transfer_international",
        "transfer_bdservice_rate", "transfer_show_selling_price", "cpslimit", "restriction_use",
        "credit_notification_daily", "email_services", "email_did", "inbound_call_limit",
    }
)  # fmt: skip
_DOUBLE = ("credit", "contract_value")
_YII_INTEGER = re.compile(r"\s*[+-]?\d+\s*")  # CNumberValidator::$integerPattern
_YII_DOUBLE = re.compile(r"[-+]?([0-9]*\.)?[0-9]+([eE][-+]?[0-9]+)?")  # CTypeValidator, trimmed
# pkg_user's integer columns that are not INT (script/database.sql), and the NOT NULL ones.
_TINYINT = frozenset(
    {
        "active", "enableexpire", "typepaid", "restriction", "plan_day", "record_call",
        "active_paypal", "boleto", "googleAuthenticator_enable", "transfer_show_selling_price",
        "transfer_dbbl_rocket", "transfer_bkash", "transfer_flexiload", "transfer_international",
    }
)  # fmt: skip
_SMALLINT = frozenset({"boleto_day"})
_NOT_NULL = frozenset(
    {
        "id_group", "creditlimit", "credit_notification", "credit_notification_daily",
        "restriction", "callingcard_pin", "record_call", "active_paypal", "boleto",
        "googleAuthenticator_enable", "disk_space", "sipaccountlimit", "calllimit", "cpslimit",
        "transfer_dbbl_rocket", "restriction_use", "email_services", "email_did",
        "inbound_call_limit",
    }
)  # fmt: skip
_PHP_INT_MAX = 2**63 - 1
_SQL_WORD = re.compile(r"[0-9A-Za-z_$]+")  # what MariaDB reads as one identifier
_CREDIT_LIMIT = Decimal("99999999999.9999")  # DECIMAL(15,4)


def _label(column: str) -> str:
    """CModel::generateAttributeLabel: `id_user` -> "Id User", `active` -> "Active"."""
    spaced = re.sub(r"(?<![A-Z])[A-Z]", r" \g<0>", column)
    return " ".join(word.capitalize() for word in re.split(r"[-_. ]+", spaced.lower()) if word)


def _validate(changes: Mapping[str, str]) -> dict[str, list[str]]:
    """Yii's numerical rules (CNumberValidator, CTypeValidator); an empty value passes."""
    errors: dict[str, list[str]] = {}
    for column, value in changes.items():
        if value == "":
            continue
        if column in _INTEGER_ONLY and not php_is_numeric(value):
            errors[column] = [f"{_label(column)} must be a number."]
        elif column in _INTEGER_ONLY and not _YII_INTEGER.fullmatch(value):
            errors[column] = [f"{_label(column)} must be an integer."]
        elif column in _DOUBLE and not _YII_DOUBLE.fullmatch(value.strip()):
            errors[column] = [f"{_label(column)} must be double."]
    return errors


def _stored_value(column: str, value: Any) -> Any:
    """What reading the column back gives after Yii's typecast and MariaDB's strict mode.

    '' is NULL in a nullable numeric column (0 in a NOT NULL one); integers are PHP's (int)
    of the text; DECIMAL(15,4) pads to 4 places. A value outside the column's range raises
    `_SqlError` (MariaDB error 1264), as the real server answers it.
    """
    text = str(value)
    numeric = column in NUMERIC_COLUMNS
    if numeric and text == "":
        return 0 if column in _NOT_NULL else None
    if column in _DOUBLE:
        try:
            number = Decimal(text.strip())
        except InvalidOperation:
            return "0.0000" if column == "credit" else 0
        if column == "contract_value":  # FLOAT
            return int(number) if number == number.to_integral_value() else float(number)
        if abs(number) > _CREDIT_LIMIT:
            raise _SqlError(_out_of_range(column))
        return f"{number:.4f}"
    if numeric:
        integer = max(-_PHP_INT_MAX - 1, min(_PHP_INT_MAX, php_intval(text)))
        bits = 8 if column in _TINYINT else 16 if column in _SMALLINT else 32
        if not -(2 ** (bits - 1)) <= integer < 2 ** (bits - 1):
            raise _SqlError(_out_of_range(column))
        return integer
    return text


def _out_of_range(column: str) -> str:
    return (
        "SQLSTATE[22003]: Numeric value out of range: 1264 Out of range value for column "
        f"'{column}' at row 1"
    )


def _technical_error(problem: str, statement: str) -> str:
    """BaseController::getErrorMySql of a CDbException, with YII_DEBUG's statement text."""
    return (
        "Technical information: CDbCommand failed to execute the SQL statement: "
        f"{problem}. The SQL statement executed was: {statement}"
    )


def _update_statement(user_id: int) -> str:
    """CActiveRecord::update(): every column of the table, bound, by primary key."""
    columns = [c for c in CUSTOMER_TEMPLATE if c != "id" and c not in JOINED_COLUMNS]
    sets = ", ".join(f"`{column}`=:yp{n}" for n, column in enumerate(columns))
    return f"UPDATE `pkg_user` SET {sets} WHERE `pkg_user`.`id`={user_id}"


def _reread_problem(raw_id: str) -> str | None:
    """saveGetNewRecord() pastes the posted id into `t.id = <id>`: fine for a number; for text
    such as "62abc" the query fails - after the save was written."""
    if php_is_numeric(raw_id):
        return None
    statement = f"SELECT * FROM `pkg_user` `t` WHERE (t.id = {raw_id} )"
    word = raw_id.strip()
    if _SQL_WORD.fullmatch(word):
        problem = (
            f"SQLSTATE[42S22]: Column not found: 1054 Unknown column '{word}' in 'where clause'"
        )
    else:
        problem = (
            "SQLSTATE[42000]: Syntax error or access violation: 1064 You have an error in your "
            f"SQL syntax; check the manual that corresponds to your MariaDB server version for "
            f"the right syntax to use near '{word} )' at line 1"
        )
    return _technical_error(problem, statement)
