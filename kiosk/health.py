"""What a kiosk tells the hub about its own health, beyond being online.

The station gathers it (its reader, its supervisor, its lock-safety check) and the link puts it
into the retained status, with the outbox's backlog and the age of its oldest unacked event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from broker.messages import REASON_MAX

LocksSafety = Literal["verified", "not_applicable"]


@dataclass(frozen=True)
class KioskHealth:
    """The kiosk's parts as its status reports them (None: not known)."""

    reader: Literal["ok", "missing"] | None = None
    reader_reinitialised: int | None = None
    last_error: str | None = None
    locks_safety: LocksSafety | None = None

    @property
    def sick(self) -> bool:
        """Whether a steward is needed: the reader is missing."""
        return self.reader == "missing"


def short_error(text: str | None) -> str | None:
    """Return ``text`` fit for the status: printable, at most REASON_MAX characters."""
    if not text:
        return None
    printable = "".join(c if c.isprintable() else " " for c in text).strip()
    return printable[:REASON_MAX] or None
