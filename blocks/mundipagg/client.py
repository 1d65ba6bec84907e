"""Async client for the Mundipagg Core API v5 (HTTP Basic with the secret key, JSON, cents).

Every write takes an `idempotency_key`: the gateway keeps keys for 24 h and answers a repeated
key with the first result, so a retried or re-run event never creates a second object. That is
also what makes it safe to retry writes on transient errors here.
No Prefect in this module.
"""

from __future__ import annotations

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
    ValidationFailed,
    basic_auth_secrets,
    excerpt,
    register_secrets,
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
from blocks.mundipagg.models import (
    CustomerData,
    GatewayAck,
    GatewayCard,
    GatewayErrorBody,
    GatewayInvoice,
    GatewayItem,
    GatewaySubscription,
    InvoicePage,
    ItemData,
    NewCard,
    NewSubscription,
    field_problems,
)

SYSTEM = "mundipagg"
DEFAULT_BASE_URL = "https://api.mundipagg.com/core/v1"
MAX_INVOICE_PAGES = 10_000

Answer = TypeVar("Answer", bound=BaseModel)

_PERMANENT_BY_STATUS: dict[int, type[PermanentApiError]] = {
    400: ValidationFailed,
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    412: ValidationFailed,
    422: ValidationFailed,
}


class MundipaggClient(ApiClient):
    def __init__(
        self,
        base_url: str,
        secret_key: str,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy = DEFAULT_RETRY,
        max_connections: int = 20,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        register_secrets(basic_auth_secrets(secret_key, ""))
        self._base_url = httpx.URL(base_url.rstrip("/") + "/")
        self._retry = retry
        super().__init__(
            httpx.AsyncClient(
                base_url=self._base_url,
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
        self, subscription_id: str, next_billing_at: str, *, idempotency_key: str
    ) -> GatewayAck:
        return await self._call(
            "PATCH",
            f"subscriptions/{subscription_id}/billing-date",
            {"next_billing_at": next_billing_at},
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
        self, subscription_id: str, item_id: str, item: ItemData, *, idempotency_key: str
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

    async def subscription_invoices(
        self, subscription_id: str, *, page_size: int = 100
    ) -> list[GatewayInvoice]:
        """Every invoice of the subscription, once each, following `paging.next` until null.

        `next` must stay on the gateway's own base URL (the secret key goes with every request),
        and a page that points back to one already read is a broken answer, not a loop.
        """
        url = self._http.build_request(
            "GET",
            "invoices",
            params={"subscription_id": subscription_id, "page": 1, "size": page_size},
        ).url
        invoices: dict[str, GatewayInvoice] = {}  # by id: offset paging can repeat a row
        seen: set[str] = set()
        while True:
            if str(url) in seen or len(seen) >= MAX_INVOICE_PAGES:
                raise MalformedResponse(
                    f"invoice paging does not end (page {len(seen) + 1} repeats or exceeds "
                    f"{MAX_INVOICE_PAGES})",
                    system=SYSTEM,
                )
            seen.add(str(url))
            page = await self._call("GET", url, None, InvoicePage, None)
            invoices.update((invoice.id, invoice) for invoice in page.data)
            if not page.paging.next:
                return list(invoices.values())
            url = self._own_url(page.paging.next)

    def _own_url(self, link: str) -> httpx.URL:
        url = self._base_url.join(link)
        base = self._base_url
        if (url.scheme, url.host, url.port) != (base.scheme, base.host, base.port) or not (
            url.path.startswith(base.path)
        ):
            raise MalformedResponse(
                "paging.next points outside the gateway's base URL", system=SYSTEM
            )
        return url

    async def _call(
        self,
        method: str,
        url: str | httpx.URL,
        body: BaseModel | dict[str, Any] | None,
        answer: type[Answer],
        idempotency_key: str | None,
    ) -> Answer:
        payload = (
            body.model_dump(mode="json", exclude_none=True) if isinstance(body, BaseModel) else body
        )
        headers = {"idempotency-key": idempotency_key} if idempotency_key else {}

        async def attempt() -> Answer:
            request = self._http.build_request(method, url, json=payload, headers=headers)
            response = await send(self._http, SYSTEM, request)
            if response.status_code >= 400:
                raise _error_from(response)
            return _validated(answer, parse_json(response, SYSTEM), response.status_code)

        return await with_retries(attempt, self._retry)


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
