"""The part of a MagnusBilling user we use, parsed from the API's loosely typed rows.

A raw row carries the customer's plaintext password: it is never kept. `MagnusUser` holds only
what the sync needs, so logging or reporting a `MagnusUser` is safe.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

VALID_ACTIVE = range(0, 5)
INT64 = range(-(2**63), 2**63)  # what the plan's integer columns (pandas Int64) hold exactly
_Int64 = Field(ge=INT64.start, le=INT64.stop - 1)
_CANONICAL_INT = re.compile(r"0|-?[1-9][0-9]*", re.ASCII)
_TEXT_SHOWN = 40  # characters of an unusable value kept for the report


def _as_int(value: Any) -> int | None:
    """An integer the server sent: reads send ints, `createUser` echoes canonical strings.

    Anything else is not a number we trust, and is None: "1.5", " 1", "+1", "-0", "01",
    non-ASCII digits, booleans, floats, and values outside int64 (which no Magnus column holds).
    """
    if isinstance(value, str) and _CANONICAL_INT.fullmatch(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if value in INT64 else None


def user_id_of(row: Any) -> int | None:
    """The id of a raw `rows[]` entry, or None when it has no usable (positive) one."""
    user_id = _as_int(row.get("id")) if isinstance(row, dict) else None
    return user_id if user_id is not None and user_id > 0 else None


def _as_text(value: Any) -> str:
    return "" if value is None else str(value).strip()


class MagnusUser(BaseModel):
    """A customer as the sync sees it. `active` is None when the server sent no usable number;
    `active_text` then says what it sent instead ("" when nothing), for the report."""

    model_config = ConfigDict(frozen=True)

    id: int = _Int64
    username: str
    active: int | None = _Int64
    active_text: str = ""
    contract_ref: str | None
    name: str
    document: str

    @classmethod
    def from_row(cls, row: dict[str, Any], contract_field: str) -> MagnusUser:
        """Build from one `rows[]` entry; raises ValueError when the row has no usable id."""
        user_id = user_id_of(row)
        if user_id is None:
            raise ValueError("row without a valid id")
        company = _as_text(row.get("company_name"))
        person = " ".join(
            part for part in (_as_text(row.get("firstname")), _as_text(row.get("lastname"))) if part
        )
        contract = row.get(contract_field)
        raw_active = row.get("active")
        active = _as_int(raw_active)
        return cls(
            id=user_id,
            username=_as_text(row.get("username")),
            active=active,
            active_text="" if active is not None or raw_active is None else _shown(raw_active),
            contract_ref=None if contract is None else str(contract),
            name=company or person,
            document=_as_text(row.get("doc")),
        )


def _shown(value: Any) -> str:
    text = str(value)
    return text if len(text) <= _TEXT_SHOWN else text[: _TEXT_SHOWN - 1] + "…"
