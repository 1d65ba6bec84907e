"""The notification ledger: a durable outbox of the writes made to Magnus and their announcement.

Why: a run killed between its writes and its Discord messages used to leave applied changes
that nobody was told about (the next run sees NoChange). Every write now goes through this
ledger, a small SQLite file that outlives the run:

    writing   -> the save is about to be sent (or was sent and the answer was lost)
    applied   -> Magnus confirmed the new status; not yet announced
    announced -> the Discord message that carries it was accepted
    not_applied / silenced -> nothing to announce (no write happened / notify was off)

A later run first *resolves* entries left in `writing` by an earlier run, from the Magnus users
it has just read: the customer has the target status -> the write happened (`applied`),
otherwise it did not (`not_applied`; the new plan decides again). Then it announces every
`applied` entry, its own and earlier runs', and marks each announced as soon as its message is
accepted. So a change is written at most once (compare-and-set re-reads before each write) and
announced once; the only duplicate possible is a process killed in the instant between Discord
accepting a message and the ledger recording it: we prefer announcing twice to never.

Entries are scoped (by the Magnus server they describe), so one file may serve several
providers or sandboxes. Hourly runs of one scope never overlap (their run lock); a restore lane
run may run beside one, so it settles no other run's `writing` entries (they may be in flight)
and announces only its own.
No customer data beyond what the Discord embed shows is stored; never a password.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from clock import Clock
from contract_sync.plan import PlannedChange
from contract_sync.texts import say

LEDGER_VARIABLE = "contract-sync-ledger-path"  # Prefect Variable that may hold the path
LEDGER_ENV = "CONTRACT_SYNC_LEDGER_PATH"
CONTAINER_ENV = "BILLING_SYNC_IN_CONTAINER"  # set by deployments/Dockerfile
DEFAULT_FILENAME = "contract-sync-ledger.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS writes (
    scope      TEXT    NOT NULL,
    run_id     TEXT    NOT NULL,
    magnus_id  INTEGER NOT NULL,
    state      TEXT    NOT NULL,
    change     TEXT    NOT NULL,
    detail     TEXT    NOT NULL DEFAULT '',
    created_at REAL    NOT NULL,
    updated_at REAL    NOT NULL,
    PRIMARY KEY (scope, run_id, magnus_id)
);
CREATE INDEX IF NOT EXISTS writes_open ON writes (scope, state);
"""


class WriteState(StrEnum):
    WRITING = "writing"
    APPLIED = "applied"
    ANNOUNCED = "announced"
    NOT_APPLIED = "not_applied"
    SILENCED = "silenced"


# state -> the states an entry may move to it from (two each, padded, for one SQL shape)
_FROM: dict[WriteState, tuple[WriteState, WriteState]] = {
    WriteState.WRITING: (WriteState.WRITING, WriteState.WRITING),
    WriteState.APPLIED: (WriteState.WRITING, WriteState.NOT_APPLIED),
    WriteState.ANNOUNCED: (WriteState.APPLIED, WriteState.APPLIED),
    WriteState.SILENCED: (WriteState.APPLIED, WriteState.APPLIED),
    WriteState.NOT_APPLIED: (WriteState.WRITING, WriteState.WRITING),
}


@dataclass(frozen=True)
class LedgerEntry:
    run_id: str
    change: PlannedChange
    state: WriteState
    detail: str

    @property
    def key(self) -> tuple[str, int]:
        return (self.run_id, self.change.magnus_id)


def ledger_path_from_environment() -> Path | None:
    """$CONTRACT_SYNC_LEDGER_PATH: a deployment's own setting (its env, e.g. a Docker volume)."""
    configured = os.environ.get(LEDGER_ENV)
    return Path(configured) if configured else None


def default_ledger_path() -> Path:
    """PREFECT_HOME/contract-sync-ledger.sqlite3 - never inside a container, where it would be
    lost with the container and with it the record of what was written and announced."""
    if os.environ.get(CONTAINER_ENV):
        raise LedgerNotConfigured(
            f"no ledger path set in this container: mount a volume and set {LEDGER_ENV} to a "
            "file on it (the ledger must outlive the container)"
        )
    home = os.environ.get("PREFECT_HOME") or str(Path.home() / ".prefect")
    return Path(home) / DEFAULT_FILENAME


class LedgerNotConfigured(Exception):
    """Where the ledger lives is not set, and the default would not outlive the run."""

    def said(self, language: str) -> str:
        """The operators' version of the (English) message."""
        return say(language, "ledger.not_configured", variable=LEDGER_ENV)


