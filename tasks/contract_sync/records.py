"""Opening the records database (holds and customer history) for a run or a command.

Every run opens it at its start (dry runs too) and reads its holds then: a database that
cannot be opened or a hold that cannot be read stops the run there, before anything is
written - never taken as "no holds". Which database: the `ContractSyncRecords` block a run
names (`records_block`), else a SQLite file beside the notification ledger.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy.engine import make_url

from blocks.records.block import ContractSyncRecords
from blocks.records.store import Records, sqlite_url
from clock import Clock
from reconcile.holds import Hold, HoldsUnreadable
from reconcile.texts import say

RECORDS_FILENAME = "contract-sync-records.sqlite3"


class RecordsUnavailable(Exception):
    """The records database cannot be opened: no run may guess its holds."""


async def open_records(
    records_block: str | None,
    ledger_path: Callable[[], Awaitable[str]],
    clock: Clock,
    language: str,
) -> Records:
    """The records named by `records_block`, else SQLite beside the notification ledger
    (`ledger_path()` resolves where that is). A named block that does not exist is an error,
    never a silent switch to an empty file.
    """
    if records_block:
        try:
            config = await ContractSyncRecords.aload(records_block)
        except ValueError:
            raise RecordsUnavailable(
                say(language, "records.no_block", name=records_block)
            ) from None
        url, retention = config.url.get_secret_value(), config.retention_days
    else:
        beside = Path(await ledger_path()).with_name(RECORDS_FILENAME)
        url, retention = sqlite_url(beside), None
    try:
        if retention is None:
            return Records(url, clock=clock)
        return Records(url, clock=clock, retention_days=retention)
    except Exception as error:
        raise RecordsUnavailable(
            say(language, "records.unavailable", where=_where(url), error=type(error).__name__)
        ) from None


def _where(url: str) -> str:
    """The database, named without credentials."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return str(parsed.database)
    return f"{parsed.get_backend_name()} {parsed.host}:{parsed.port or ''}/{parsed.database}"


def checked_holds(records: Records, language: str) -> list[Hold]:
    """The open holds; `HoldsUnreadable`, in the operators' language, if any cannot be read."""
    try:
        return records.holds()
    except HoldsUnreadable as unreadable:
        raise unreadable.in_language(language) from None
