"""Where the records database (holds and customer history) is, and opening it.

A run's records are the `ContractSyncRecords` block it names (`records_block`), else a SQLite
file beside its notification ledger. Every run opens them at its start (dry runs too) and
reads its holds then: a database that cannot be opened or a hold that cannot be read stops
the run there, before anything is written - never taken as "no holds".

An operator's command (holds, explain) must use the very database the scheduled runs read,
or a hold would be added where no run reads it. The worker's environment (its ledger path, a
Docker volume) is not the operator's shell, so the runs say where their records are - but only
the runs that count: a real (not dry) run of a deployment, with that deployment's own records
settings (not an ad-hoc `ledger_path`/`records_block`). Each such deployment has its own
Prefect Variable, `contract-sync-records-<deployment id>` (the Magnus server, the deployment's
name and a block name or a file path, never a secret), so a dry run from a laptop, a flow
called by hand or an ad-hoc run elsewhere never moves it. A command uses the place every
deployment that still exists and writes to that Magnus server agrees on; it refuses, saying
why, when none has said yet or when they disagree (a hold in one database is not read by the
runs of another), and when it is told a place (`--records-block`, `--ledger-path`) that is not
theirs. It also refuses a SQLite file that does not exist where it runs (a new, empty one).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound
from prefect.logging import get_logger
from prefect.variables import Variable
from sqlalchemy.engine import make_url

from clock import Clock
from contract_sync.holds import Hold, HoldsUnreadable
from contract_sync.ledger import LEDGER_ENV
from contract_sync.records.block import ContractSyncRecords
from contract_sync.records.store import Records, sqlite_url
from contract_sync.texts import say
from tasks.contract_sync.deployment import this_runs_deployment

RECORDS_FILENAME = "contract-sync-records.sqlite3"
RECORDS_VARIABLE = "contract-sync-records"  # prefix: one Variable per writing deployment

# {"records_block": name} or {"sqlite": path}
Location = dict[str, str]


class RecordsUnavailable(Exception):
    """The records database cannot be opened (or found): no run may guess its holds."""


@dataclass(frozen=True)
class Writer:
    """A deployment whose real runs write to the Magnus server `magnus` and keep their
    records at `records`."""

    deployment_id: str
    deployment: str  # flow/deployment, as operators know it
    magnus: str
    records: Location

    @property
    def variable(self) -> str:
        return f"{RECORDS_VARIABLE}-{self.deployment_id}"

    def entry(self) -> dict[str, Any]:
        return {"deployment": self.deployment, "magnus": self.magnus, "records": self.records}

    @classmethod
    def from_variable(cls, name: str, value: Any) -> Writer | None:
        """The Variable's writer, None for anything that does not say what it should."""
        prefix = f"{RECORDS_VARIABLE}-"
        if not name.startswith(prefix) or not isinstance(value, dict):
            return None
        records = value.get("records")
        if not isinstance(records, dict) or set(records) not in ({"records_block"}, {"sqlite"}):
            return None
        if not all(isinstance(value.get(key), str) for key in ("deployment", "magnus")):
            return None
        return cls(name[len(prefix) :], value["deployment"], value["magnus"], records)


async def run_location(
    records_block: str | None, ledger_path: Callable[[], Awaitable[str]]
) -> Location:
    """A run's records: the block it names, else SQLite beside its ledger (`ledger_path()`)."""
    if records_block:
        return {"records_block": records_block}
    return {"sqlite": str(Path(await ledger_path()).with_name(RECORDS_FILENAME))}


def told_location(records_block: str | None, ledger_path: str | None) -> Location | None:
    """The place a command was told (`--records-block`, `--ledger-path`), if any."""
    if records_block:
        return {"records_block": records_block}
    if ledger_path:
        return {"sqlite": os.path.abspath(Path(ledger_path).with_name(RECORDS_FILENAME))}
    return None