class NotificationLedger:
    """One SQLite file; every method is one short transaction (safe to be killed between)."""

    def __init__(
        self, path: str | os.PathLike[str], scope: str, clock: Clock | None = None
    ) -> None:
        self.path = Path(path)
        self.scope = scope
        self.clock = clock or Clock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One connection for the ledger's life. WAL with synchronous=NORMAL: a committed entry
        # survives the process being killed (it is in the OS's hands); only an OS crash or
        # power loss may lose the last few, which the next run re-reads from Magnus anyway.
        self._connection = sqlite3.connect(
            self.path, timeout=30, isolation_level=None, check_same_thread=False
        )
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA synchronous=NORMAL")
        self._connection.executescript(_SCHEMA)

    def close(self) -> None:
        self._connection.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self._connection.close()

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = self._connection
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    # ---- one run's writes -------------------------------------------------------------------

    def writing(self, run_id: str, change: PlannedChange) -> None:
        """Record that the save for `change` is about to be sent."""
        now = self.clock.timestamp()
        with self._db() as db:
            db.execute(
                "INSERT INTO writes VALUES (?, ?, ?, ?, ?, '', ?, ?) "
                "ON CONFLICT (scope, run_id, magnus_id) DO UPDATE SET state = excluded.state, "
                "change = excluded.change, updated_at = excluded.updated_at",
                (
                    self.scope,
                    run_id,
                    change.magnus_id,
                    WriteState.WRITING,
                    change.model_dump_json(),
                    now,
                    now,
                ),
            )

    def write_sent(self, run_id: str, magnus_id: int) -> bool:
        """Whether this run already sent (maybe without an answer) a save for this customer."""
        with self._db() as db:
            row = db.execute(
                "SELECT state FROM writes WHERE scope = ? AND run_id = ? AND magnus_id = ?",
                (self.scope, run_id, magnus_id),
            ).fetchone()
        return row is not None and row[0] in (WriteState.WRITING, WriteState.APPLIED)

    def mark(
        self, keys: Iterable[tuple[str, int]], state: WriteState, detail: str | None = None
    ) -> None:
        """Move entries to `state`, only along the allowed transitions (never backwards).

        So two overlapping runs cannot undo each other: an entry another run already announced
        is never made `applied` (announced again) by a late confirmation.
        """
        now = self.clock.timestamp()
        sources = _FROM[state]
        with self._db() as db:
            for run_id, magnus_id in keys:
                db.execute(
                    "UPDATE writes SET state = ?, detail = COALESCE(?, detail), updated_at = ? "
                    "WHERE scope = ? AND run_id = ? AND magnus_id = ? AND state IN (?, ?)",
                    (state, detail, now, self.scope, run_id, magnus_id, *sources),
                )

    # ---- across runs ------------------------------------------------------------------------

    def entries(self, states: Sequence[WriteState]) -> list[LedgerEntry]:
        marks = ",".join("?" * len(states))
        with self._db() as db:
            rows = db.execute(
                f"SELECT run_id, change, state, detail FROM writes "
                f"WHERE scope = ? AND state IN ({marks}) ORDER BY created_at, magnus_id",
                (self.scope, *states),
            ).fetchall()
        return [
            LedgerEntry(
                run_id, PlannedChange.model_validate_json(change), WriteState(state), detail
            )
            for run_id, change, state, detail in rows
        ]

    def resolve_unfinished(self, run_id: str, current_active: dict[int, int | None]) -> int:
        """Settle other runs' `writing` entries from freshly read Magnus statuses.

        `current_active` maps the Magnus ids this run read to their `active`; customers not in
        it (an ad-hoc run for a few usernames) stay unresolved. Returns how many became applied.
        """
        applied = 0
        for entry in self.entries([WriteState.WRITING]):
            if entry.run_id == run_id or entry.change.magnus_id not in current_active:
                continue
            if current_active[entry.change.magnus_id] == entry.change.target_active:
                self.mark([entry.key], WriteState.APPLIED, "confirmed by a later run's read")
                applied += 1
            else:
                self.mark([entry.key], WriteState.NOT_APPLIED, "not in Magnus after the run ended")
        return applied

    def prune(self, keep_days: float = 90.0) -> int:
        """Forget settled entries (announced, not applied, silenced) older than `keep_days`."""
        cutoff = self.clock.timestamp() - keep_days * 86_400
        with self._db() as db:
            cursor = db.execute(
                "DELETE FROM writes WHERE scope = ? AND updated_at < ? AND state IN (?, ?, ?)",
                (
                    self.scope,
                    cutoff,
                    WriteState.ANNOUNCED,
                    WriteState.NOT_APPLIED,
                    WriteState.SILENCED,
                ),
            )
        return cursor.rowcount

    def unannounced(self) -> list[LedgerEntry]:
        """Applied changes of any run whose announcement has not been accepted yet."""
        return self.entries([WriteState.APPLIED])
