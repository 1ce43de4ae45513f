"""The hub's latest allow-list and kiosk configuration, kept on disk and in memory.

A restarted kiosk with no network still decides: both documents are stored, as the bytes
that came over the wire, in the kiosk's SQLite file and decoded again at start (which checks
their content hash once more). A document replaces the one held only if its ``version`` is
newer. In memory the allow-list's ``entries`` are a dict, and the tools out of service and
the tools on loan (to anyone: every entry's ``loans``) are frozensets, so a decision is a few
hash lookups.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable

from broker import messages as wire
from kiosk.storage import write

log = logging.getLogger("commonshed.kiosk.allowlist")

SCHEMA = """
CREATE TABLE IF NOT EXISTS snapshot (
    kind TEXT PRIMARY KEY,          -- 'allowlist' or 'config'
    version INTEGER NOT NULL,
    payload BLOB NOT NULL           -- the bytes as the hub published them
);
"""
Document = wire.AllowList | wire.KioskConfig
DECODERS: dict[str, Callable[[bytes], Document]] = {
    "allowlist": wire.decode_allowlist,
    "config": wire.decode_config,
}


class AllowListStore:
    """Hold the newest AllowList and KioskConfig this kiosk has received."""

    def __init__(self, db: sqlite3.Connection, kiosk_id: str) -> None:
        db.executescript(SCHEMA)
        self._db, self.kiosk_id = db, kiosk_id
        self.allowlist: wire.AllowList | None = None
        self.config: wire.KioskConfig | None = None
        self.out_of_service: frozenset[str] = frozenset()
        self.on_loan: frozenset[str] = frozenset()  # per the hub, whoever borrowed them

    @property
    def versions(self) -> tuple[int | None, int | None]:
        """The versions held: (allow-list, config); None for one never received."""
        return (
            self.allowlist.version if self.allowlist else None,
            self.config.version if self.config else None,
        )

    def load(self) -> None:
        """Take up the documents stored on disk; one that no longer decodes is ignored."""
        for kind, payload in self._db.execute("SELECT kind, payload FROM snapshot"):
            try:
                self._hold(DECODERS[kind](payload))
            except (KeyError, wire.MalformedMessage) as error:
                log.error("stored %s is unusable, waiting for the hub's: %s", kind, error)

    def offer(self, kind: str, payload: bytes, document: Document | None = None) -> bool:
        """Keep ``payload`` if it decodes and is newer than the one held; tell whether it was.

        ``document`` is ``payload`` already decoded (by the link's thread), if it was.
        """
        try:
            document = document or DECODERS[kind](payload)
        except wire.MalformedMessage as error:
            log.error("refused a %s from the hub: %s", kind, error)
            return False
        if not self._acceptable(document):
            return False
        with write(self._db) as db:
            db.execute(
                "INSERT OR REPLACE INTO snapshot (kind, version, payload) VALUES (?, ?, ?)",
                (kind, document.version, bytes(payload)),
            )
        self._hold(document)
        log.info("now holding %s version %d", kind, document.version)
        return True

    def _acceptable(self, document: Document) -> bool:
        held = self.allowlist if isinstance(document, wire.AllowList) else self.config
        if held is not None and document.version <= held.version:
            return False  # the same one again (retained, resubscribed) or an older one
        if isinstance(document, wire.KioskConfig) and document.kiosk_id != self.kiosk_id:
            log.error("refused a config for kiosk %r: this is %r", document.kiosk_id, self.kiosk_id)
            return False
        return True

    def _hold(self, document: Document) -> None:
        if isinstance(document, wire.AllowList):
            self.allowlist = document
            self.out_of_service = frozenset(document.tools_out_of_service)
            self.on_loan = frozenset(t for entry in document.entries.values() for t in entry.loans)
        else:
            self.config = document
