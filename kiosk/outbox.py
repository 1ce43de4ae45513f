"""The durable outbox: every event is on disk before it goes on the wire, until the hub acks it.

Rules (broker/PROTOCOL.md, "Delivery rules"): each event gets a fresh ``event_id`` and the next
``seq`` of this kiosk (from 0, never reused: the counter lives in its own row, so deleting
acknowledged events cannot bring an old number back). An event leaves the outbox only when the
hub's ``EventAck`` arrives; a ``rejected`` one (or a ``duplicate`` carrying the reason it was
rejected when first seen) is kept, with the hub's reason, in a small ``rejected`` table for the
screen and the logs. Each thread opens its own ``Outbox`` on the
same file (SQLite WAL: one writer at a time, readers never blocked).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from broker import messages as wire
from kiosk.storage import open_database, write

log = logging.getLogger("commonshed.kiosk.outbox")

KEEP_REJECTED = 100
# The body of any kiosk event; the event class says which one it must be (checked on building).
EventBody = (
    wire.LoanOut
    | wire.ToolReturn
    | wire.RepairLogged
    | wire.MaintenanceOpened
    | wire.DoorChange
    | wire.CardRefused
)
SCHEMA = """
CREATE TABLE IF NOT EXISTS counter (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    payload BLOB NOT NULL,
    written_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rejected (
    seq INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL,
    type TEXT NOT NULL,
    reason TEXT NOT NULL,
    payload BLOB NOT NULL,
    rejected_at TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Pending:
    """An event waiting for the hub's acknowledgement, as the bytes to (re)send."""

    seq: int
    event_id: str
    payload: bytes


@dataclass(frozen=True)
class Rejection:
    """An event the hub will never apply, and why."""

    seq: int
    event_id: str
    type: str
    reason: str
    rejected_at: str


class Outbox:
    """The kiosk's outbox file, opened for the calling thread."""

    def __init__(self, path: Path | str, kiosk_id: str) -> None:
        self.path, self.kiosk_id = Path(path), kiosk_id
        self._db = open_database(self.path, SCHEMA)

    def close(self) -> None:
        """Close this thread's connection."""
        self._db.close()

    def record(
        self, event_class: type[wire.Event], body: EventBody, at: datetime | None = None
    ) -> wire.Event:
        """Write a new event of ``event_class`` with ``body``; return it once it is on disk."""
        with write(self._db) as db:
            seq = _take_seq(db)
            # NOTE: model_validate validates exactly as the constructor does; unlike it, it
            # takes a body of whichever event class this is.
            event = event_class.model_validate(
                {
                    "event_id": wire.new_message_id(),
                    "kiosk_id": self.kiosk_id,
                    "seq": seq,
                    "kiosk_time": at or datetime.now(UTC),
                    "body": body,
                }
            )
            db.execute(
                "INSERT INTO outbox (seq, event_id, type, payload, written_at) VALUES (?,?,?,?,?)",
                (seq, event.event_id, event.type, wire.encode(event), _now()),
            )
        return event

    def pending(self, *, after: int = -1, limit: int = 100) -> list[Pending]:
        """Return up to ``limit`` unacknowledged events after seq ``after``, oldest first."""
        rows = self._db.execute(
            "SELECT seq, event_id, payload FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
            (after, limit),
        )
        return [Pending(seq, event_id, payload) for seq, event_id, payload in rows]

    def get(self, event_id: str) -> Pending | None:
        """Return the unacknowledged event ``event_id``, or None if it is gone."""
        row = self._db.execute(
            "SELECT seq, event_id, payload FROM outbox WHERE event_id = ?", (event_id,)
        ).fetchone()
        return Pending(*row) if row else None

    def acknowledge(self, acks: Iterable[wire.EventAck]) -> int:
        """Remove the acknowledged events (keeping rejected ones aside); return how many."""
        removed = 0
        with write(self._db) as db:
            for ack in acks:
                removed += _settle(db, ack)
            db.execute(
                "DELETE FROM rejected WHERE seq NOT IN "
                "(SELECT seq FROM rejected ORDER BY seq DESC LIMIT ?)",
                (KEEP_REJECTED,),
            )
        return removed

    def backlog(self) -> int:
        """Return how many events wait for the hub's acknowledgement."""
        count: int = self._db.execute("SELECT count(*) FROM outbox").fetchone()[0]
        return count

    def oldest_written_at(self) -> datetime | None:
        """Return when the oldest event still waiting for the hub was written, if any."""
        row = self._db.execute("SELECT written_at FROM outbox ORDER BY seq LIMIT 1").fetchone()
        return None if row is None else datetime.fromisoformat(row[0])

    def next_seq(self) -> int:
        """Return the seq the next event will get."""
        row = self._db.execute("SELECT value FROM counter WHERE name = 'seq'").fetchone()
        seq: int = row[0] if row else 0
        return seq

    def rejections(self, limit: int = 10) -> list[Rejection]:
        """Return the latest events the hub rejected, newest first."""
        rows = self._db.execute(
            "SELECT seq, event_id, type, reason, rejected_at FROM rejected "
            "ORDER BY seq DESC LIMIT ?",
            (limit,),
        )
        return [Rejection(*row) for row in rows]


def _take_seq(db: sqlite3.Connection) -> int:
    """Return the next seq and advance the counter, inside the caller's transaction."""
    row = db.execute("SELECT value FROM counter WHERE name = 'seq'").fetchone()
    seq: int = row[0] if row else 0
    db.execute("INSERT OR REPLACE INTO counter (name, value) VALUES ('seq', ?)", (seq + 1,))
    return seq


def _settle(db: sqlite3.Connection, ack: wire.EventAck) -> int:
    """Remove one acknowledged event; keep a rejected one aside. Return 1 if it was there."""
    row = db.execute(
        "SELECT seq, type, payload FROM outbox WHERE event_id = ?", (ack.event_id,)
    ).fetchone()
    if row is None:
        return 0  # acknowledged before (a duplicate ack), or not ours
    if ack.rejected:  # rejected now, or a duplicate of an event rejected when first seen
        log.warning("the hub rejected event %s (seq %d): %s", ack.event_id, row[0], ack.reason)
        db.execute(
            "INSERT OR REPLACE INTO rejected VALUES (?, ?, ?, ?, ?, ?)",
            (row[0], ack.event_id, row[1], ack.reason, row[2], _now()),
        )
    db.execute("DELETE FROM outbox WHERE event_id = ?", (ack.event_id,))
    return 1


def _now() -> str:
    return datetime.now(UTC).isoformat()
