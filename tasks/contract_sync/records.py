"""Where the records database (holds and customer history) is, and opening it.

A run's records are the `ContractSyncRecords` block it names (`records_block`), else a SQLite
file beside its notification ledger. Every run opens them at its start (dry runs too) and
reads its holds then: a database that cannot be opened or a hold that cannot be read stops
the run there, before anything is written - never taken as "no holds".

An operator's command (holds, explain) must use the very database the runs use, or a hold
would be added where no run reads it. The worker's environment (its ledger path, a Docker
volume) is not the operator's shell, so each run leaves where its records are in the Prefect
Variable `contract-sync-records` (per Magnus server; a block name or a file path, never a
secret), and the commands use that, unless told otherwise. A command refuses a SQLite file
that does not exist where it runs (it would be a new, empty one).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from prefect.logging import get_logger
from prefect.variables import Variable
from sqlalchemy.engine import make_url

from blocks.records.block import ContractSyncRecords
from blocks.records.store import Records, sqlite_url
from clock import Clock
from reconcile.holds import Hold, HoldsUnreadable
from reconcile.texts import say

RECORDS_FILENAME = "contract-sync-records.sqlite3"
RECORDS_VARIABLE = "contract-sync-records"
LOCATIONS_KEPT = 10  # Magnus servers remembered in the Variable (it holds 5,000 characters)

# {"records_block": name} or {"sqlite": path}
Location = dict[str, str]


class RecordsUnavailable(Exception):
    """The records database cannot be opened (or found): no run may guess its holds."""


async def run_location(
    records_block: str | None, ledger_path: Callable[[], Awaitable[str]]
) -> Location:
    """A run's records: the block it names, else SQLite beside its ledger (`ledger_path()`)."""
    if records_block:
        return {"records_block": records_block}
    return {"sqlite": str(Path(await ledger_path()).with_name(RECORDS_FILENAME))}


async def operators_location(
    records_block: str | None, ledger_path: str | None, magnus_url: str, language: str
) -> Location:
    """A command's records: as told (`--records-block`, `--ledger-path`), else where the runs
    of this Magnus server keep theirs; `RecordsUnavailable` when unknown or not on this machine."""
    if records_block:
        return {"records_block": records_block}
    if ledger_path:
        location = {"sqlite": str(Path(ledger_path).with_name(RECORDS_FILENAME))}
    else:
        location = next(
            (
                entry["records"]
                for entry in await _remembered()
                if entry.get("magnus") == magnus_url
            ),
            None,
        )
        if location is None:
            raise RecordsUnavailable(say(language, "records.unknown", magnus=magnus_url))
    return _on_this_machine(location, language)


def _on_this_machine(location: Location, language: str) -> Location:
    if "sqlite" in location and not Path(location["sqlite"]).exists():
        raise RecordsUnavailable(say(language, "records.not_here", path=location["sqlite"]))
    return location


async def remember_location(magnus_url: str, location: Location) -> None:
    """Leave where this run's records are for the operators' commands (best effort)."""
    try:
        known = await _remembered()
        entry = {"magnus": magnus_url, "records": location}
        if entry in known:
            return
        kept = [e for e in known if e.get("magnus") != magnus_url][-(LOCATIONS_KEPT - 1) :]
        await Variable.aset(RECORDS_VARIABLE, [*kept, entry], overwrite=True)
    except Exception as error:  # the run goes on; commands then need to be told
        get_logger(__name__).warning(
            "Could not save where the records are (%s): %s", RECORDS_VARIABLE, type(error).__name__
        )


async def _remembered() -> list[dict]:
    """The Variable's entries that say what they should (anything else is left out)."""
    known = await Variable.aget(RECORDS_VARIABLE, default=None)
    return [
        entry
        for entry in (known if isinstance(known, list) else [])
        if isinstance(entry, dict)
        and isinstance(entry.get("records"), dict)
        and set(entry["records"]) in ({"records_block"}, {"sqlite"})
    ]


async def open_records(location: Location, clock: Clock, language: str) -> Records:
    """The records database at `location`. A named block that does not exist is an error,
    never a silent switch to an empty file."""
    if "records_block" in location:
        name = location["records_block"]
        try:
            config = await ContractSyncRecords.aload(name)
        except ValueError:
            raise RecordsUnavailable(say(language, "records.no_block", name=name)) from None
        url, options = config.url.get_secret_value(), {"retention_days": config.retention_days}
    else:
        url, options = sqlite_url(location["sqlite"]), {}
    try:
        return Records(url, clock=clock, **options)
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
