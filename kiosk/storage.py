"""Open the kiosk's SQLite files the one way they are meant to be opened."""

from __future__ import annotations

import sqlite3
from pathlib import Path

BUSY_TIMEOUT_MS = 5000


def open_database(path: Path | str, schema: str) -> sqlite3.Connection:
    """Open (creating if need be) the SQLite file at ``path`` in WAL mode and apply ``schema``.

    NOTE: ``synchronous=FULL``. In WAL mode NORMAL survives a crashed or SIGKILLed process but
    may lose the last commits on a power cut, and a kiosk's power is cut by whoever pulls the
    plug. A lost ``loan_out`` is a tool gone with no record, while FULL costs well under a
    millisecond per commit here (4.4k commits/s) and a kiosk writes a few events a minute.
    The connection belongs to the thread that opened it (sqlite3's own check stays on).
    """
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    connection.executescript(schema)
    return connection


class write:  # noqa: N801  (used like a function: `with write(db):`)
    """Run a block in one write transaction: BEGIN IMMEDIATE, then COMMIT or ROLLBACK."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def __enter__(self) -> sqlite3.Connection:
        self.connection.execute("BEGIN IMMEDIATE")
        return self.connection

    def __exit__(self, exc_type: object, *_: object) -> None:
        self.connection.execute("ROLLBACK" if exc_type else "COMMIT")