async def operators_location(
    records_block: str | None, ledger_path: str | None, magnus_url: str, language: str
) -> Location:
    """A command's records: where every deployment writing to this Magnus server keeps its
    records (and where it was told, if it was: the same place). `RecordsUnavailable`, with
    the reason, when that is unknown, not one place, or not on this machine."""
    told = told_location(records_block, ledger_path)
    writers = await live_writers(magnus_url)
    places = {described(w.records, language) for w in writers}
    if len(places) > 1:
        raise RecordsUnavailable(
            say(
                language,
                "records.writers_disagree",
                magnus=magnus_url,
                writers=_listed(writers, language),
            )
        )
    if told is not None:
        if writers and described(told, language) not in places:
            raise RecordsUnavailable(
                say(
                    language,
                    "records.told_elsewhere",
                    told=described(told, language),
                    writers=_listed(writers, language),
                )
            )
        return _on_this_machine(told, language)
    if not writers:
        raise RecordsUnavailable(say(language, "records.unknown", magnus=magnus_url))
    return _on_this_machine(writers[0].records, language)


def described(location: Location, language: str) -> str:
    if "records_block" in location:
        return say(language, "records.block", name=location["records_block"])
    return os.path.normpath(location["sqlite"])


def _listed(writers: list[Writer], language: str) -> str:
    return "; ".join(f"{w.deployment}: {described(w.records, language)}" for w in writers)


def _on_this_machine(location: Location, language: str) -> Location:
    if "sqlite" in location and not Path(location["sqlite"]).exists():
        raise RecordsUnavailable(say(language, "records.not_here", path=location["sqlite"]))
    return location


async def live_writers(magnus_url: str) -> list[Writer]:
    """The writers of this Magnus server whose deployment still exists (a deleted one never
    runs again), by deployment name."""
    async with get_client() as client:
        variables = await client.read_variables()
        found = [Writer.from_variable(v.name, v.value) for v in variables]
        writers = []
        for writer in found:
            if writer is None or writer.magnus != magnus_url:
                continue
            try:
                await client.read_deployment(writer.deployment_id)
            except ObjectNotFound:
                continue
            writers.append(writer)
    return sorted(writers, key=lambda w: w.deployment)


async def remember_location(
    magnus_url: str, location: Location, ledger_path: str | None, records_block: str | None
) -> None:
    """Leave where this run's records are, when it is a real run of a deployment with the
    deployment's own records settings (`ledger_path`, `records_block`: the run's parameters).
    Best effort: a run is not stopped for it."""
    try:
        writer = await _deployments_writer(magnus_url, location, ledger_path, records_block)
        if writer is None:
            return
        if await Variable.aget(writer.variable) != writer.entry():
            await Variable.aset(writer.variable, writer.entry(), overwrite=True)
    except Exception as error:  # the run goes on; the commands keep what they knew
        get_logger(__name__).warning(
            "Could not save where the records are (%s): %s", RECORDS_VARIABLE, type(error).__name__
        )


async def _deployments_writer(
    magnus_url: str, location: Location, ledger_path: str | None, records_block: str | None
) -> Writer | None:
    """This run as its deployment's writer; None for a run without a deployment, or one
    given its own records place (an ad-hoc parameter or ledger path in its job variables)."""
    deployment = await this_runs_deployment()
    if deployment is None or not deployment.exists:
        return None
    own = deployment.parameters
    if (own.get("ledger_path"), own.get("records_block")) != (ledger_path, records_block):
        return None
    if _ledger_env(deployment.runs_job_variables) not in (
        None,
        _ledger_env(deployment.job_variables),
    ):
        return None
    return Writer(str(deployment.id), deployment.name, magnus_url, location)


def _ledger_env(job_variables: dict[str, Any] | None) -> Any:
    env = (job_variables or {}).get("env")
    return env.get(LEDGER_ENV) if isinstance(env, dict) else None


async def open_records(location: Location, clock: Clock, language: str) -> Records:
    """The records database at `location`. A named block that does not exist is an error,
    never a silent switch to an empty file."""
    if "records_block" in location:
        name = location["records_block"]
        try:
            config: ContractSyncRecords = await ContractSyncRecords.aload(name)
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
