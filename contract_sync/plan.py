"""Join Magnus customers with their IXC contracts and decide, for everyone at once (pandas).

One row per Magnus customer. A customer is only ever given a change when both sides were
read completely and mean something we know; every other case gets a Skip with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from string import Formatter
from typing import Any, cast

import numpy as np
import pandas as pd
from pydantic import BaseModel

from blocks.errors import Problem
from blocks.ixc.models import IxcContract, IxcStatusMapping
from blocks.magnusbilling.models import INT64, MagnusUser
from contract_sync.decide import CHANGES, DECISIONS, Action, target_active
from contract_sync.status import Standing, ixc_standing, magnus_standing
from contract_sync.texts import DEFAULT_LANGUAGE, label, say, template

PLAN_COLUMNS = [
    "magnus_id",
    "username",
    "customer",
    "document",
    "contract_ref",
    "contract_id",
    "magnus_active",
    "magnus_standing",
    "ixc_status",
    "ixc_status_internet",
    "ixc_standing",
    "action",
    "target_active",
    "duplicate_contract",
    "reason",
]
_EMPTY_DTYPES = {
    "magnus_id": "int64",
    "contract_id": "Int64",
    "magnus_active": "Int64",
    "target_active": "Int64",
    "duplicate_contract": "bool",
}
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
# The join keys on a pandas Int64 column: ids above this cannot be matched exactly.
MAX_CONTRACT_ID = INT64.stop - 1
# The decision table keyed by "magnus|ixc" standings, so a whole column is decided by one map.
_DECISION_BY_PAIR = {f"{magnus}|{ixc}": action for (magnus, ixc), action in DECISIONS.items()}


class PlannedChange(BaseModel):
    """One write the plan wants, with what it was decided from (for the recheck and the report)."""

    magnus_id: int
    username: str
    customer: str
    document: str
    contract_ref: str
    contract_id: int
    action: Action
    magnus_active: int
    target_active: int
    ixc_status: str
    ixc_status_internet: str
    ixc_standing: Standing
    duplicate_contract: bool
    reason: str


def contract_number(ref: str | None) -> int | None:
    """The number a contract field holds (surrounding spaces allowed), exactly; None if it is
    not all ASCII digits. Parsed as a Python int, never through float: 9007199254740993 stays
    9007199254740993."""
    text = (ref or "").strip()
    return int(text) if _DIGITS.fullmatch(text) else None


def contract_id(ref: str | None) -> int | None:
    """The contract id a customer points at, or None when it is not one we can match exactly."""
    number = contract_number(ref)
    return number if number is not None and 0 < number <= MAX_CONTRACT_ID else None


def customers_frame(users: Sequence[MagnusUser]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "magnus_id": [u.id for u in users],
            "username": [u.username for u in users],
            "customer": [u.name for u in users],
            "document": [u.document for u in users],
            "contract_ref": pd.Series([u.contract_ref for u in users], dtype="object"),
            "magnus_active": pd.array([u.active for u in users], dtype="Int64"),
        }
    )


def contract_ids(users: Sequence[MagnusUser]) -> list[int]:
    """The well-formed contract ids customers point at (what must be read from IXC)."""
    return sorted({number for u in users if (number := contract_id(u.contract_ref)) is not None})


def build_plan(
    users: Sequence[MagnusUser],
    contracts: Mapping[int, IxcContract],
    failed_reads: Mapping[int, Problem],
    mapping: IxcStatusMapping,
    block_status: int,
    language: str = DEFAULT_LANGUAGE,
) -> pd.DataFrame:
    """Decide every customer. `failed_reads` are contract ids IXC could not be asked about.

    Each decision carries its reason in the operators' `language`.
    """
    if not users:  # an ad-hoc run that matched nobody
        return pd.DataFrame(
            {
                column: pd.Series(dtype=_EMPTY_DTYPES.get(column, "object"))
                for column in PLAN_COLUMNS
            }
        )
    plan = customers_frame(users)
    ref = plan["contract_ref"].fillna("").str.strip()
    managed = ref.ne("")
    plan["contract_id"] = pd.array([contract_id(u.contract_ref) for u in users], dtype="Int64")
    well_formed = plan["contract_id"].notna()
    too_large = np.zeros(len(plan), dtype=bool)
    for position in np.flatnonzero(~well_formed.to_numpy()):
        number = contract_number(users[int(position)].contract_ref)
        too_large[position] = number is not None and number > MAX_CONTRACT_ID

    ixc = pd.DataFrame(
        {
            "contract_id": pd.array(list(contracts.keys()), dtype="Int64"),
            "ixc_status": [c.status for c in contracts.values()],
            "ixc_status_internet": [c.status_internet for c in contracts.values()],
            "ixc_missing": [", ".join(c.missing_fields) for c in contracts.values()],
        }
    )
    plan = plan.merge(ixc, on="contract_id", how="left")
    found = plan["ixc_status"].notna()
    why_failed = {i: problem.describe(language) for i, problem in failed_reads.items()}
    read_error = plan["contract_id"].map(why_failed).astype("object")
    read_failed = read_error.notna()
    incomplete = plan["ixc_missing"].fillna("").ne("")

    plan["magnus_standing"] = magnus_standing(plan["magnus_active"])
    plan["ixc_standing"] = ixc_standing(plan["ixc_status"], plan["ixc_status_internet"], mapping)
    plan.loc[~found | read_failed | incomplete, "ixc_standing"] = Standing.UNKNOWN

    pairs = plan["magnus_standing"].astype(str) + "|" + plan["ixc_standing"].astype(str)
    decided = pairs.map(_DECISION_BY_PAIR).fillna(Action.SKIP).astype("object")
    counted = plan["contract_id"].where(well_formed)
    plan["duplicate_contract"] = counted.notna() & counted.duplicated(keep=False)

    magnus_unknown = plan["magnus_standing"].eq(Standing.UNKNOWN)
    ixc_unknown = plan["ixc_standing"].eq(Standing.UNKNOWN)
    anomaly = plan["magnus_standing"].eq(Standing.INACTIVE) & plan["ixc_standing"].eq(
        Standing.BLOCKED
    )
    codes = _codes(plan)
    shown_ref = ref.map(repr)
    unusable_id = pd.Series(
        np.where(
            too_large,
            _fill(language, "plan.too_large", ref=shown_ref, limit=str(MAX_CONTRACT_ID)),
            _fill(language, "plan.invalid_id", ref=shown_ref),
        ),
        index=plan.index,
    )
    standing = (
        plan["ixc_standing"]
        .astype(str)
        .map({str(s): label(language, "standing", s) for s in Standing})
    )
    cases = [
        (~managed, Action.NOT_MANAGED, _fill(language, "plan.not_managed", ref=ref)),
        (~well_formed, Action.SKIP, unusable_id),
        (read_failed, Action.SKIP, _fill(language, "plan.read_failed", why=read_error.fillna(""))),
        (~found, Action.SKIP, _fill(language, "plan.not_found", ref=ref)),
        (
            incomplete,
            Action.SKIP,
            _fill(language, "plan.missing_field", ref=ref, fields=plan["ixc_missing"]),
        ),
        (
            magnus_unknown,
            Action.SKIP,
            _fill(language, "plan.magnus_unknown", active=_active_shown(plan, users, language)),
        ),
        (ixc_unknown, Action.SKIP, _fill(language, "plan.ixc_unknown", codes=codes)),
        (anomaly, Action.NO_CHANGE, _fill(language, "plan.anomaly", codes=codes)),
    ]
    conditions = [condition.to_numpy(dtype=bool) for condition, _, _ in cases]
    plan["action"] = np.select(conditions, [action for _, action, _ in cases], default=decided)
    plan["reason"] = np.select(
        conditions,
        [reason.to_numpy(dtype=object) for _, _, reason in cases],
        default=_fill(language, "plan.decided", standing=standing, codes=codes).to_numpy(
            dtype=object
        ),
    )
    shared = plan["duplicate_contract"]
    plan.loc[shared, "reason"] = plan.loc[shared, "reason"] + say(language, "plan.shared")
    targets = {str(a): target_active(a, block_status) for a in Action}
    plan["target_active"] = plan["action"].astype(str).map(targets).astype("Int64")
    return plan[PLAN_COLUMNS]


def planned_changes(plan: pd.DataFrame) -> list[PlannedChange]:
    rows = plan[plan["action"].isin(list(CHANGES))]
    return [
        PlannedChange(
            magnus_id=int(row.magnus_id),
            username=row.username,
            customer=row.customer,
            document=row.document,
            contract_ref=str(row.contract_ref).strip(),
            contract_id=int(row.contract_id),
            action=Action(row.action),
            magnus_active=int(row.magnus_active),
            target_active=int(row.target_active),
            ixc_status=row.ixc_status,
            ixc_status_internet=row.ixc_status_internet,
            ixc_standing=Standing(row.ixc_standing),
            duplicate_contract=bool(row.duplicate_contract),
            reason=row.reason,
        )
        # a frame's rows: pandas-stubs types their fields as any scalar, not as our columns
        for row in cast("Iterator[Any]", rows.itertuples(index=False))
    ]


def _fill(language: str, key: str, **columns: pd.Series | str) -> pd.Series:
    """`say(language, key, ...)` for whole columns at once: the template's text around them."""
    pieces: list[pd.Series | str] = []
    for text, name, spec, conversion in Formatter().parse(template(language, key)):
        if spec or conversion:
            raise ValueError(f"{key}: a column text cannot use !r or a format spec")
        pieces.append(text)
        if name is not None:
            pieces.append(columns[name])
    index = next(v.index for v in columns.values() if isinstance(v, pd.Series))
    filled = pd.Series("", index=index, dtype="object")
    for piece in pieces:
        filled = filled + piece
    return filled


def _active_shown(plan: pd.DataFrame, users: Sequence[MagnusUser], language: str) -> pd.Series:
    """Magnus `active` for a reason: the number, else what the server sent, else "missing"."""
    active = plan["magnus_active"]
    missing = say(language, "plan.missing")
    shown = active.astype("object").where(active.notna(), missing).astype(str)
    unusable = [(i, repr(u.active_text)) for i, u in enumerate(users) if u.active_text]
    if unusable:
        positions, texts = zip(*unusable, strict=True)
        shown.iloc[list(positions)] = list(texts)  # type: ignore[call-overload]  # pandas-stubs: no list of values
    return shown


def _codes(plan: pd.DataFrame) -> pd.Series:
    """`(status A, internet CA)` for the report."""
    status = plan["ixc_status"].fillna("").replace("", "-")
    internet = plan["ixc_status_internet"].fillna("").replace("", "-")
    return "(status " + status + ", internet " + internet + ")"
