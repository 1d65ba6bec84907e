"""The records database: operators' holds and the customer history, in SQLAlchemy Core.

SQLite by default (a file beside the notification ledger, WAL), PostgreSQL for production (a
`ContractSyncRecords` block with its URL). Both tables are plain rows an operator's command,
a run and the explain command share:

- `contract_sync_holds`: one row per hold. Why a table, not a Prefect Variable or block: a
  Variable holds at most 5,000 characters of JSON (Prefect 3.8's MAX_VARIABLE_VALUE_LENGTH,
  about 30 holds), and a Variable or a block is one document edited whole - two operators
  saving at once lose one of the holds without a word, and a hand edit in the UI can drop a
  field every run then needs. Here each hold is its own row, added and ended in a transaction,
  with who and when filled in by the command; a removed or expired hold is kept (who ended it,
  when, why), so the explain command can tell its whole story. Holds are not scoped by Magnus
  server: a changed server URL must never make a hold disappear (one records database per
  provider).
- `contract_sync_history`: one row per (Magnus server, run, customer), written with an upsert
  on that key, so recording a run again (a retried task, a re-run of the same flow run) never
  doubles an entry. Kept `retention_days` (default 400), then pruned.

Times are ISO 8601 text in UTC (`2026-12-05T13:00:00+00:00`): the same on both databases,
sortable, readable in a hand query, and validated when read.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    create_engine,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError

from clock import Clock
from contract_sync.history import HistoryEntry
from contract_sync.holds import Hold, parse_holds

DEFAULT_RETENTION_DAYS = 400
REPLACED = "replaced by a new hold"
_CHUNK = 500  # ids per IN (...) list

metadata = MetaData()

holds = Table(
    "contract_sync_holds",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(255), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_by", String(255), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("expires_at", String(40)),
    Column("ended_at", String(40)),
    Column("ended_by", String(255)),
    Column("ended_note", Text, nullable=False, default=""),
)
# At most one open hold per username.
Index(
    "contract_sync_holds_open",
    holds.c.username,
    unique=True,
    sqlite_where=holds.c.ended_at.is_(None),
    postgresql_where=holds.c.ended_at.is_(None),
)

history = Table(
    "contract_sync_history",
    metadata,
    Column("scope", String(255), primary_key=True),
    Column("run_id", String(64), primary_key=True),
    Column("magnus_id", BigInteger, primary_key=True, autoincrement=False),
    Column("run_name", String(255), nullable=False),
    Column("recorded_at", String(40), nullable=False),
    Column("dry_run", Boolean, nullable=False),
    Column("username", String(255), nullable=False),
    Column("customer", Text, nullable=False),
    Column("contract", String(255), nullable=False),
    Column("magnus_before", BigInteger),
    Column("magnus_target", BigInteger),
    Column("magnus_after", BigInteger),
    Column("ixc_status", String(40), nullable=False),
    Column("ixc_status_internet", String(40), nullable=False),
    Column("action", String(20), nullable=False),
    Column("would_action", String(20)),
    Column("result", String(20)),
    Column("reason", Text, nullable=False),
    Column("detail", Text, nullable=False),
)
Index("contract_sync_history_customer", history.c.scope, history.c.magnus_id, history.c.recorded_at)
Index("contract_sync_history_username", history.c.scope, history.c.username, history.c.recorded_at)
Index("contract_sync_history_age", history.c.recorded_at)
_UPDATED = [c.name for c in history.columns if c.name not in ("scope", "run_id", "magnus_id")]


class HoldExists(Exception):
    def __init__(self, hold: Hold) -> None:
        super().__init__(hold.username)
        self.hold = hold


def sqlite_url(path: str | Path) -> str:
    return f"sqlite:///{Path(path)}"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class Records:
    """Holds and history in one database. Every method is one short transaction."""

    def __init__(
        self,
        url: str,
        *,
        clock: Clock | None = None,
        retention_days: float = DEFAULT_RETENTION_DAYS,
    ) -> None:
        parsed = make_url(url)
        if parsed.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError(
                f"records database {parsed.get_backend_name()!r} is not supported: use "
                "sqlite:///path or postgresql+psycopg://..."
            )
        if self._is_sqlite(parsed) and parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        self.clock = clock or Clock()
        self.retention_days = retention_days
        self.engine: Engine = create_engine(
            parsed, **({"connect_args": {"timeout": 30}} if self._is_sqlite(parsed) else {})
        )
        if self._is_sqlite(parsed):
            event.listen(self.engine, "connect", _sqlite_wal)
        try:
            metadata.create_all(self.engine)
        except DBAPIError:  # another process created the tables at the same moment
            metadata.create_all(self.engine)

    @staticmethod
    def _is_sqlite(url: Any) -> bool:
        return url.get_backend_name() == "sqlite"

    def close(self) -> None:
        self.engine.dispose()

    @contextlib.contextmanager
    def _db(self) -> Iterator[Connection]:
        with self.engine.begin() as connection:
            yield connection

    # ---- holds ------------------------------------------------------------------------------

    def holds(self, *, include_ended: bool = False) -> list[Hold]:
        """Every open hold (expired ones included until a run reports them); all with
        `include_ended`. `HoldsUnreadable` if any row is not a valid hold."""
        query = select(holds).order_by(holds.c.username, holds.c.id)
        if not include_ended:
            query = query.where(holds.c.ended_at.is_(None))
        with self._db() as db:
            rows = [dict(row._mapping) for row in db.execute(query)]
        return parse_holds(rows)

    def holds_of(self, username: str) -> list[Hold]:
        """A username's holds, open and ended, newest first."""
        query = select(holds).where(holds.c.username == username).order_by(holds.c.id.desc())
        with self._db() as db:
            return parse_holds(dict(row._mapping) for row in db.execute(query))

    def active_hold(self, username: str) -> Hold | None:
        """The hold that holds `username` now, read fresh (right before a write)."""
        now = self.clock.now()
        return next((h for h in self.holds_of(username) if h.holds_at(now)), None)

    def add_hold(
        self, username: str, reason: str, by: str, expires_at: datetime | None = None
    ) -> Hold:
        """A new hold; `HoldExists` if one holds the username already. An expired hold still
        open is ended first ("replaced")."""
        now, username = self.clock.now(), username.strip()
        for current in self.holds_of(username):
            if current.holds_at(now):
                raise HoldExists(current)
        try:
            with self._db() as db:
                db.execute(
                    update(holds)
                    .where(holds.c.username == username, holds.c.ended_at.is_(None))
                    .values(ended_at=iso(now), ended_by=by, ended_note=REPLACED)
                )
                db.execute(
                    insert(holds).values(
                        username=username,
                        reason=reason.strip(),
                        created_by=by.strip(),
                        created_at=iso(now),
                        expires_at=None if expires_at is None else iso(expires_at),
                        ended_note="",
                    )
                )
        except IntegrityError:  # another operator added one in the same instant
            raise HoldExists(self.holds_of(username)[0]) from None
        return self.holds_of(username)[0]

    def end_hold(self, username: str, by: str, note: str) -> int:
        """End the username's open hold(s); how many. Plain SQL on the username, so a hold
        with another malformed field can still be removed."""
        with self._db() as db:
            ended = db.execute(
                update(holds)
                .where(holds.c.username == username, holds.c.ended_at.is_(None))
                .values(ended_at=iso(self.clock.now()), ended_by=by, ended_note=note)
            )
        return ended.rowcount

    def end_expired(self, expired: Sequence[Hold], by: str, note: str) -> None:
        """Close holds a run found expired and reported, so the next run does not again."""
        with self._db() as db:
            for hold in expired:
                db.execute(
                    update(holds)
                    .where(holds.c.id == hold.id, holds.c.ended_at.is_(None))
                    .values(ended_at=iso(self.clock.now()), ended_by=by, ended_note=note)
                )

    # ---- history ----------------------------------------------------------------------------

    def record(self, scope: str, entries: Sequence[HistoryEntry]) -> int:
        """Upsert a run's entries (keyed by scope, run and customer); how many were written.

        A repeatable entry (Skip, Held) equal to the customer's last entry of another run is
        left out: a streak is kept once.
        """
        with self._db() as db:
            last = self._last_entries(db, scope, [e.magnus_id for e in entries if e.repeatable])
            rows = [
                _row(scope, entry)
                for entry in entries
                if not (entry.repeatable and _same_as_last(entry, last.get(entry.magnus_id, [])))
            ]
            if rows:
                statement = self._insert()
                db.execute(
                    statement.on_conflict_do_update(
                        index_elements=["scope", "run_id", "magnus_id"],
                        set_={name: statement.excluded[name] for name in _UPDATED},
                    ),
                    rows,
                )
        return len(rows)

    def record_applied(self, scope: str, entries: Sequence[HistoryEntry]) -> None:
        """Applied writes known from the ledger: added when missing, and an entry that says
        otherwise (a write that timed out, found applied later) made applied."""
        if not entries:
            return
        statement = self._insert()
        promote = {name: statement.excluded[name] for name in ("result", "magnus_after", "detail")}
        with self._db() as db:
            db.execute(
                statement.on_conflict_do_update(
                    index_elements=["scope", "run_id", "magnus_id"],
                    set_=promote,
                    where=or_(history.c.result.is_(None), history.c.result != "applied"),
                ),
                [_row(scope, entry) for entry in entries],
            )

    def history_of(
        self, scope: str, *, magnus_id: int | None, username: str, limit: int = 20
    ) -> tuple[list[HistoryEntry], int]:
        """A customer's entries, newest first (at most `limit`), and how many there are."""
        who = history.c.username == username
        if magnus_id is not None:
            who = or_(who, history.c.magnus_id == magnus_id)
        condition = and_(history.c.scope == scope, who)
        with self._db() as db:
            total = db.execute(select(func.count()).where(condition)).scalar_one()
            rows = db.execute(
                select(history)
                .where(condition)
                .order_by(history.c.recorded_at.desc(), history.c.run_id)
                .limit(limit)
            )
            entries = [HistoryEntry.model_validate(dict(row._mapping)) for row in rows]
        return entries, total

    def prune(self) -> int:
        """Forget history entries and ended holds older than the retention; how many."""
        cutoff = iso(self.clock.now() - timedelta(days=self.retention_days))
        with self._db() as db:
            gone = db.execute(delete(history).where(history.c.recorded_at < cutoff)).rowcount
            gone += db.execute(
                delete(holds).where(holds.c.ended_at.is_not(None), holds.c.ended_at < cutoff)
            ).rowcount
        return gone

    def _insert(self) -> Any:
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        return dialect.insert(history)

    def _last_entries(
        self, db: Connection, scope: str, magnus_ids: Sequence[int]
    ) -> dict[int, list[dict[str, Any]]]:
        """Each customer's latest real-run entries (all of them on a tie)."""
        found: dict[int, list[dict[str, Any]]] = {}
        ids = sorted(set(magnus_ids))
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            real = and_(
                history.c.scope == scope,
                history.c.dry_run.is_(False),
                history.c.magnus_id.in_(chunk),
            )
            latest = (
                select(history.c.magnus_id, func.max(history.c.recorded_at).label("at"))
                .where(real)
                .group_by(history.c.magnus_id)
                .subquery()
            )
            rows = db.execute(
                select(history.c.magnus_id, history.c.run_id, *_STREAK)
                .join(
                    latest,
                    and_(
                        history.c.magnus_id == latest.c.magnus_id,
                        history.c.recorded_at == latest.c.at,
                    ),
                )
                .where(real)
            )
            for row in rows:
                found.setdefault(row.magnus_id, []).append(dict(row._mapping))
        return found


_STREAK = (history.c.action, history.c.would_action, history.c.reason)


def _same_as_last(entry: HistoryEntry, last: list[dict[str, Any]]) -> bool:
    """Whether the customer's latest entries (of another run) all say what `entry` says."""
    if entry.dry_run or not last:
        return False
    wanted = (str(entry.action), entry.would_action and str(entry.would_action), entry.reason)
    return all(
        row["run_id"] != entry.run_id
        and (row["action"], row["would_action"], row["reason"]) == wanted
        for row in last
    )


def _row(scope: str, entry: HistoryEntry) -> dict[str, Any]:
    row = entry.model_dump(mode="json")
    row["recorded_at"] = iso(entry.recorded_at)
    return {"scope": scope, **row}


def _sqlite_wal(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
