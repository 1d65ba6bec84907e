"""The Mundipagg client alone: error mapping, retries, paging guards, secrets kept out of text."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from blocks.errors import (
    AuthenticationError,
    MalformedResponse,
    NotFound,
    ServerError,
    ValidationFailed,
)
from blocks.http import RetryPolicy
from blocks.mundipagg.client import MundipaggClient
from blocks.mundipagg.models import CustomerData, NewCard

BASE = "https://api.mundipagg.test/core/v1"
FAST = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.01)


def client_for(answer: Callable[[httpx.Request], httpx.Response]) -> MundipaggClient:
    return MundipaggClient(BASE, "sk_test_x", retry=FAST, transport=httpx.MockTransport(answer))


def card() -> NewCard:
    return NewCard(
        number="4111111111111111", holder_name="A B", exp_month=1, exp_year=2031, cvv="737"
    )


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, ValidationFailed), (401, AuthenticationError), (404, NotFound), (412, ValidationFailed),
     (422, ValidationFailed)],
)  # fmt: skip
async def test_refusals_are_permanent_with_the_gateway_message(
    status: int, error: type[Exception]
) -> None:
    calls: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        body = {"message": "Regra violada", "errors": {"items[0].price": ["must be positive"]}}
        return httpx.Response(status, json=body)

    async with client_for(refuse) as client:
        with pytest.raises(error) as raised:
            await client.cancel_invoice("in_1", idempotency_key="guid:cancel")
    assert len(calls) == 1
    assert str(raised.value) == (
        f"mundipagg: HTTP {status}: Regra violada - items[0].price: must be positive"
    )


async def test_writes_send_the_idempotency_key_and_secret_card_data_only_in_the_body() -> None:
    seen: list[httpx.Request] = []

    def register(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200, json={"id": "card_1", "brand": "Visa", "last_four_digits": "1111"}
        )

    async with client_for(register) as client:
        registered = await client.create_card("cus_1", card(), idempotency_key="guid:card")
    assert registered.id == "card_1"
    (request,) = seen
    assert request.headers["idempotency-key"] == "guid:card"
    assert request.headers["authorization"].startswith("Basic ")
    assert json.loads(request.content)["number"] == "4111111111111111"
    assert "4111111111111111" not in repr(card())
    assert "737" not in str(card())


async def test_transient_errors_are_retried_and_rate_limits_honoured() -> None:
    answers = iter(
        [
            httpx.Response(503, text="<html>busy</html>"),
            httpx.Response(429, headers={"Retry-After": "0"}, json={"message": "slow down"}),
            httpx.Response(200, json={"id": "cus_1", "name": "Ana"}),
        ]
    )
    async with client_for(lambda request: next(answers)) as client:
        customer = CustomerData(name="Ana", document="52998224725", type="individual")
        updated = await client.update_customer("cus_1", customer, idempotency_key="k")
    assert updated.id == "cus_1"


async def test_storm_ends_in_a_transient_error_after_the_policy_attempts() -> None:
    calls = 0

    def storm(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(502, text="bad gateway")

    async with client_for(storm) as client:
        with pytest.raises(ServerError):
            await client.cancel_subscription("sub_1", idempotency_key="k")
    assert calls == FAST.attempts


async def test_unexpected_answer_is_malformed_without_echoing_values() -> None:
    def odd(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"brand": "Visa", "number": "4111111111111111"})

    async with client_for(odd) as client:
        with pytest.raises(MalformedResponse) as raised:
            await client.create_card("cus_1", card(), idempotency_key="k")
    assert "id missing" in str(raised.value)
    assert "4111" not in str(raised.value)


def _invoice(number: int) -> dict[str, object]:
    return {"id": f"in_{number}", "amount": 1000, "status": "paid"}


async def test_paging_follows_next_to_the_end() -> None:
    pages = 12

    def listing(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        next_link = f"{BASE}/invoices?subscription_id=sub_1&page={page + 1}&size=2"
        return httpx.Response(
            200,
            json={
                "data": [_invoice(2 * page), _invoice(2 * page + 1)],
                "paging": {"total": 2 * pages, "next": next_link if page < pages else None},
            },
        )

    async with client_for(listing) as client:
        found = await client.subscription_invoices("sub_1", page_size=2)
    assert [invoice.id for invoice in found] == [f"in_{n}" for n in range(2, 2 * pages + 2)]


@pytest.mark.parametrize(
    "next_link",
    [
        f"{BASE}/invoices?subscription_id=sub_1&page=1&size=100",  # points back at itself
        "https://evil.example/core/v1/invoices?page=2",  # would send the key elsewhere
    ],
)
async def test_paging_that_never_ends_or_leaves_the_gateway_is_refused(next_link: str) -> None:
    def listing(request: httpx.Request) -> httpx.Response:
        assert request.url.host == "api.mundipagg.test"
        return httpx.Response(200, json={"data": [], "paging": {"next": next_link}})

    async with client_for(listing) as client:
        with pytest.raises(MalformedResponse, match="paging"):
            await client.subscription_invoices("sub_1")


async def test_an_invoice_repeated_across_pages_is_returned_once() -> None:
    """Offset paging while invoices are being created can show a row on two pages."""

    def invoice(number: int) -> dict[str, object]:
        return {"id": f"in_{number}", "amount": 8990, "status": "pending"}

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.params["page"] == "1":
            page = {"data": [invoice(1), invoice(2)], "paging": {"next": f"{BASE}/invoices?page=2"}}
        else:
            page = {"data": [invoice(2), invoice(3)], "paging": {}}
        return httpx.Response(200, json=page)

    async with client_for(answer) as gateway:
        found = await gateway.subscription_invoices("sub_1")
    assert [i.id for i in found] == ["in_1", "in_2", "in_3"]


async def test_a_write_answered_with_only_its_id_counts_as_done() -> None:
    """Whatever else the gateway leaves out of a cancel's answer, the cancel happened."""
    async with client_for(lambda request: httpx.Response(200, json={"id": "sub_1"})) as client:
        answer = await client.cancel_subscription("sub_1", idempotency_key="k")
    assert answer.id == "sub_1"
