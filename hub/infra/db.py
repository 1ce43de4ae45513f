"""Connect to the hub's database and run work in transactions.

SQLite is the embedded default (WAL, foreign keys on); PostgreSQL is reached through a URL. Every
write goes through :func:`transaction`, which commits on success and rolls back on any error, so a
refusal never leaves half a change behind.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlmodel import Session

from hub.infra.sync import bump_when_kiosk_data_changes

SQLITE_BUSY_TIMEOUT_MS = 30_000


# Errors that say the database cannot be reached or used right now (down, restarting, cut off,
# locked past the busy timeout, out of pooled connections): try again later. Never a reason to
# refuse what was sent. A refusal of the data itself is an IntegrityError, DataError, ...
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
)


class DatabaseUnavailable(ConnectionError):
    """The database could not be reached or used; the work was not done and may be retried."""


def is_unavailable(error: BaseException) -> bool:
    """Tell whether ``error`` means "the database is unavailable now", not "the data is wrong"."""
    return isinstance(error, (DatabaseUnavailable, *UNAVAILABLE_ERRORS))


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


@contextmanager
def snapshot_reading(engine: Engine) -> Iterator[Session]:
    """Yield a session for reads only whose every statement sees the same snapshot, for a
    document that carries a version beside its content (a kiosk's allow-list).

    NOTE: on PostgreSQL, READ COMMITTED gives each statement a snapshot of its own, so a
    change committed between reading the members and reading the sync version would go out
    under the new version with the old content, and a kiosk would then refuse the corrected
    list as "not newer". REPEATABLE READ (read-only: it never fails to serialize) pins one
    snapshot; SQLite's read transaction already is one.
    """
    if is_sqlite(engine):
        bound = engine.execution_options(sqlite_begin="DEFERRED")
    else:
        bound = engine.execution_options(isolation_level="REPEATABLE READ")
    with HubSession(bound, expire_on_commit=False) as session, session.begin():
        yield session


def ping(engine: Engine) -> None:
    """Read one row of the schema's version table: cheap, and fails if the database is away."""
    with reading(engine) as session:
        session.connection().exec_driver_sql("SELECT version_num FROM alembic_version LIMIT 1")
