"""The shared plumbing of every client: secrets masked in every excerpt, honest Retry-After.

Each of the four clients is put behind a proxy that echoes the whole request (URL, headers with
the Authorization, body) in its error pages - persistently, so a retry cannot hide it - and
every error the client raises, with its whole chain, must be free of the client's secrets.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from blocks.discord.client import MAX_BUCKET_WAIT, DiscordWebhook
from blocks.discord.models import DiscordMessage
from blocks.errors import (
    ApiError,
    ApiTimeout,
    ConnectionFailed,
    RateLimited,
    RetryAfterTooLong,
    ServerError,
    ValidationFailed,
    excerpt,
    is_transient,
)
from blocks.http import RetryPolicy, retry_after_seconds, send
from blocks.ixc.client import IxcClient
from blocks.magnusbilling.client import MagnusBillingClient
from blocks.mundipagg.client import MundipaggClient

MAGNUS_KEY, MAGNUS_SECRET = "mb-K3Y-echo-7f1c9a2b", "mb-S3CR3T-echo-88d2e0f1"
IXC_TOKEN = "42:ixc-T0K3N-echo-hash-5b7e91"
WEBHOOK_TOKEN = "W3BH00K-echo-t0ken-a1b2c3d4"
WEBHOOK_URL = f"https://discord.test/api/webhooks/123456789/{WEBHOOK_TOKEN}"
MUNDIPAGG_KEY = "sk_test_ECH0s3cr3tK3y9a8b7c6"

SECRETS = {
    "magnusbilling": [MAGNUS_KEY, MAGNUS_SECRET],
    "ixc": [IXC_TOKEN, IXC_TOKEN.split(":")[1], base64.b64encode(IXC_TOKEN.encode()).decode()],
    "discord": [WEBHOOK_TOKEN],
    "mundipagg": [MUNDIPAGG_KEY, base64.b64encode(f"{MUNDIPAGG_KEY}:".encode()).decode()],
}


def echo_of(request: httpx.Request) -> str:
    """What a misconfigured proxy or debug page shows: the request, secrets and all (the
    credentials first, so that no excerpt is short enough to miss them)."""
    credentials = {"authorization", "key", "sign"}
    headers = sorted(request.headers.items(), key=lambda item: item[0] not in credentials)
    lines = "\n".join(f"{name}: {value}" for name, value in headers)
    body = request.content.decode("utf-8", "replace")
    return f"{lines}\n{request.method} {request.url}\n\n{body}"


def html_echo(status: int) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        page = f"<html><body><h1>Error {status}</h1><pre>{echo_of(request)}</pre></body></html>"
        return httpx.Response(status, text=page, headers={"Content-Type": "text/html"})

    return answer


def json_echo(status: int) -> Callable[[httpx.Request], httpx.Response]:
    """Every error field the four systems use, each quoting the request."""

    def answer(request: httpx.Request) -> httpx.Response:
        echo = echo_of(request)
        body = {
            "success": False,
            "type": "error",
            "message": echo,
            "mensagem": echo,
            "msg": echo,
            "errors": echo,
            "rows": [],
        }
        return httpx.Response(status, json=body)

    return answer


ECHOES = [
    pytest.param(kind(status), id=f"{kind.__name__}-{status}")
    for kind in (html_echo, json_echo)
    for status in (200, 400, 401, 403, 404, 422, 500, 503)
]


async def magnus_calls(transport: httpx.MockTransport) -> list[BaseException | str]:
    failures = []
    async with MagnusBillingClient(
        "http://magnus.test", MAGNUS_KEY, MAGNUS_SECRET, transport=transport
    ) as magnus:
        for call in (magnus.read_users, lambda: magnus.set_active(2, 4)):
            failures.append(await raised_by(call))
    return failures


async def ixc_calls(transport: httpx.MockTransport) -> list[BaseException | str]:
    async with IxcClient("http://ixc.test", IXC_TOKEN, transport=transport) as ixc:
        listing = await ixc.contracts([10, 11])
    assert listing.failed_ids, "the read failed and says why"
    problems = [text for p in listing.problems for text in (str(p), p.describe("pt-BR"))]
    return [*map(str, listing.failed_ids.values()), *problems]


async def discord_calls(transport: httpx.MockTransport) -> list[BaseException | str]:
    async with DiscordWebhook(WEBHOOK_URL, transport=transport) as hook:
        return [await raised_by(lambda: hook.post(DiscordMessage(content="oi")))]


async def mundipagg_calls(transport: httpx.MockTransport) -> list[BaseException | str]:
    async with MundipaggClient(
        "http://mundipagg.test/core/v1", MUNDIPAGG_KEY, transport=transport
    ) as gateway:
        return [
            await raised_by(lambda: gateway.cancel_subscription("sub_1", idempotency_key="k1")),
            await raised_by(lambda: gateway.subscription_invoices("sub_1")),
        ]


async def raised_by(call: Callable[[], Awaitable[Any]]) -> BaseException | str:
    """The error the call raised ("" when the answer counted as a success)."""
    try:
        await call()
    except ApiError as error:
        return error
    return ""


def texts_of(failure: BaseException | str) -> list[str]:
    """The failure, every exception it chains to, their args and attributes, as text."""
    if isinstance(failure, str):
        return [failure]
    texts: list[str] = []
    seen: BaseException | None = failure
    while seen is not None:
        texts += [str(seen), repr(seen), *map(str, seen.args), *map(str, vars(seen).values())]
        seen = seen.__cause__ or seen.__context__
    return texts


CLIENTS = {
    "magnusbilling": magnus_calls,
    "ixc": ixc_calls,
    "discord": discord_calls,
    "mundipagg": mundipagg_calls,
}


@pytest.mark.parametrize("system", list(CLIENTS))
@pytest.mark.parametrize("answer", ECHOES)
async def test_no_client_puts_a_secret_from_an_echoing_answer_in_its_errors(
    system: str, answer: Callable[[httpx.Request], httpx.Response], caplog
):
    caplog.set_level(logging.DEBUG)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request)

    failures = await CLIENTS[system](httpx.MockTransport(handler))
    assert seen, "the client asked"
    echoed = echo_of(seen[0])
    assert any(secret in echoed for secret in SECRETS[system]), "the echo carries the secret"
    texts = [text for failure in failures for text in texts_of(failure)]
    texts += [record.getMessage() for record in caplog.records]
    for text in texts:
        for secret in SECRETS[system]:
            assert secret not in text, f"{secret[:8]}… leaked: {text[:300]}"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Authorization: Basic NDI6aXhjLXRva2VuLWhhc2g=", "Authorization: ***"),
        ('{"authorization": "Bearer eyJhbGciOi.eyJzdWIi.c2lnbmF0"}', '"authorization": "***'),
        ("proxy saw Basic NDI6aXhjLXRva2VuLWhhc2g= in the request", "Basic ***"),
        ("bad key sk_live_a1B2c3D4e5F6g7H8 for this account", "bad key *** for"),
        ("public pk_test_a1B2c3D4e5F6g7H8 and ak_live_Z9y8X7w6V5u4", "public *** and ***"),
        ("POST https://discord.com/api/webhooks/123456/AbC-dEf_GhI?wait=true", "/123456/***?wait"),
        (r'{"url": "https:\/\/discord.com\/api\/webhooks\/123456\/AbCdEfGh"}', r"123456\/***"),
        ("path=%2Fapi%2Fwebhooks%2F123456%2FAbCdEfGh&x=1", "%2F123456%2F***&x=1"),
        ("Key: mbkey-0123456789\nSign: 9f8e7d6c5b4a", "Key: *** Sign: ***"),
        ('{"password":"s3cr3t-pw","cvv":"737","number":"4111111111111111"}', '"cvv":***'),
    ],
)
def test_excerpts_mask_every_form_a_credential_takes(text: str, kept: str):
    masked = excerpt(text, 500)
    assert kept in masked, masked
    for secret in ("NDI6aXhj", "eyJhbGci", "a1B2c3D4", "Z9y8X7", "AbC", "mbkey", "9f8e7d"):
        assert secret not in masked
    assert "s3cr3t-pw" not in masked and "4111111111111111" not in masked


def test_excerpts_keep_what_an_operator_needs():
    for text in (
        "HTTP 404: Unknown Webhook",
        "Active must be a number.",
        "Technical information: 1264 Out of range value for column 'active' at row 1",
        "Token inválido ou sem permissão de acesso",
    ):
        assert excerpt(text) == text


def test_a_registered_secret_is_masked_in_any_form_and_in_error_messages():
    IxcClient("http://ixc.test", "77:raw-ixc-hash-value-0099")  # registers its token
    basic = base64.b64encode(b"77:raw-ixc-hash-value-0099").decode()
    text = f"token was 77:raw-ixc-hash-value-0099 ({basic}); hash raw-ixc-hash-value-0099"
    assert "raw-ixc-hash" not in excerpt(text, 500)
    assert basic not in excerpt(text, 500)
    error = ValidationFailed(f"rejected: {text}", system="ixc")
    assert "raw-ixc-hash" not in str(error) and basic not in repr(error)


def test_httpx_request_logs_never_show_a_webhook_token(caplog):
    caplog.set_level(logging.INFO, logger="httpx")
    logging.getLogger("httpx").info('HTTP Request: POST %s "HTTP/1.1 200 OK"', WEBHOOK_URL)
    [record] = [r for r in caplog.records if r.name == "httpx"]
    assert WEBHOOK_TOKEN not in record.getMessage()
    assert "/api/webhooks/123456789/***" in record.getMessage()


# ---- Retry-After ------------------------------------------------------------------------------


def rate_limited(headers: dict[str, str] | None = None, body: Any = None) -> httpx.Response:
    content = b"" if body is None else json.dumps(body).encode()
    return httpx.Response(429, headers=headers or {}, content=content)


def http_date(seconds_from_now: float, zone: str = "GMT") -> str:
    when = datetime.now(UTC) + timedelta(seconds=seconds_from_now)
    return format_datetime(when, usegmt=True).replace("GMT", zone)


@pytest.mark.parametrize("zone", ["GMT", "-0000", "+0000", "UT", "UTC"])
def test_an_http_date_retry_after_is_read_in_any_utc_spelling(zone: str):
    wait = retry_after_seconds(rate_limited({"Retry-After": http_date(120, zone)}))
    assert wait is not None and 110 < wait <= 121


def test_a_date_in_another_zone_and_a_date_in_the_past():
    when = datetime.now(UTC) + timedelta(seconds=90)
    in_sao_paulo = format_datetime(when.astimezone(timezone(timedelta(hours=-3))))
    assert 80 < (retry_after_seconds(rate_limited({"Retry-After": in_sao_paulo})) or 0) <= 91
    assert retry_after_seconds(rate_limited({"Retry-After": http_date(-60)})) == 0.0


@pytest.mark.parametrize(
    "header",
    ["soon", "", "Wed, 99 Foo 2015 07:28:00 GMT", "Wed, 21 Oct 99999 07:28:00 GMT", "nan", "inf",
     "-inf", "1e999", "Mon, 32 Jan 2026 25:61:61 -0000", "Wed, 21 Oct 2015 07:28:00 +9999", "\x00"],
)  # fmt: skip
def test_a_garbage_retry_after_is_none_never_an_exception(header: str):
    assert retry_after_seconds(rate_limited({"Retry-After": header})) is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [({"retry_after": 1.5}, 1.5), ({"retry_after": True}, None), ({"retry_after": "2"}, None),
     ({"retry_after": float("nan")}, None), ({"retry_after": -3}, 0.0), ([1, 2], None)],
)  # fmt: skip
def test_discords_retry_after_body_is_read_only_when_it_is_a_number(body: Any, expected):
    response = httpx.Response(429, content=json.dumps(body).encode())
    assert retry_after_seconds(response) == expected


def test_a_retry_after_longer_than_the_backoff_cap_is_waited_in_full():
    policy = RetryPolicy(max_delay=30.0, jitter=0.0, max_retry_after=300.0)
    error = RateLimited("429", system="discord", retry_after=120.0)
    assert policy.delay(1, error) == 120.0
    assert policy.delay(1, RateLimited("429", system="discord", retry_after=0.1)) == 0.5
    assert policy.delay(9, ServerError("503", system="ixc")) == 30.0


def test_a_retry_after_beyond_the_ceiling_fails_clearly_with_what_was_asked():
    policy = RetryPolicy(max_retry_after=300.0)
    with pytest.raises(RetryAfterTooLong, match="asked to wait 3600 s, more than the 300 s"):
        policy.delay(1, RateLimited("429", system="ixc", retry_after=3600.0))


async def test_a_discord_429_with_an_odd_http_date_is_rate_limited_with_its_wait_not_a_crash():
    """The wait travels on the error for the task that retries; the next post is delivered."""
    answers = iter(
        [
            rate_limited({"Retry-After": http_date(30, "-0000"), "Via": "1.1 google"}),
            httpx.Response(200, json={"id": "1"}),
        ]
    )
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return next(answers)

    async with DiscordWebhook(WEBHOOK_URL, transport=httpx.MockTransport(handler)) as hook:
        with pytest.raises(RateLimited) as caught:
            await hook.post(DiscordMessage(content="oi"))
        assert len(seen) == 1
        await hook.post(DiscordMessage(content="oi"))
    assert len(seen) == 2
    assert is_transient(caught.value)
    assert caught.value.retry_after is not None and 20 < caught.value.retry_after <= 31


async def test_an_endless_rate_limit_bucket_does_not_stall_the_next_message(monkeypatch):
    waits: list[float] = []

    async def no_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr("blocks.discord.client.asyncio.sleep", no_sleep)
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "inf"}
    transport = httpx.MockTransport(
        lambda r: httpx.Response(200, json={"id": "1"}, headers=headers)
    )
    async with DiscordWebhook(WEBHOOK_URL, transport=transport) as hook:
        await hook.post(DiscordMessage(content="1"))
        await hook.post(DiscordMessage(content="2"))
    assert waits and max(waits) <= MAX_BUCKET_WAIT


@pytest.mark.parametrize(
    ("failure", "expected", "text"),
    [
        (httpx.ConnectError("refused"), ConnectionFailed, "could not connect (ConnectError)"),
        (httpx.ReadError("reset"), ConnectionFailed, "connection failed (ReadError)"),
        (httpx.ReadTimeout("slow"), ApiTimeout, "no answer in time (ReadTimeout)"),
    ],
)
async def test_a_refused_connection_is_a_transient_failure_not_a_timeout(
    failure: httpx.TransportError, expected: type, text: str
):
    def handler(request: httpx.Request) -> httpx.Response:
        raise failure

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(expected) as caught:
            await send(client, "magnusbilling", client.build_request("GET", "http://m.test/"))
    assert type(caught.value) is expected and is_transient(caught.value)
    assert str(caught.value) == f"magnusbilling: {text}"
    assert caught.value.problem.describe("en") == str(caught.value)
