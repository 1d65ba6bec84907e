"""What crosses the Mundipagg boundary, as pydantic models.

Requests are built from these models and answers are validated into them, so a renamed or missing
field is a clear `MalformedResponse`, not a `KeyError` three calls later. Money is integer cents,
as the gateway speaks it; conversion to `Decimal` happens in `subscription_events.money`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_serializer

Interval = Literal["day", "week", "month", "year"]
# The invoice statuses the ERP's document lists. The gateway may add others: those are kept as
# the text it sent (`rec_fatura.status` is a varchar(50)) and reported, never refused.
KNOWN_INVOICE_STATUSES = frozenset({"pending", "paid", "canceled", "scheduled", "failed"})


def field_problems(error: ValidationError, limit: int = 5) -> str:
    """Which fields were wrong and how - never their values, which may be card or customer data."""
    return ", ".join(
        f"{'.'.join(map(str, problem['loc'])) or 'body'} {problem['type']}"
        for problem in error.errors()[:limit]
    )


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Record(_Answer):
    """A gateway record: what listings are made of, told apart by `id`."""

    id: str


Listed = TypeVar("Listed", bound=_Record)


class PhoneNumber(_Request):
    country_code: str = "55"
    area_code: str
    number: str


class Phones(_Request):
    mobile_phone: PhoneNumber | None = None


class CustomerData(_Request):
    name: str
    email: str | None = None
    document: str
    type: Literal["individual", "company"]
    code: str | None = None
    phones: Phones | None = None


class NewCard(_Request):
    """Card data on its single way to the gateway.

    Number and CVV are `SecretStr`: they print as `**********` in reprs, logs and tracebacks,
    and only the JSON sent to the gateway reveals them.
    """

    number: SecretStr
    holder_name: str
    holder_document: str | None = None
    exp_month: int = Field(ge=1, le=12)
    exp_year: int
    cvv: SecretStr

    @field_serializer("number", "cvv", when_used="json")
    def _reveal_for_the_gateway(self, value: SecretStr) -> str:
        return value.get_secret_value()


class PricingScheme(_Request):
    price: int = Field(ge=0, description="Cents.")


class ItemData(_Request):
    """A subscription item as created (`POST /subscriptions`, `POST /subscriptions/{id}/items`)."""

    description: str
    name: str
    quantity: int = Field(gt=0)
    cycles: int | None = Field(default=None, gt=0)
    pricing_scheme: PricingScheme


class ItemUpdate(ItemData):
    """`PUT /subscriptions/{id}/items/{item_id}`: the v5 spec requires the status with the rest."""

    status: Literal["active"] = "active"


class NewSubscription(_Request):
    customer_id: str | None = None
    customer: CustomerData | None = None
    card_id: str | None = None
    card: NewCard | None = None
    payment_method: Literal["credit_card"] = "credit_card"
    interval: Interval
    interval_count: int = Field(gt=0)
    billing_type: Literal["prepaid", "postpaid", "exact_day"] = "exact_day"
    billing_day: int | None = Field(default=None, ge=1, le=31)
    installments: int = Field(default=1, gt=0)
    minimum_price: int | None = Field(default=None, ge=0, description="Cents.")
    statement_descriptor: str | None = None
    # RFC 3339 date-times, as the official SDKs send them (a bare date leaves the zone to guess).
    start_at: datetime | None = None
    items: list[ItemData]
    metadata: dict[str, str] = Field(default_factory=dict)
    code: str | None = None


class GatewayCustomer(_Answer):
    id: str
    name: str | None = None


class GatewayCard(_Answer):
    id: str
    brand: str | None = None
    last_four_digits: str | None = None


class GatewayItem(_Answer):
    id: str
    description: str
    quantity: int | None = None
    status: str | None = None


class GatewaySubscription(_Record):
    code: str | None = None
    status: str
    customer: GatewayCustomer
    card: GatewayCard | None = None
    items: list[GatewayItem] = Field(default_factory=list)
    next_billing_at: datetime | None = None
    metadata: dict[str, str] | None = None


class SubscriptionRef(_Answer):
    id: str


class GatewayAck(_Answer):
    """The answer to a write whose content we do not use: only proof that it went through."""

    id: str


class GatewayInvoice(_Record):
    code: str | None = None
    url: str | None = None
    amount: int
    status: str
    payment_method: str | None = None
    installments: int | None = None
    due_at: datetime | None = None
    billing_at: datetime | None = None
    created_at: datetime | None = None
    canceled_at: datetime | None = None
    total_discount: int = 0
    total_increment: int = 0
    subscription: SubscriptionRef | None = None


class Paging(_Answer):
    total: int | None = None
    previous: str | None = None
    next: str | None = None


class Page(_Answer, Generic[Listed]):
    """One page of a listing (`page`, `size`): its records and whether more follow."""

    data: list[Listed]
    paging: Paging = Field(default_factory=Paging)


class GatewayErrorBody(_Answer):
    message: str = ""
    errors: dict[str, list[str]] | None = None
