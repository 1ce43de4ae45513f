"""Connect to the hub's database and run work in transactions.

SQLite is the embedded default (WAL, foreign keys on); PostgreSQL is reached through a URL. Every
write goes through :func:`transaction`, which commits on success and rolls back on any error, so a
refusal never leaves half a change behind.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import Session, SQLModel, select

from hub.infra.sync import bump_when_kiosk_data_changes

SQLITE_BUSY_TIMEOUT_MS = 30_000
Row = TypeVar("Row", bound=SQLModel)


class HubSession(Session):
    """A session of the hub's own: its flushes keep the kiosks' sync version up to date."""


# NOTE: on the hub's session class only, not on every SQLAlchemy session in the process.
event.listen(HubSession, "before_flush", bump_when_kiosk_data_changes)


def _hold(session: Session, instance: object) -> None:
    """Keep a row the session loaded or wrote for as long as the session lives.

    NOTE: SQLAlchemy's identity map holds rows weakly, so ``session.get`` of a member or tool
    read a moment ago went back to the database as soon as nobody held it: one query per event
    for the same few rows in an ingest batch (bench/hub_ingest_bench.py). This is SQLAlchemy's
    "strong reference" recipe; hub sessions are short (one transaction, one request).
    """
    session.info.setdefault("held", {})[id(instance)] = instance


def _let_go(session: Session, instance: object) -> None:
    session.info.get("held", {}).pop(id(instance), None)


for _becomes_persistent in ("pending_to_persistent", "loaded_as_persistent"):
    event.listen(HubSession, _becomes_persistent, _hold)
for _leaves in ("persistent_to_detached", "persistent_to_deleted", "persistent_to_transient"):
    event.listen(HubSession, _leaves, _let_go)


def make_engine(url: str, **options: Any) -> Engine:
    """Create an engine for ``url`` with the pragmas and pool the hub relies on."""
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url, **options)
    if make_url(url).drivername == "postgresql":
        # NOTE: psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
        url = str(make_url(url).set(drivername="postgresql+psycopg"))
    return create_engine(url, pool_pre_ping=True, **options)


def _sqlite_engine(url: str, **options: Any) -> Engine:
    """Create a SQLite engine whose transactions begin explicitly (see ``_begin_sqlite``)."""
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        **options,
    )
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_sqlite)
    return engine


def _configure_sqlite_connection(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    """Turn on WAL and foreign keys, and take transaction control away from the driver."""
    # NOTE: pysqlite opens transactions lazily and never for SELECT; with isolation_level None
    # we issue BEGIN ourselves, so reads and writes share one real transaction.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (
        "PRAGMA journal_mode=WAL",
        "PRAGMA foreign_keys=ON",
        "PRAGMA synchronous=NORMAL",
        f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
    ):
        cursor.execute(pragma)
    cursor.close()


def _begin_sqlite(connection: Connection) -> None:
    """Begin IMMEDIATE so a writer takes the lock at once instead of failing to upgrade later."""
    mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
    connection.exec_driver_sql(f"BEGIN {mode}")


def is_sqlite(engine: Engine) -> bool:
    """Tell whether ``engine`` talks to SQLite."""
    return engine.dialect.name == "sqlite"


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """Yield a session inside one write transaction: commit on success, roll back on error."""
    with HubSession(engine, expire_on_commit=False) as session, session.begin():
        yield session


@contextmanager
def reading(engine: Engine) -> Iterator[Session]:
    """Yield a session for reads only; on SQLite it does not take the write lock."""
    bound = engine.execution_options(sqlite_begin="DEFERRED") if is_sqlite(engine) else engine
    with HubSession(bound, expire_on_commit=False) as session, session.begin():
        yield session


def transaction_cache(session: Session, name: str) -> dict[Any, Any]:
    """Return a dict named ``name`` that lives as long as the session's current transaction
    (a new transaction, or a new session, starts with an empty one)."""
    root = session.get_transaction()
    held = session.info.get(("transaction_cache", name))
    if held is None or held[0] is not root:
        held = (root, {})
        session.info[("transaction_cache", name)] = held
    cache: dict[Any, Any] = held[1]
    return cache


def find_unique(
    session: Session, model: type[Row], column: InstrumentedAttribute[Any], value: object
) -> Row | None:
    """Return the ``model`` row whose unique ``column`` is ``value``, or None.

    A row found once in a transaction is kept and returned again, with no query, as long as it
    is in the session and its ``column`` still holds ``value``.

    NOTE: the ingest looks the same few cards and tools up for event after event of a batch;
    each query cost ~0.3 ms of ORM work on SQLite (bench/hub_ingest_bench.py --profile).
    """
    found = transaction_cache(session, "unique_rows")
    key = (model, column.key, value)
    # NOTE: the cache holds the row itself: the identity map only keeps rows someone holds.
    row: Row | None = found.get(key)
    if row is not None and inspect(row).persistent and getattr(row, column.key) == value:
        return row
    row = session.exec(select(model).where(column == value)).first()
    if row is not None:
        found[key] = row
    return row


def load_unique(
    session: Session, model: type[Row], column: InstrumentedAttribute[Any], values: set[Any]
) -> list[Row]:
    """Load the ``model`` rows whose unique ``column`` is one of ``values``, in one query, and
    remember them as ``find_unique`` does (a batch's lookups, asked for at once)."""
    found = transaction_cache(session, "unique_rows")
    wanted = {value for value in values if (model, column.key, value) not in found}
    if not wanted:
        return []
    rows = list(session.exec(select(model).where(column.in_(wanted))).all())
    for row in rows:
        found[(model, column.key, getattr(row, column.key))] = row
    return rows
