"""The part of a MagnusBilling user we use, parsed from the API's loosely typed rows.

A raw row carries the customer's plaintext password: it is never kept. `MagnusUser` holds only
what the sync needs, so logging or reporting a `MagnusUser` is safe.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

VALID_ACTIVE = range(0, 5)


def _as_int(value: Any) -> int | None:
    """Reads send ints, saves send numeric strings; anything else is not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _as_text(value: Any) -> str:
    return "" if value is None else str(value).strip()


class MagnusUser(BaseModel):
    """A customer as the sync sees it. `active` is None when the server sent no usable number."""

    model_config = ConfigDict(frozen=True)

    id: int
    username: str
    active: int | None
    contract_ref: str | None
    name: str
    document: str

    @classmethod
    def from_row(cls, row: dict[str, Any], contract_field: str) -> MagnusUser:
        """Build from one `rows[]` entry; raises ValueError when the row has no usable id."""
        user_id = _as_int(row.get("id"))
        if user_id is None or user_id <= 0:
            raise ValueError("row without a valid id")
        company = _as_text(row.get("company_name"))
        person = " ".join(
            part for part in (_as_text(row.get("firstname")), _as_text(row.get("lastname"))) if part
        )
        contract = row.get(contract_field)
        return cls(
            id=user_id,
            username=_as_text(row.get("username")),
            active=_as_int(row.get("active")),
            contract_ref=None if contract is None else str(contract),
            name=company or person,
            document=_as_text(row.get("doc")),
        )
