"""The kiosk's own view of its lockers: which tool lives where, and which are out.

Only the hub knows for sure which tool is on loan to whom, and it says so in every allow-list
entry (``loans``): a tool any entry lists as on loan is taken here, whatever this kiosk saw,
so a kiosk with a fresh SD card offers exactly what the hub says is in its lockers. On top of
that the kiosk keeps what it saw itself, on disk: a locker whose tool went out through it is
empty until the tool comes back through it, and two *marks* stand until the hub has had the
chance to act on them:

- ``flagged``: a tool reported as needing repair (or ticketed by a steward) is out of service
  here at once;
- ``returned``: a tool put back here is in its locker, whatever the allow-list still says.

A mark yields to the hub by the allow-list's ``version`` and the hub's acks, never by the
kiosk's wall clock (a kiosk an hour fast once kept a repaired tool out of service for good): it
is settled by the first allow-list newer than the one held when the hub acknowledged the mark's
event, or by a newer one that shows it (the tool out of service, the tool no longer on loan),
or once the hub has acknowledged the event and said nothing new for ``QUIET_AFTER_ACK_S``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from kiosk.allowlist import AllowListStore
from kiosk.storage import write

SCHEMA = """
CREATE TABLE IF NOT EXISTS taken (
    slot INTEGER PRIMARY KEY,
    tool_code TEXT NOT NULL,
    card_uid TEXT NOT NULL,
    taken_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dropped (
    slot INTEGER PRIMARY KEY,
    tool_code TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS marks (
    kind TEXT NOT NULL,                 -- 'flagged' or 'returned'
    tool_code TEXT NOT NULL,
    allowlist_version INTEGER NOT NULL, -- the mark waits for an allow-list newer than this
    event_id TEXT,                      -- the event that tells the hub (NULL: none known)
    PRIMARY KEY (kind, tool_code)
);
"""
# Flags of kiosks from before marks carried the allow-list version: the next allow-list
# settles them (they carried the kiosk's own clock time, which cannot be trusted).
MIGRATE_FLAGGED = """
INSERT OR IGNORE INTO marks (kind, tool_code, allowlist_version, event_id)
    SELECT 'flagged', tool_code, 0, NULL FROM flagged;
DROP TABLE flagged;
"""
MarkKind = Literal["flagged", "returned"]
# NOTE: the hub publishes an allow-list only when its content changed, so after an ack it may
# say nothing more (a report on a tool already out of service, a refused return, a repair
# made before the publisher looked). This long after the ack (the kiosk's monotonic clock)
# the allow-list held is the hub's word; it covers a loaded publisher's lag many times over.
QUIET_AFTER_ACK_S = 30.0


@dataclass(frozen=True)
class Mark:
    """Something this kiosk saw that the hub may not know yet."""

    allowlist_version: int  # settled by an allow-list newer than this
    event_id: str | None  # while the hub has not acknowledged it, the mark stands


@dataclass(frozen=True)
class LockerState:
    """One locker as the screen and the decisions see it."""

    slot: int
    tool_code: str | None  # the tool that lives here (None: an empty locker)
    taken: bool  # its tool is out: on loan at the hub, or seen leaving here and not back
    out_of_service: bool
    # NOTE: only a tool seen leaving here may be brought back by anyone (a neighbour returning
    # it); one the hub lent elsewhere only by its borrower, or a stranger could "return" it
    # into an empty locker and close someone else's loan.
    taken_here: bool = False  # its tool went out through this kiosk and has not come back

    @property
    def holds_tool(self) -> bool:
        """Whether the locker should have its tool inside."""
        return self.tool_code is not None and not self.taken


class LockerView:
    """Which tool is in which of ``slots``, from the hub's config and allow-list, and what
    this kiosk saw."""

    def __init__(self, db: sqlite3.Connection, store: AllowListStore, slots: tuple[int, ...]):
        db.executescript(SCHEMA)
        _migrate(db)
        self._db, self._store, self.slots = db, store, slots
        self._taken = {slot: tool for slot, tool in db.execute("SELECT slot, tool_code FROM taken")}
        self._dropped = dict(db.execute("SELECT slot, tool_code FROM dropped"))
        self._acked_at: dict[tuple[str, str], float] = {}  # when the hub's ack was first seen
        self._marks: dict[tuple[str, str], Mark] = {
            (kind, tool): Mark(version, event_id)
            for kind, tool, version, event_id in db.execute(
                "SELECT kind, tool_code, allowlist_version, event_id FROM marks"
            )
        }

    def home_tool(self, slot: int) -> str | None:
        """Return the code of the tool that lives in ``slot``: per the hub's config, or one
        returned here from another kiosk that the config does not place anywhere yet."""
        config = self._store.config
        entry = config.lockers.get(slot) if config else None
        if entry is not None:
            return entry.tool_code
        dropped = self._dropped.get(slot)
        placed = config and any(e and e.tool_code == dropped for e in config.lockers.values())
        return None if placed else dropped

    def tool_name(self, tool_code: str | None) -> str | None:
        """Return the name the hub's config gives ``tool_code`` (e.g. "Cordless drill 18V"),
        or None: a config from before names, or a tool that lives at another kiosk."""
        config = self._store.config
        if config is None or tool_code is None:
            return None
        return next(
            (e.name for e in config.lockers.values() if e and e.tool_code == tool_code), None
        )

    def loan_days(self, slot: int) -> int | None:
        """Return how many days the tool of ``slot`` may be borrowed."""
        config = self._store.config
        entry = config.lockers.get(slot) if config else None
        return entry.loan_days if entry else None

    def state(self, slot: int) -> LockerState:
        """Return what the kiosk believes of locker ``slot``."""
        tool = self.home_tool(slot)
        return LockerState(
            slot,
            tool,
            self.is_taken(slot),
            self.is_out_of_service(tool),
            taken_here=tool is not None and self._taken.get(slot) == tool,
        )

    def states(self) -> list[LockerState]:
        """Return every locker's state, by slot."""
        return [self.state(slot) for slot in self.slots]

    def slot_of(self, tool_code: str) -> int | None:
        """Return the slot the tool ``tool_code`` lives in, if it lives at this kiosk."""
        return next((s for s in self.slots if self.home_tool(s) == tool_code), None)

    def is_taken(self, slot: int) -> bool:
        """Whether the tool of ``slot`` is out: it left through this kiosk and is not back,
        or the hub has it on loan and it was not put back here since."""
        tool = self.home_tool(slot)
        if tool is None:
            return False
        lent_by_hub = tool in self._store.on_loan and ("returned", tool) not in self._marks
        return self._taken.get(slot) == tool or lent_by_hub

    def taken_with(self, card_uid: str) -> frozenset[str]:
        """Return the tools seen leaving this kiosk with ``card_uid`` and not back yet (the
        hub may not list them as that member's loans yet: offline, or a moment after)."""
        rows = self._db.execute("SELECT tool_code FROM taken WHERE card_uid = ?", (card_uid,))
        return frozenset(tool for (tool,) in rows)

    def is_out_of_service(self, tool_code: str | None) -> bool:
        """Whether the hub's allow-list or a report at this kiosk says the tool is unusable."""
        return tool_code is not None and (
            tool_code in self._store.out_of_service or ("flagged", tool_code) in self._marks
        )

    def mark_taken(self, slot: int, tool_code: str, card_uid: str, at: datetime) -> None:
        """Remember that ``tool_code`` left locker ``slot`` with card ``card_uid``."""
        with write(self._db) as db:
            db.execute(
                "INSERT OR REPLACE INTO taken VALUES (?, ?, ?, ?)",
                (slot, tool_code, card_uid, at.isoformat()),
            )
            _forget(db, "returned", tool_code)
        self._taken[slot] = tool_code
        self._marks.pop(("returned", tool_code), None)

    def mark_returned(
        self, slot: int, tool_code: str | None = None, event_id: str | None = None
    ) -> None:
        """Remember that a tool is back inside locker ``slot`` (its home, or an empty one)."""
        dropped_off = tool_code is not None and self.home_tool(slot) is None
        tool = tool_code or self.home_tool(slot)
        with write(self._db) as db:
            db.execute("DELETE FROM taken WHERE slot = ?", (slot,))
            if dropped_off:
                db.execute("INSERT OR REPLACE INTO dropped VALUES (?, ?)", (slot, tool_code))
            if tool is not None:
                self._remember(db, "returned", tool, event_id)
        self._taken.pop(slot, None)
        if dropped_off:
            self._dropped[slot] = tool_code

    def flag(self, tool_code: str, event_id: str | None = None) -> None:
        """Treat ``tool_code`` as out of service until the hub has had the chance to act on
        the event ``event_id`` that reported it."""
        with write(self._db) as db:
            self._remember(db, "flagged", tool_code, event_id)

    def allowlist_arrived(self, unacknowledged: Callable[[str], bool] = lambda _: False) -> None:
        """Settle the marks the held allow-list supersedes: those made under an older one
        that it confirms (the tool out of service; the tool no longer on loan), or whose event
        the hub has acknowledged (``unacknowledged(event_id)`` is false).

        NOTE: an unconfirmed mark whose event is still unacknowledged waits for an allow-list
        newer than this one: this one may have been built before the hub had the event. The
        confirmation matters too, since the hub's ack may reach the kiosk after the
        allow-list that already shows the event's effect, and no newer one may follow soon.
        """
        version = self._held_version()
        waiting, settled = {}, []
        for key, mark in self._marks.items():
            if mark.allowlist_version >= version:
                continue
            if self._confirmed(*key) or not (mark.event_id and unacknowledged(mark.event_id)):
                settled.append(key)
            else:
                waiting[key] = Mark(version, mark.event_id)
        if not (waiting or settled):
            return
        with write(self._db) as db:
            for (kind, tool), mark in waiting.items():
                db.execute(
                    "UPDATE marks SET allowlist_version = ? WHERE kind = ? AND tool_code = ?",
                    (mark.allowlist_version, kind, tool),
                )
            for kind, tool in settled:
                _forget(db, kind, tool)
        self._marks.update(waiting)
        for key in settled:
            del self._marks[key]

    def settle_acknowledged(self, unacknowledged: Callable[[str], bool], now: float) -> None:
        """Settle the marks whose event the hub acknowledged ``QUIET_AFTER_ACK_S`` ago (``now``
        is monotonic) with no newer allow-list since."""
        self._acked_at = {k: t for k, t in self._acked_at.items() if k in self._marks}
        due = []
        for key, mark in self._marks.items():
            if key not in self._acked_at:
                if mark.event_id is None or unacknowledged(mark.event_id):
                    continue
                self._acked_at[key] = now
            if now - self._acked_at[key] >= QUIET_AFTER_ACK_S:
                due.append(key)
        if due:
            with write(self._db) as db:
                for kind, tool in due:
                    _forget(db, kind, tool)
            for key in due:
                del self._marks[key], self._acked_at[key]

    def _confirmed(self, kind: str, tool: str) -> bool:
        """Whether the held allow-list shows what mark ``kind`` of ``tool`` says."""
        if kind == "flagged":
            return tool in self._store.out_of_service
        return tool not in self._store.on_loan

    def _remember(
        self, db: sqlite3.Connection, kind: MarkKind, tool: str, event_id: str | None
    ) -> None:
        mark = Mark(self._held_version(), event_id)
        db.execute(
            "INSERT OR REPLACE INTO marks VALUES (?, ?, ?, ?)",
            (kind, tool, mark.allowlist_version, event_id),
        )
        self._marks[(kind, tool)] = mark
        self._acked_at.pop((kind, tool), None)  # a new event: wait for its own ack

    def _held_version(self) -> int:
        allowlist = self._store.allowlist
        return allowlist.version if allowlist else 0


def _forget(db: sqlite3.Connection, kind: str, tool: str) -> None:
    db.execute("DELETE FROM marks WHERE kind = ? AND tool_code = ?", (kind, tool))


def _migrate(db: sqlite3.Connection) -> None:
    """Carry the flags of an older kiosk over into ``marks``."""
    old = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'flagged'")
    if old.fetchone():
        with write(db) as tx:
            for statement in MIGRATE_FLAGGED.split(";"):
                if statement.strip():
                    tx.execute(statement)
