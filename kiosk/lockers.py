"""The kiosk's own view of its lockers: which tool lives where, and which are out.

Only the hub knows for sure which tool is on loan to whom. The kiosk keeps what it saw itself,
on disk: a locker whose tool was taken is empty until the tool comes back through this kiosk,
and a tool reported as needing repair (or flagged by a steward) stays out of service here
until an allow-list generated after that report says what the hub made of it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

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
CREATE TABLE IF NOT EXISTS flagged (
    tool_code TEXT PRIMARY KEY,
    flagged_at TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class LockerState:
    """One locker as the screen and the decisions see it."""

    slot: int
    tool_code: str | None  # the tool that lives here (None: an empty locker)
    taken: bool  # its tool went out through this kiosk and has not come back
    out_of_service: bool

    @property
    def holds_tool(self) -> bool:
        """Whether the locker should have its tool inside."""
        return self.tool_code is not None and not self.taken


class LockerView:
    """Which tool is in which of ``slots``, from the hub's config and what this kiosk saw."""

    def __init__(self, db: sqlite3.Connection, store: AllowListStore, slots: tuple[int, ...]):
        db.executescript(SCHEMA)
        self._db, self._store, self.slots = db, store, slots
        self._taken = {slot: tool for slot, tool in db.execute("SELECT slot, tool_code FROM taken")}
        self._dropped = dict(db.execute("SELECT slot, tool_code FROM dropped"))
        self._flagged = {
            tool: datetime.fromisoformat(at)
            for tool, at in db.execute("SELECT tool_code, flagged_at FROM flagged")
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

    def loan_days(self, slot: int) -> int | None:
        """Return how many days the tool of ``slot`` may be borrowed."""
        config = self._store.config
        entry = config.lockers.get(slot) if config else None
        return entry.loan_days if entry else None

    def state(self, slot: int) -> LockerState:
        """Return what the kiosk believes of locker ``slot``."""
        tool = self.home_tool(slot)
        return LockerState(slot, tool, self.is_taken(slot), self.is_out_of_service(tool))

    def states(self) -> list[LockerState]:
        """Return every locker's state, by slot."""
        return [self.state(slot) for slot in self.slots]

    def slot_of(self, tool_code: str) -> int | None:
        """Return the slot the tool ``tool_code`` lives in, if it lives at this kiosk."""
        return next((s for s in self.slots if self.home_tool(s) == tool_code), None)

    def is_taken(self, slot: int) -> bool:
        """Whether the tool of ``slot`` went out through this kiosk and is not back."""
        tool = self.home_tool(slot)
        return tool is not None and self._taken.get(slot) == tool

    def is_out_of_service(self, tool_code: str | None) -> bool:
        """Whether the hub's allow-list or a report at this kiosk says the tool is unusable."""
        return tool_code is not None and (
            tool_code in self._store.out_of_service or tool_code in self._flagged
        )

    def mark_taken(self, slot: int, tool_code: str, card_uid: str, at: datetime) -> None:
        """Remember that ``tool_code`` left locker ``slot`` with card ``card_uid``."""
        with write(self._db) as db:
            db.execute(
                "INSERT OR REPLACE INTO taken VALUES (?, ?, ?, ?)",
                (slot, tool_code, card_uid, at.isoformat()),
            )
        self._taken[slot] = tool_code

    def mark_returned(self, slot: int, tool_code: str | None = None) -> None:
        """Remember that a tool is back inside locker ``slot`` (its home, or an empty one)."""
        dropped_off = tool_code is not None and self.home_tool(slot) is None
        with write(self._db) as db:
            db.execute("DELETE FROM taken WHERE slot = ?", (slot,))
            if dropped_off:
                db.execute("INSERT OR REPLACE INTO dropped VALUES (?, ?)", (slot, tool_code))
        self._taken.pop(slot, None)
        if dropped_off:
            self._dropped[slot] = tool_code

    def flag(self, tool_code: str, at: datetime) -> None:
        """Treat ``tool_code`` as out of service until a later allow-list says otherwise."""
        with write(self._db) as db:
            db.execute("INSERT OR REPLACE INTO flagged VALUES (?, ?)", (tool_code, at.isoformat()))
        self._flagged[tool_code] = at

    def allowlist_arrived(self, generated_at: datetime) -> None:
        """Drop the flags the hub has had the chance to act on before ``generated_at``."""
        settled = [tool for tool, at in self._flagged.items() if at < generated_at]
        if settled:
            with write(self._db) as db:
                db.executemany("DELETE FROM flagged WHERE tool_code = ?", [(t,) for t in settled])
            for tool in settled:
                del self._flagged[tool]
