"""Async client for the Pagar.me Core API v5 (formerly Mundipagg): HTTP Basic with the secret
key, JSON, cents.

The same client speaks to the legacy Mundipagg API (`LEGACY_BASE_URL`, being retired): every path
it uses is the same in both. Every write takes an `idempotency_key`: the gateway keeps keys for
24 h and answers a repeated key with the first result, so a retried or re-run event never creates
a second object within that time. That is what makes it safe for the caller to retry a write
that failed on a transient error: each call here is one attempt (subscription-events retries a
whole event as a Prefect task retry, with the same keys). A write that fails on a transient
error may have been done all the same (`UnconfirmedWrite`). No Prefect in this module.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from blocks.errors import (
    ApiError,
    AuthenticationError,
    MalformedResponse,
    NotFound,
    PermanentApiError,
    PermissionDenied,
    RateLimited,
    TransientApiError,
    ValidationFailed,
    basic_auth_secrets,
    excerpt,
    register_secrets,
)
from blocks.http import ApiClient, parse_json, response_text, send
from blocks.mundipagg.models import (
    CustomerData,
    GatewayAck,
    GatewayCard,
    GatewayErrorBody,
    GatewayInvoice,
    GatewayItem,
    GatewaySubscription,
    ItemData,
    ItemUpdate,
    Listed,
    NewCard,
    NewSubscription,
    Page,
    field_problems,
)

SYSTEM = "mundipagg"
DEFAULT_BASE_URL = "https://api.pagar.me/core/v5"
LEGACY_BASE_URL = "https://api.mundipagg.com/core/v1"
LISTING_PAGE_SIZE = 100
MAX_PAGES = 10_000

Answer = TypeVar("Answer", bound=BaseModel)

_PERMANENT_BY_STATUS: dict[int, type[PermanentApiError]] = {
    400: ValidationFailed,
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    412: ValidationFailed,
    422: ValidationFailed,
}


class UnconfirmedWrite(TransientApiError):
    """A write that may have been done although no answer confirmed it.

    It timed out, broke off, got a 5xx or an unreadable answer after the gateway had the request.
    Only a 429 - refused before any work - leaves a write known to be undone. Transient: a retry
    with the same idempotency key gets the first result, or does the work once.
    """


class InconsistentAnswer(PermanentApiError):
    """The gateway answered other than asked (e.g. invoices of another subscription)."""


class MundipaggClient(ApiClient):
    def __init__(
        self,
        base_url: str,
        secret_key: str,
        *,
        timeout: float = 30.0,
        max_connections: int = 20,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        register_secrets(basic_auth_secrets(secret_key, ""))
        super().__init__(
            httpx.AsyncClient(
                base_url=httpx.URL(base_url.rstrip("/") + "/"),
                auth=httpx.BasicAuth(secret_key, ""),
                timeout=timeout,
                transport=transport,
                limits=httpx.Limits(max_connections=max_connections),
            )
        )

    async def create_subscription(
        self, subscription: NewSubscription, *, idempotency_key: str
    ) -> GatewaySubscription:
        return await self._call(
            "POST", "subscriptions", subscription, GatewaySubscription, idempotency_key
        )

    async def create_card(
        self, customer_id: str, card: NewCard, *, idempotency_key: str
    ) -> GatewayCard:
        return await self._call(
            "POST", f"customers/{customer_id}/cards", card, GatewayCard, idempotency_key
        )

    async def change_subscription_card(
        self, subscription_id: str, card_id: str, *, idempotency_key: str
    ) -> GatewayAck:
        return await self._call(
            "PATCH",
            f"subscriptions/{subscription_id}/card",
            {"card_id": card_id},
            GatewayAck,
            idempotency_key,
        )

    async def change_next_billing_date(
        self, subscription_id: str, next_billing_at: datetime, *, idempotency_key: str
    ) -> GatewayAck:
        """`next_billing_at` as an RFC 3339 date-time with its offset, as the SDKs send it."""
        return await self._call(
            "PATCH",
            f"subscriptions/{subscription_id}/billing-date",
            {"next_billing_at": next_billing_at.isoformat()},
            GatewayAck,
            idempotency_key,
        )

    async def cancel_subscription(
        self, subscription_id: str, *, idempotency_key: str
    ) -> GatewayAck:
        return await self._call(
            "DELETE",
            f"subscriptions/{subscription_id}",
            {"cancel_pending_invoices": True},
            GatewayAck,
            idempotency_key,
        )

    async def update_customer(
        self, customer_id: str, customer: CustomerData, *, idempotency_key: str
    ) -> GatewayAck:
        return await self._call(
            "PUT", f"customers/{customer_id}", customer, GatewayAck, idempotency_key
        )

    async def add_item(
        self, subscription_id: str, item: ItemData, *, idempotency_key: str
    ) -> GatewayItem:
        return await self._call(
            "POST", f"subscriptions/{subscription_id}/items", item, GatewayItem, idempotency_key
        )

    async def update_item(
        self, subscription_id: str, item_id: str, item: ItemUpdate, *, idempotency_key: str
    ) -> GatewayAck:
        return await self._call(
            "PUT",
            f"subscriptions/{subscription_id}/items/{item_id}",
            item,
            GatewayAck,
            idempotency_key,
        )

    async def remove_item(
        self, subscription_id: str, item_id: str, *, idempotency_key: str
    ) -> GatewayAck:
        return await self._call(
            "DELETE",
            f"subscriptions/{subscription_id}/items/{item_id}",
            None,
            GatewayAck,
            idempotency_key,
        )

    async def cancel_invoice(self, invoice_id: str, *, idempotency_key: str) -> GatewayInvoice:
        return await self._call(
            "DELETE", f"invoices/{invoice_id}", None, GatewayInvoice, idempotency_key
        )

    async def subscription(self, subscription_id: str) -> GatewaySubscription:
        """The subscription as the gateway holds it now (canceled ones too)."""
        return await self._call(
            "GET", f"subscriptions/{subscription_id}", None, GatewaySubscription, None
        )

    async def subscriptions_with_code(self, code: str) -> list[GatewaySubscription]:
        """Every subscription whose `code` is exactly `code`, canceled ones included.

        `GET /subscriptions?code=...` is the gateway's filter; matches are checked here again in
        case it matches loosely (a prefix, another case).
        """
        found = await self._listing("subscriptions", {"code": code}, Page[GatewaySubscription])
        return [subscription for subscription in found if subscription.code == code]

    async def subscription_invoices(
        self, subscription_id: str, *, page_size: int = LISTING_PAGE_SIZE
    ) -> list[GatewayInvoice]:
        """Every invoice of the subscription, once each; one of another subscription is refused."""
        found = await self._listing(
            "invoices", {"subscription_id": subscription_id}, Page[GatewayInvoice], page_size
        )
        for invoice in found:
            owner = invoice.subscription.id if invoice.subscription else None
            if owner != subscription_id:
                raise InconsistentAnswer(
                    f"listing invoices of {subscription_id} returned invoice {invoice.id} of "
                    f"{owner or 'no subscription'}",
                    system=SYSTEM,
                )
        return found

    async def _listing(
        self,
        path: str,
        filters: dict[str, str],
        page_type: type[Page[Listed]],
        page_size: int = LISTING_PAGE_SIZE,
    ) -> list[Listed]:
        """Every record of a listing, asking for pages by number with the filters on each one.

        `paging.next` only tells whether another page follows; it is never requested as given: a
        link that lost a filter would list other subscriptions' records, and one on another host
        would receive the secret key. Offset paging can repeat a record on the next page (kept
        once); a page with nothing new means the paging is broken.
        """
        records: dict[str, Listed] = {}
        for number in range(1, MAX_PAGES + 1):
            params: dict[str, str | int] = {**filters, "page": number, "size": page_size}
            page = await self._call("GET", path, None, page_type, None, params=params)
            new = {item.id: item for item in page.data if item.id not in records}
            if page.data and not new:
                raise MalformedResponse(
                    f"{path} paging repeats itself (page {number} brings nothing new)",
                    system=SYSTEM,
                )
            records.update(new)
            if not page.paging.next or not page.data:
                return list(records.values())
        raise MalformedResponse(f"{path} paging does not end ({MAX_PAGES} pages)", system=SYSTEM)

    async def _call(
        self,
        method: str,
        path: str,
        body: BaseModel | dict[str, Any] | None,
        answer: type[Answer],
        idempotency_key: str | None,
        *,
        params: dict[str, str | int] | None = None,
    ) -> Answer:
        payload = (
            body.model_dump(mode="json", exclude_none=True) if isinstance(body, BaseModel) else body
        )
        headers = {"idempotency-key": idempotency_key} if idempotency_key else {}
        request = self._http.build_request(
            method, path, json=payload, headers=headers, params=params
        )
        try:
            response = await send(self._http, SYSTEM, request)
            if response.status_code >= 400:
                raise _error_from(response)
            return _validated(answer, parse_json(response, SYSTEM), response.status_code)
        except TransientApiError as error:
            if method == "GET" or isinstance(error, RateLimited):
                raise
            # The gateway may have had the request and done the work.
            raise UnconfirmedWrite(
                error.message, system=SYSTEM, status_code=error.status_code
            ) from None


def _error_from(response: httpx.Response) -> ApiError:
    """A permanent error carrying the gateway's own message and field errors."""
    status = response.status_code
    try:
        body = GatewayErrorBody.model_validate(parse_json(response, SYSTEM))
        details = "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in (body.errors or {}).items()
        )
        message = " - ".join(part for part in (body.message, details) if part)
    except (ApiError, ValidationError):
        message = response_text(response)
    error_type = _PERMANENT_BY_STATUS.get(status, PermanentApiError)
    return error_type(
        f"HTTP {status}: {excerpt(message, 240) or 'no message'}", system=SYSTEM, status_code=status
    )


def _validated(answer: type[Answer], data: Any, status: int) -> Answer:
    """The answer as `answer`; the pydantic error (it holds the input: card or customer data)
    is not kept as the raised error's context."""
    try:
        return answer.model_validate(data)
    except ValidationError as exc:
        problems = field_problems(exc)
    raise MalformedResponse(
        f"unexpected {answer.__name__} answer (HTTP {status}): {problems}",
        system=SYSTEM,
        status_code=status,
    )
