"""The Mundipagg emulator's own promises: auth, error shapes, 429, idempotency keys."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from sandbox.faults import FaultKind
from sandbox.mundipagg import BASE_PATH, MundipaggSandbox

NEW_SUBSCRIPTION = {
    "customer": {"name": "Ana", "document": "52998224725", "type": "individual"},
    "card": {"number": "4111111111111111", "exp_month": 12, "exp_year": 2031, "cvv": "737"},
    "payment_method": "credit_card",
    "interval": "month",
    "interval_count": 1,
    "items": [{"description": "Musculação", "quantity": 1, "pricing_scheme": {"price": 8990}}],
}


@pytest.fixture
def sandbox() -> MundipaggSandbox:
    return MundipaggSandbox()


@pytest.fixture
async def http(sandbox: MundipaggSandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=f"http://sandbox{BASE_PATH}",
        auth=(sandbox.secret_key, ""),
        transport=httpx.ASGITransport(app=sandbox.app),
    ) as client:
        yield client


async def test_wrong_key_is_401(http: httpx.AsyncClient) -> None:
    answer = await http.get("/invoices", auth=("sk_wrong", ""))
    assert answer.status_code == 401
    assert answer.json()["message"].startswith("Authorization has been denied")


async def test_a_repeated_key_replays_the_first_answer_and_creates_nothing(
    http: httpx.AsyncClient, sandbox: MundipaggSandbox
) -> None:
    first = await http.post(
        "/subscriptions", json=NEW_SUBSCRIPTION, headers={"idempotency-key": "k"}
    )
    again = await http.post(
        "/subscriptions", json=NEW_SUBSCRIPTION, headers={"idempotency-key": "k"}
    )
    other_call = await http.delete(
        f"/subscriptions/{first.json()['id']}", headers={"idempotency-key": "k"}
    )

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert (len(sandbox.subscriptions), len(sandbox.customers), len(sandbox.cards)) == (1, 1, 1)
    assert sandbox.replays == 1
    assert other_call.status_code == 422


async def test_error_shapes(http: httpx.AsyncClient) -> None:
    created = (await http.post("/subscriptions", json=NEW_SUBSCRIPTION)).json()
    missing = await http.post("/subscriptions", json={**NEW_SUBSCRIPTION, "items": []})
    bad_card = await http.post(
        "/subscriptions",
        json={
            **NEW_SUBSCRIPTION,
            "card": {**NEW_SUBSCRIPTION["card"], "number": "4111111111111112"},
        },
    )
    unknown = await http.delete("/subscriptions/sub_nope")
    await http.delete(f"/subscriptions/{created['id']}")
    twice = await http.delete(f"/subscriptions/{created['id']}")

    assert (missing.status_code, list(missing.json()["errors"])) == (422, ["items"])
    assert (bad_card.status_code, list(bad_card.json()["errors"])) == (400, ["card.number"])
    assert "4111111111111112" not in bad_card.text
    assert (unknown.status_code, unknown.json()["message"]) == (404, "Subscription not found.")
    assert twice.status_code == 412
    assert "number" not in created["card"]


async def test_rate_limit_answers_429_with_retry_after(
    http: httpx.AsyncClient, sandbox: MundipaggSandbox
) -> None:
    sandbox.faults.add(FaultKind.RATE_LIMIT, retry_after=2)
    limited = await http.get("/invoices")
    assert (limited.status_code, limited.headers["retry-after"]) == (429, "2")
    assert limited.json() == {"message": "API rate limit exceeded"}
    assert (await http.get("/invoices")).status_code == 200


async def test_invoice_pages_link_to_the_next_until_the_end(
    http: httpx.AsyncClient, sandbox: MundipaggSandbox
) -> None:
    created = (await http.post("/subscriptions", json=NEW_SUBSCRIPTION)).json()
    sandbox.add_invoices(created["id"], 4)
    link: str | None = f"/invoices?subscription_id={created['id']}&size=2"
    seen: list[str] = []
    while link:
        page = (await http.get(link)).json()
        seen += [invoice["id"] for invoice in page["data"]]
        link = page["paging"]["next"]
    assert len(seen) == len(set(seen)) == 5
