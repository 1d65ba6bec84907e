"""The Mundipagg client alone: error mapping, one attempt per call, paging guards, secrets kept
out of text (the retries are Prefect's: test_event_retries.py)."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from blocks.errors import (
    AuthenticationError,
    MalformedResponse,
    NotFound,
    RateLimited,
    ServerError,
    ValidationFailed,
)
from blocks.mundipagg.client import InconsistentAnswer, MundipaggClient, UnconfirmedWrite
from blocks.mundipagg.models import CustomerData, NewCard

BASE = "https://api.pagar.me.test/core/v5"


def client_for(answer: Callable[[httpx.Request], httpx.Response]) -> MundipaggClient:
    return MundipaggClient(BASE, "sk_test_x", transport=httpx.MockTransport(answer))


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


async def test_each_call_is_one_attempt_and_a_rate_limit_carries_its_wait() -> None:
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "7"}, json={"message": "slow down"}),
            httpx.Response(200, json={"id": "cus_1", "name": "Ana"}),
        ]
    )
    async with client_for(lambda request: next(answers)) as client:
        customer = CustomerData(name="Ana", document="52998224725", type="individual")
        with pytest.raises(RateLimited) as limited:
            await client.update_customer("cus_1", customer, idempotency_key="k")
        updated = await client.update_customer("cus_1", customer, idempotency_key="k")
    assert limited.value.retry_after == 7
    assert updated.id == "cus_1"


async def test_a_storm_is_a_transient_error_at_the_first_attempt() -> None:
    calls = 0

    def storm(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(502, text="bad gateway")

    async with client_for(storm) as client:
        with pytest.raises(ServerError):
            await client.subscription("sub_1")
        # A write that met a 5xx may have been done behind it: its outcome is not known.
        with pytest.raises(UnconfirmedWrite, match="HTTP 502"):
            await client.cancel_subscription("sub_1", idempotency_key="k")
    assert calls == 2


async def test_a_write_refused_with_429_is_known_undone_and_a_5xx_makes_it_unknown() -> None:
    def limited(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "0"}, json={"message": "slow down"})

    async with client_for(limited) as client:
        with pytest.raises(RateLimited):
            await client.cancel_subscription("sub_1", idempotency_key="k")

    async with client_for(lambda request: httpx.Response(503, text="busy")) as client:
        with pytest.raises(UnconfirmedWrite):
            await client.cancel_subscription("sub_1", idempotency_key="k")


async def test_unexpected_answer_is_malformed_without_echoing_values() -> None:
    def odd(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"brand": "Visa", "number": "4111111111111111"})

    async with client_for(odd) as client:
        with pytest.raises(MalformedResponse) as unreadable:
            await client.subscription("sub_1")
        # The card may be registered all the same: a write answered so is unconfirmed.
        with pytest.raises(UnconfirmedWrite) as unconfirmed:
            await client.create_card("cus_1", card(), idempotency_key="k")
    for raised in (unreadable, unconfirmed):
        assert "id missing" in str(raised.value)
        assert "4111" not in str(raised.value)


def _invoice(number: int, subscription: str = "sub_1") -> dict[str, object]:
    return {
        "id": f"in_{number}",
        "amount": 1000,
        "status": "paid",
        "subscription": {"id": subscription},
    }


async def test_paging_reads_every_page_by_number_with_the_filter() -> None:
    pages = 12
    asked: list[httpx.URL] = []

    def listing(request: httpx.Request) -> httpx.Response:
        asked.append(request.url)
        page = int(request.url.params["page"])
        return httpx.Response(
            200,
            json={
                "data": [_invoice(2 * page), _invoice(2 * page + 1)],
                "paging": {"total": 2 * pages, "next": "next" if page < pages else None},
            },
        )

    async with client_for(listing) as client:
        found = await client.subscription_invoices("sub_1", page_size=2)
    assert [invoice.id for invoice in found] == [f"in_{n}" for n in range(2, 2 * pages + 2)]
    assert [url.params["page"] for url in asked] == [str(n) for n in range(1, pages + 1)]
    assert {(url.params["subscription_id"], url.params["size"]) for url in asked} == {
        ("sub_1", "2")
    }


async def test_a_next_link_that_drops_the_filter_never_brings_other_subscriptions_invoices() -> (
    None
):
    """The only real sample of a `next` link adds navigation=True; whether it keeps the filters
    is not documented. A link without `subscription_id` must not import the whole account."""

    def listing(request: httpx.Request) -> httpx.Response:
        wanted = request.url.params.get("subscription_id")
        invoices = [_invoice(n, subscription=f"sub_{n % 3}") for n in range(1, 10)]
        matching = [i for i in invoices if wanted is None or i["subscription"] == {"id": wanted}]
        page, size = int(request.url.params.get("page", "1")), 2
        rows = matching[(page - 1) * size : page * size]
        more = page * size < len(matching)
        next_link = f"{BASE}/invoices?page={page + 1}&size={size}&navigation=True"
        return httpx.Response(
            200, json={"data": rows, "paging": {"next": next_link if more else None}}
        )

    async with client_for(listing) as client:
        found = await client.subscription_invoices("sub_1", page_size=2)
    assert [invoice.id for invoice in found] == ["in_1", "in_4", "in_7"]


async def test_invoices_of_another_subscription_in_the_answer_are_refused() -> None:
    def ignoring_the_filter(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": [_invoice(1), _invoice(2, "sub_9")]})

    async with client_for(ignoring_the_filter) as client:
        with pytest.raises(InconsistentAnswer, match="in_2 of sub_9"):
            await client.subscription_invoices("sub_1")


async def test_paging_that_repeats_itself_is_refused_and_never_leaves_the_gateway() -> None:
    def listing(request: httpx.Request) -> httpx.Response:
        assert request.url.host == "api.pagar.me.test"
        next_link = "https://evil.example/core/v5/invoices?page=2"  # would send the key elsewhere
        return httpx.Response(200, json={"data": [_invoice(1)], "paging": {"next": next_link}})

    async with client_for(listing) as client:
        with pytest.raises(MalformedResponse, match="paging repeats"):
            await client.subscription_invoices("sub_1")


async def test_an_invoice_repeated_across_pages_is_returned_once() -> None:
    """Offset paging while invoices are being created can show a row on two pages."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.params["page"] == "1":
            page = {"data": [_invoice(1), _invoice(2)], "paging": {"next": "more"}}
        else:
            page = {"data": [_invoice(2), _invoice(3)], "paging": {}}
        return httpx.Response(200, json=page)

    async with client_for(answer) as gateway:
        found = await gateway.subscription_invoices("sub_1")
    assert [i.id for i in found] == ["in_1", "in_2", "in_3"]


async def test_subscriptions_are_looked_up_by_exact_code_on_every_page() -> None:
    asked: list[httpx.URL] = []

    def listing(request: httpx.Request) -> httpx.Response:
        asked.append(request.url)
        page = int(request.url.params["page"])
        rows = [
            {"id": f"sub_{page}{n}", "code": code, "status": "active", "customer": {"id": "cus"}}
            for n, code in enumerate(["100", "1000" if page == 1 else "100"])
        ]
        return httpx.Response(
            200, json={"data": rows, "paging": {"next": "n" if page < 2 else None}}
        )

    async with client_for(listing) as client:
        found = await client.subscriptions_with_code("100")
    assert [subscription.id for subscription in found] == ["sub_10", "sub_20", "sub_21"]
    assert [url.path for url in asked] == ["/core/v5/subscriptions"] * 2
    assert {url.params["code"] for url in asked} == {"100"}


async def test_a_write_answered_with_only_its_id_counts_as_done() -> None:
    """Whatever else the gateway leaves out of a cancel's answer, the cancel happened."""
    async with client_for(lambda request: httpx.Response(200, json={"id": "sub_1"})) as client:
        answer = await client.cancel_subscription("sub_1", idempotency_key="k")
    assert answer.id == "sub_1"
