"""Contracts as IXC sends them: every number is a string, fields may be missing."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


def _code(value: Any) -> str:
    return "" if value is None else str(value).strip().upper()


def _is_number(text: str) -> bool:
    """ASCII digits only: `str.isdigit` also accepts "١٢" (and int() reads it as 12)."""
    return text.isascii() and text.isdigit()


DECISION_FIELDS = ("status", "status_internet")


class IxcContract(BaseModel):
    """The contract fields the decision needs (`status`, `status_internet`), normalised.

    `missing_fields` names the ones the record did not have at all: an absent key is missing
    data (never decided on), an empty value is a value (the mapping's rules for it apply).
    """

    model_config = ConfigDict(frozen=True)

    id: int
    customer_id: int | None
    status: str
    status_internet: str
    missing_fields: tuple[str, ...] = ()

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> IxcContract:
        """Parse one `registros[]` entry; raises ValueError when it has no numeric id."""
        raw_id = str(record.get("id", "")).strip()
        if not _is_number(raw_id) or int(raw_id) <= 0:
            raise ValueError("record without a numeric id")
        raw_customer = str(record.get("id_cliente", "")).strip()
        return cls(
            id=int(raw_id),
            customer_id=int(raw_customer) if _is_number(raw_customer) else None,
            status=_code(record.get("status")),
            status_internet=_code(record.get("status_internet")),
            missing_fields=tuple(name for name in DECISION_FIELDS if name not in record),
        )


class IxcStatusMapping(BaseModel):
    """What IXC's contract codes mean for phone service. Defaults follow DESIGN.md.

    Checked in this order: an inactive contract `status` wins; then, for contracts whose
    `status` is one of `statuses_checked_by_internet`, `status_internet` decides; when
    `status_internet` is empty, the contract `status` alone decides. Any code not listed
    (an unknown contract status included) is UNKNOWN, and an UNKNOWN contract is never
    acted on.
    """

    inactive_statuses: list[str] = ["I", "D"]
    statuses_checked_by_internet: list[str] = ["A", "P", "N"]
    active_internet: list[str] = ["A"]
    blocked_internet: list[str] = ["CM", "CA", "FA", "AA", "D"]
    active_statuses_without_internet: list[str] = ["A"]
    blocked_statuses_without_internet: list[str] = ["N"]
