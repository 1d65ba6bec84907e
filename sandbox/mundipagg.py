"""In-memory Pagar.me Core API v5 (formerly Mundipagg) for the demo, the tests and the benchmark.

Serves the calls the subscription events make, under `/core/v5` (Pagar.me) and `/core/v1`
(legacy Mundipagg; the same paths and one account behind both): customers (update), cards,
subscriptions (create, get, list by `code`/`status`/`customer_id`, change card, change next
billing date, cancel), subscription items (add, update, remove), invoices (list with
`page`/`size` and absolute `paging.next` links, cancel). It behaves like the real gateway where
the flow depends on it:
- HTTP Basic with the secret key; 401 otherwise.
- errors as `{"message": ..., "errors": {"field": ["..."]}}`: 400 invalid card, 404 unknown
  id, 412 business rule (e.g. cancelling twice), 422 missing or invalid fields;
  429 and 5xx come from the shared `FaultPlan`.
- `idempotency-key` honoured for 24 hours of its `clock`: a repeated key on the same call
  replays the first successful answer and creates nothing; after that the key is forgotten and
  the call is done again (move the clock to reproduce it).
- dates as the official SDKs send them: RFC 3339 date-times with their offset (`start_at`,
  `next_billing_at`); a bare date is refused (422), so the client is proven to send date-times.
- item updates need `description`, `name`, `status` and `pricing_scheme`, as the v5 spec lists.
- card numbers and CVVs are checked (Luhn) and never stored: only brand and last four digits.
- a new subscription gets its first invoice (pending) for the sum of its items.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import json
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from clock import Clock
from sandbox.base import Record, SandboxBase
from sandbox.faults import FaultPlan, FaultProfile

BASE_PATH = "/core/v5"
LEGACY_BASE_PATH = "/core/v1"
IDEMPOTENCY_WINDOW = timedelta(hours=24)
INTERVALS = ("day", "week", "month", "year")
MAX_PAGE_SIZE = 100


class GatewayRefusal(Exception):
    """A 4xx in the gateway's shape: `{"message": ..., "errors": {"field": ["..."]}}`."""

    def __init__(
        self, status: int, message: str, errors: dict[str, list[str]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or {}

    def response(self) -> Response:
        return JSONResponse({"message": self.message, "errors": self.errors}, self.status)


def _rate_limited(retry_after: float) -> tuple[str, bytes]:
    return "application/json", json.dumps({"message": "API rate limit exceeded"}).encode()


def _new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


def luhn_valid(number: str) -> bool:
    if not number.isdigit() or not 13 <= len(number) <= 19:
        return False
    total = 0
    for position, digit in enumerate(int(d) for d in reversed(number)):
        doubled = digit * 2 if position % 2 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return total % 10 == 0


def card_brand(number: str) -> str:
    if number.startswith("4"):
        return "Visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or "2221" <= number[:4] <= "2720":
        return "Mastercard"
    if number[:2] in {"34", "37"}:
        return "Amex"
    return "Elo"


Endpoint = Callable[[Request, dict[str, Any]], Awaitable[tuple[int, Any]]]


class MundipaggSandbox(SandboxBase):
    """The gateway's state: `customers`, `cards`, `subscriptions`, `invoices` (id -> record).

    `writes` counts the writes that did something, by operation; `replays` counts answers served
    again for a repeated idempotency key; `answers_by_key` is what each key answered (call,
    status, answer, when), forgotten `IDEMPOTENCY_WINDOW` after it was stored.
    """

    profile = FaultProfile(rate_limit=_rate_limited)

    def __init__(
        self,
        *,
        secret_key: str = "sk_test_sandbox",
        latency: float = 0.0,
        faults: FaultPlan | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(latency=latency, faults=faults)
        self.secret_key = secret_key
        self.clock = clock or Clock()
        self.customers: dict[str, Record] = {}
        self.cards: dict[str, Record] = {}
        self.subscriptions: dict[str, Record] = {}
        self.invoices: dict[str, Record] = {}
        self.writes: Counter[str] = Counter()
        self.replays = 0
        self.answers_by_key: dict[str, tuple[str, int, Any, datetime]] = {}

    def _now(self) -> str:
        """A timestamp as the gateway writes them: UTC, to the second, with a Z."""
        return _utc(self.clock.now())

    def routes(self) -> list[BaseRoute]:
        def route(path: str, method: str, endpoint: Endpoint, operation: str) -> Route:
            async def serve(request: Request) -> Response:
                return await self._serve(request, endpoint, operation)

            return Route(path, serve, methods=[method])

        calls: list[tuple[str, str, Endpoint, str]] = [
            ("/customers/{customer_id}", "PUT", self._update_customer, "customer/update"),
            ("/customers/{customer_id}/cards", "POST", self._create_card, "card/create"),
            ("/subscriptions", "POST", self._create_subscription, "subscription/create"),
            ("/subscriptions", "GET", self._list_subscriptions, "subscription/list"),
            ("/subscriptions/{subscription_id}", "GET", self._get, "subscription/get"),
            ("/subscriptions/{subscription_id}", "DELETE", self._cancel, "subscription/cancel"),
            ("/subscriptions/{subscription_id}/card", "PATCH", self._change_card, "card/change"),
            (
                "/subscriptions/{subscription_id}/billing-date",
                "PATCH",
                self._change_billing_date,
                "subscription/billing-date",
            ),
            ("/subscriptions/{subscription_id}/items", "POST", self._add_item, "item/add"),
            (
                "/subscriptions/{subscription_id}/items/{item_id}",
                "PUT",
                self._update_item,
                "item/update",
            ),
            (
                "/subscriptions/{subscription_id}/items/{item_id}",
                "DELETE",
                self._remove_item,
                "item/remove",
            ),
            ("/invoices", "GET", self._list_invoices, "invoice/list"),
            ("/invoices/{invoice_id}", "DELETE", self._cancel_invoice, "invoice/cancel"),
        ]
        return [
            route(base + path, method, endpoint, operation)
            for base in (BASE_PATH, LEGACY_BASE_PATH)
            for path, method, endpoint, operation in calls
        ]

    # -- test helpers ---------------------------------------------------------------------

    def add_invoices(
        self, subscription_id: str, count: int, *, amount: int = 10_000, status: str = "paid"
    ) -> list[str]:
        """Give a subscription `count` more invoices (as months of billing would)."""
        with self.lock:
            subscription = self.subscriptions[subscription_id]
            return [self._new_invoice(subscription, amount, status)["id"] for _ in range(count)]

    def bill_cycle(self, subscription_id: str) -> Record:
        """Charge the subscription's cycle that starts at its `next_billing_at`, as the gateway
        does on that date: a paid invoice, and `next_billing_at` one interval later (a day that
        a shorter month lacks becomes its last day). The invoice."""
        with self.lock:
            subscription = self.subscriptions[subscription_id]
            amount = sum(
                i["quantity"] * i["pricing_scheme"]["price"]
                for i in subscription["items"]
                if i["status"] == "active"
            )
            invoice = self._new_invoice(subscription, amount, "paid")
            billed = datetime.fromisoformat(subscription["next_billing_at"])
            subscription["next_billing_at"] = _utc(
                _later(billed, subscription["interval"], subscription["interval_count"])
            )
            return invoice

    def invoices_of(self, subscription_id: str) -> list[Record]:
        with self.lock:
            return [i for i in self.invoices.values() if i["subscription"]["id"] == subscription_id]

    # -- plumbing ---------------------------------------------------------------------------

    async def _serve(self, request: Request, endpoint: Endpoint, operation: str) -> Response:
        self.count(operation)
        if not self._authorized(request):
            return JSONResponse({"message": "Authorization has been denied for this request."}, 401)
        body = await request.body()
        try:
            payload = json.loads(body) if body else {}
        except ValueError:
            return GatewayRefusal(
                400, "The request is invalid.", {"body": ["invalid JSON"]}
            ).response()
        if not isinstance(payload, dict):
            return GatewayRefusal(
                400, "The request is invalid.", {"body": ["expected object"]}
            ).response()
        writes = request.method != "GET"
        key = request.headers.get("idempotency-key") if writes else None
        # One account behind both base paths: a key is the same call on either.
        call = f"{request.method} {_without_base(request.url.path)}"
        if key is not None:
            with self.lock:
                remembered = self._remembered(key)
                if remembered is not None and remembered[0] == call:
                    self.replays += 1
                    return JSONResponse(remembered[2], remembered[1])
            if remembered is not None:
                return GatewayRefusal(
                    422, "Idempotency key already used for another request."
                ).response()
        try:
            status, answer = await endpoint(request, payload)
        except GatewayRefusal as refusal:
            return refusal.response()
        if writes:
            with self.lock:
                self.writes[operation] += 1
                if key is not None:
                    self.answers_by_key[key] = (call, status, answer, self.clock.now())
        return JSONResponse(answer, status)

    def _remembered(self, key: str) -> tuple[str, int, Any, datetime] | None:
        """What `key` answered, unless that was `IDEMPOTENCY_WINDOW` ago or more (forgotten)."""
        remembered = self.answers_by_key.get(key)
        if remembered is not None and self.clock.now() - remembered[3] >= IDEMPOTENCY_WINDOW:
            del self.answers_by_key[key]
            return None
        return remembered

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, _ = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return user == self.secret_key

    def _customer(self, customer_id: str) -> Record:
        customer = self.customers.get(customer_id)
        if customer is None:
            raise GatewayRefusal(404, "Customer not found.")
        return customer

    def _subscription(self, subscription_id: str) -> Record:
        """An active subscription (404 when unknown, 412 when canceled)."""
        subscription = self.subscriptions.get(subscription_id)
        if subscription is None:
            raise GatewayRefusal(404, "Subscription not found.")
        if subscription["status"] == "canceled":
            raise GatewayRefusal(412, "This subscription is canceled.")
        return subscription

    # -- customers and cards ----------------------------------------------------------------

    def _customer_from(self, data: Any) -> Record:
        if not isinstance(data, dict):
            raise GatewayRefusal(422, "The request is invalid.", {"customer": ["required"]})
        _require(data, "customer", "name", "document", "type")
        if data["type"] not in ("individual", "company"):
            raise GatewayRefusal(422, "The request is invalid.", {"customer.type": ["invalid"]})
        customer = {
            "id": _new_id("cus"),
            "name": data["name"],
            "email": data.get("email"),
            "document": data["document"],
            "type": data["type"],
            "code": data.get("code"),
            "phones": data.get("phones") or {},
            "created_at": self._now(),
        }
        self.customers[customer["id"]] = customer
        return customer

    def _card_from(self, data: Any, customer: Record) -> Record:
        if not isinstance(data, dict):
            raise GatewayRefusal(422, "The request is invalid.", {"card": ["required"]})
        _require(data, "card", "number", "exp_month", "exp_year", "cvv")
        number = str(data["number"])
        if not luhn_valid(number):
            raise GatewayRefusal(
                400, "The request is invalid.", {"card.number": ["The number is not valid."]}
            )
        cvv = str(data["cvv"])
        if not cvv.isdigit() or len(cvv) not in (3, 4):
            raise GatewayRefusal(400, "The request is invalid.", {"card.cvv": ["Invalid cvv."]})
        today = self.clock.today()
        month, year = int(data["exp_month"]), int(data["exp_year"])
        if (year, month) < (today.year, today.month):
            raise GatewayRefusal(412, "Card expired.", {"card": ["The card is expired."]})
        card = {
            "id": _new_id("card"),
            "brand": card_brand(number),
            "last_four_digits": number[-4:],
            "first_six_digits": number[:6],
            "holder_name": data.get("holder_name", ""),
            "exp_month": month,
            "exp_year": year,
            "status": "active",
            "customer": {"id": customer["id"]},
        }
        self.cards[card["id"]] = card
        return card

    def _card_of(self, card_id: str, customer: Record) -> Record:
        card = self.cards.get(card_id)
        if card is None or card["customer"]["id"] != customer["id"]:
            raise GatewayRefusal(404, "Card not found.")
        return card

    async def _update_customer(self, request: Request, payload: dict[str, Any]) -> tuple[int, Any]:
        with self.lock:
            customer = self._customer(request.path_params["customer_id"])
            _require(payload, "", "name", "document", "type")
            # Like the real API, only e-mail and phones change on an existing customer.
            customer["email"] = payload.get("email")
            customer["phones"] = payload.get("phones") or {}
            return 200, dict(customer)

    async def _create_card(self, request: Request, payload: dict[str, Any]) -> tuple[int, Any]:
        with self.lock:
            customer = self._customer(request.path_params["customer_id"])
            return 200, dict(self._card_from(payload, customer))

    # -- subscriptions ----------------------------------------------------------------------

    async def _create_subscription(
        self, request: Request, payload: dict[str, Any]
    ) -> tuple[int, Any]:
        _require(payload, "", "interval", "interval_count", "items", "payment_method")
        if payload["interval"] not in INTERVALS:
            raise GatewayRefusal(422, "The request is invalid.", {"interval": ["invalid"]})
        if payload["payment_method"] != "credit_card":
            raise GatewayRefusal(422, "The request is invalid.", {"payment_method": ["invalid"]})
        items_in = payload["items"]
        if not isinstance(items_in, list) or not items_in:
            raise GatewayRefusal(422, "The request is invalid.", {"items": ["at least one item"]})
        items = [self._item_from(item) for item in items_in]
        with self.lock:
            if payload.get("customer_id"):
                customer = self._customer(payload["customer_id"])
            else:
                customer = self._customer_from(payload.get("customer"))
            if payload.get("card_id"):
                card = self._card_of(payload["card_id"], customer)
            else:
                card = self._card_from(payload.get("card"), customer)
            start = _date_time(payload, "start_at") if payload.get("start_at") else self.clock.now()
            subscription = {
                "id": _new_id("sub"),
                "code": payload.get("code"),
                "status": "active",
                "interval": payload["interval"],
                "interval_count": payload["interval_count"],
                "billing_type": payload.get("billing_type", "prepaid"),
                "billing_day": payload.get("billing_day"),
                "installments": payload.get("installments", 1),
                "minimum_price": payload.get("minimum_price"),
                "statement_descriptor": payload.get("statement_descriptor"),
                "payment_method": "credit_card",
                "start_at": _utc(start),
                "next_billing_at": _utc(start),
                "created_at": self._now(),
                "customer": {"id": customer["id"], "name": customer["name"]},
                "card": _card_view(card),
                "items": items,
                "metadata": payload.get("metadata") or {},
            }
            self.subscriptions[subscription["id"]] = subscription
            first_amount = sum(i["quantity"] * i["pricing_scheme"]["price"] for i in items)
            minimum = subscription["minimum_price"] or 0
            self._new_invoice(subscription, max(first_amount, minimum), "pending")
            return 200, _subscription_view(subscription)

    async def _change_card(self, request: Request, payload: dict[str, Any]) -> tuple[int, Any]:
        with self.lock:
            subscription = self._subscription(request.path_params["subscription_id"])
            customer = self._customer(subscription["customer"]["id"])
            if payload.get("card_id"):
                card = self._card_of(payload["card_id"], customer)
            else:
                card = self._card_from(payload.get("card"), customer)
            subscription["card"] = _card_view(card)
            return 200, _subscription_view(subscription)

    async def _change_billing_date(
        self, request: Request, payload: dict[str, Any]
    ) -> tuple[int, Any]:
        _require(payload, "", "next_billing_at")
        next_billing = _date_time(payload, "next_billing_at")
        if self._local_date(next_billing) < self.clock.today():
            raise GatewayRefusal(412, "The next billing date must be in the future.")
        with self.lock:
            subscription = self._subscription(request.path_params["subscription_id"])
            subscription["next_billing_at"] = _utc(next_billing)
            return 200, _subscription_view(subscription)

    def _local_date(self, moment: datetime) -> date:
        """The calendar date of `moment` where the gateway is (its clock's zone)."""
        return moment.astimezone(self.clock.zone).date()

    async def _get(self, request: Request, payload: dict[str, Any]) -> tuple[int, Any]:
        with self.lock:
            subscription = self.subscriptions.get(request.path_params["subscription_id"])
            if subscription is None:
                raise GatewayRefusal(404, "Subscription not found.")
            return 200, _subscription_view(subscription)

    async def _list_subscriptions(
        self, request: Request, payload: dict[str, Any]
    ) -> tuple[int, Any]:
        """`GET /subscriptions`, filtered by exact `code`, `status` and `customer_id`."""
        query = request.query_params
        with self.lock:
            matching = [
                _subscription_view(subscription)
                for subscription in self.subscriptions.values()
                if query.get("code", subscription["code"]) == subscription["code"]
                and query.get("status", subscription["status"]) == subscription["status"]
                and query.get("customer_id", subscription["customer"]["id"])
                == subscription["customer"]["id"]
            ]
        return 200, _page(request, matching)

    async def _cancel(self, request: Request, payload: dict[str, Any]) -> tuple[int, Any]:
        with self.lock:
            subscription = self._subscription(request.path_params["subscription_id"])
            subscription["status"] = "canceled"
            subscription["canceled_at"] = self._now()
            if payload.get("cancel_pending_invoices"):
                for invoice in self.invoices.values():
                    if (
                        invoice["subscription"]["id"] == subscription["id"]
                        and invoice["status"] == "pending"
                    ):
                        invoice.update(status="canceled", canceled_at=self._now())
            return 200, _subscription_view(subscription)

    # -- items --------------------------------------------------------------------------------

    def _item_from(self, data: Any) -> Record:
        return _item_from(data, self._now())

    async def _add_item(self, request: Request, payload: dict[str, Any]) -> tuple[int, Any]:
        item = self._item_from(payload)
        with self.lock:
            subscription = self._subscription(request.path_params["subscription_id"])
            subscription["items"].append(item)
            return 200, dict(item)

    def _item(self, request: Request) -> Record:
        subscription = self._subscription(request.path_params["subscription_id"])
        for item in subscription["items"]:
            if item["id"] == request.path_params["item_id"]:
                if item["status"] == "deleted":
                    raise GatewayRefusal(412, "This item was removed.")
                return item
        raise GatewayRefusal(404, "Subscription item not found.")

    async def _update_item(self, request: Request, payload: dict[str, Any]) -> tuple[int, Any]:
        _require(payload, "item", "description", "name", "status", "pricing_scheme")
        if payload["status"] != "active":
            raise GatewayRefusal(422, "The request is invalid.", {"item.status": ["invalid"]})
        changed = self._item_from(payload)
        with self.lock:
            item = self._item(request)
            item.update({k: v for k, v in changed.items() if k not in ("id", "created_at")})
            return 200, dict(item)

    async def _remove_item(self, request: Request, payload: dict[str, Any]) -> tuple[int, Any]:
        with self.lock:
            item = self._item(request)
            item["status"] = "deleted"
            return 200, dict(item)

    # -- invoices -----------------------------------------------------------------------------

    def _new_invoice(self, subscription: Record, amount: int, status: str) -> Record:
        number = sum(
            1 for i in self.invoices.values() if i["subscription"]["id"] == subscription["id"]
        )
        start = self._local_date(datetime.fromisoformat(subscription["start_at"]))
        billing = start + timedelta(days=30 * number)
        invoice = {
            "id": _new_id("in"),
            "code": uuid.uuid4().hex[:10].upper(),
            "url": f"https://sandbox.mundipagg.local/invoices/{uuid.uuid4().hex}",
            "amount": amount,
            "status": status,
            "payment_method": "credit_card",
            "installments": subscription["installments"],
            "billing_at": f"{billing.isoformat()}T03:00:00Z",
            "due_at": f"{billing.isoformat()}T03:00:00Z",
            "created_at": self._now(),
            "canceled_at": None,
            "total_discount": 0,
            "total_increment": 0,
            "subscription": {"id": subscription["id"], "metadata": subscription["metadata"]},
        }
        self.invoices[invoice["id"]] = invoice
        return invoice

    async def _list_invoices(self, request: Request, payload: dict[str, Any]) -> tuple[int, Any]:
        wanted = request.query_params.get("subscription_id")
        with self.lock:
            matching = [
                dict(invoice)
                for invoice in self.invoices.values()
                if wanted is None or invoice["subscription"]["id"] == wanted
            ]
        return 200, _page(request, matching)

    async def _cancel_invoice(self, request: Request, payload: dict[str, Any]) -> tuple[int, Any]:
        with self.lock:
            invoice = self.invoices.get(request.path_params["invoice_id"])
            if invoice is None:
                raise GatewayRefusal(404, "Invoice not found.")
            if invoice["status"] in ("canceled", "paid"):
                raise GatewayRefusal(412, f"Invoice is {invoice['status']}: it cannot be canceled.")
            invoice.update(status="canceled", canceled_at=self._now())
            return 200, dict(invoice)


def _page(request: Request, records: Sequence[Record]) -> Record:
    """One page of a listing (`page`, `size` up to 100) with absolute links to its neighbours."""
    query = request.query_params
    try:
        page = max(1, int(query.get("page", "1")))
        size = min(MAX_PAGE_SIZE, max(1, int(query.get("size", "10"))))
    except ValueError:
        raise GatewayRefusal(400, "The request is invalid.", {"page": ["integer"]}) from None
    start = (page - 1) * size

    def link(to_page: int) -> str:
        return str(request.url.include_query_params(page=to_page, size=size))

    paging = {
        "total": len(records),
        "previous": link(page - 1) if page > 1 else None,
        "next": link(page + 1) if start + size < len(records) else None,
    }
    return {"data": records[start : start + size], "paging": paging}


def _date_time(payload: dict[str, Any], field: str) -> datetime:
    """An RFC 3339 date-time with its offset, as the SDKs send them; 422 for anything else."""
    text = str(payload[field])
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or "T" not in text:
        raise GatewayRefusal(
            422, "The request is invalid.", {field: ["expected an RFC 3339 date-time"]}
        )
    return moment


def _later(moment: datetime, interval: str, count: int) -> datetime:
    """`moment` plus `count` intervals; months and years keep the day where the month has it."""
    if interval in ("day", "week"):
        return moment + timedelta(days=count * (7 if interval == "week" else 1))
    months = moment.month - 1 + count * (12 if interval == "year" else 1)
    year, month = moment.year + months // 12, months % 12 + 1
    return moment.replace(
        year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1])
    )


def _utc(moment: datetime) -> str:
    """A date-time as the gateway answers them: UTC with a Z."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _without_base(path: str) -> str:
    for base in (BASE_PATH, LEGACY_BASE_PATH):
        if path.startswith(base + "/"):
            return path.removeprefix(base)
    return path


def _require(data: dict[str, Any], prefix: str, *fields: str) -> None:
    missing = [name for name in fields if data.get(name) in (None, "")]
    if missing:
        where = f"{prefix}." if prefix else ""
        raise GatewayRefusal(
            422,
            "The request is invalid.",
            {f"{where}{name}": [f"The {name} field is required."] for name in missing},
        )


def _item_from(data: Any, created_at: str) -> Record:
    if not isinstance(data, dict):
        raise GatewayRefusal(422, "The request is invalid.", {"item": ["required"]})
    _require(data, "item", "description", "quantity", "pricing_scheme")
    price = (
        data["pricing_scheme"].get("price") if isinstance(data["pricing_scheme"], dict) else None
    )
    if not isinstance(price, int) or isinstance(price, bool) or price < 0:
        raise GatewayRefusal(
            422, "The request is invalid.", {"item.pricing_scheme.price": ["integer cents"]}
        )
    if not isinstance(data["quantity"], int) or data["quantity"] < 1:
        raise GatewayRefusal(422, "The request is invalid.", {"item.quantity": ["positive"]})
    return {
        "id": _new_id("si"),
        "description": data["description"],
        "name": data.get("name") or data["description"],
        "quantity": data["quantity"],
        "cycles": data.get("cycles"),
        "status": "active",
        "pricing_scheme": {"price": price, "scheme_type": "unit"},
        "created_at": created_at,
    }


def _card_view(card: Record) -> Record:
    return {k: card[k] for k in ("id", "brand", "last_four_digits", "exp_month", "exp_year")}


def _subscription_view(subscription: Record) -> Record:
    return {**subscription, "items": [dict(item) for item in subscription["items"]]}
