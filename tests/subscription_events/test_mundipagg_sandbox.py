"""The Mundipagg emulator's own promises: auth, error shapes, 429, idempotency keys."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from clock import ManualTime
from sandbox.faults import FaultKind
from sandbox.mundipagg import BASE_PATH, LEGACY_BASE_PATH, MundipaggSandbox

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


@pytest.mark.parametrize("base", [BASE_PATH, LEGACY_BASE_PATH])
async def test_subscriptions_are_listed_by_exact_code_on_both_base_paths(
    sandbox: MundipaggSandbox, base: str
) -> None:
    async with httpx.AsyncClient(
        base_url=f"http://sandbox{base}",
        auth=(sandbox.secret_key, ""),
        transport=httpx.ASGITransport(app=sandbox.app),
    ) as http:
        for code in ("100", "1000", "100"):
            await http.post("/subscriptions", json={**NEW_SUBSCRIPTION, "code": code})
        page = (await http.get("/subscriptions", params={"code": "100", "size": 1})).json()
        second = (await http.get(page["paging"]["next"])).json()
        one = (await http.get(f"/subscriptions/{page['data'][0]['id']}")).json()

    assert [s["code"] for s in page["data"] + second["data"]] == ["100", "100"]
    assert page["paging"]["total"] == 2 and second["paging"]["next"] is None
    assert one == page["data"][0]


async def test_an_idempotency_key_is_forgotten_after_24_hours(
    http: httpx.AsyncClient, sandbox: MundipaggSandbox, frozen_clock: ManualTime
) -> None:
    key = {"idempotency-key": "k"}
    await http.post("/subscriptions", json=NEW_SUBSCRIPTION, headers=key)
    frozen_clock.advance(hours=23, minutes=59)
    await http.post("/subscriptions", json=NEW_SUBSCRIPTION, headers=key)
    assert (len(sandbox.subscriptions), sandbox.replays) == (1, 1)

    frozen_clock.advance(minutes=1)
    await http.post("/subscriptions", json=NEW_SUBSCRIPTION, headers=key)
    assert (len(sandbox.subscriptions), sandbox.replays) == (2, 1)


async def test_dates_must_be_rfc_3339_date_times_as_the_sdks_send_them(
    http: httpx.AsyncClient,
) -> None:
    bare = await http.post("/subscriptions", json={**NEW_SUBSCRIPTION, "start_at": "2026-11-22"})
    created = await http.post(
        "/subscriptions", json={**NEW_SUBSCRIPTION, "start_at": "2026-11-22T00:00:00-03:00"}
    )
    subscription = created.json()
    moved = await http.patch(
        f"/subscriptions/{subscription['id']}/billing-date",
        json={"next_billing_at": "2026-12-10T00:00:00-03:00"},
    )
    naive = await http.patch(
        f"/subscriptions/{subscription['id']}/billing-date",
        json={"next_billing_at": "2026-12-10T00:00:00"},
    )

    assert (bare.status_code, list(bare.json()["errors"])) == (422, ["start_at"])
    assert subscription["start_at"] == "2026-11-22T03:00:00Z"
    assert moved.json()["next_billing_at"] == "2026-12-10T03:00:00Z"
    assert (naive.status_code, list(naive.json()["errors"])) == (422, ["next_billing_at"])


async def test_an_item_update_needs_the_fields_the_v5_spec_lists(http: httpx.AsyncClient) -> None:
    subscription = (await http.post("/subscriptions", json=NEW_SUBSCRIPTION)).json()
    item = subscription["items"][0]
    path = f"/subscriptions/{subscription['id']}/items/{item['id']}"
    changed = {"description": "Musculação", "quantity": 2, "pricing_scheme": {"price": 9990}}

    missing = await http.put(path, json=changed)
    done = await http.put(path, json={**changed, "name": "Musculação", "status": "active"})

    assert (missing.status_code, sorted(missing.json()["errors"])) == (
        422,
        ["item.name", "item.status"],
    )
    assert (done.status_code, done.json()["quantity"]) == (200, 2)
