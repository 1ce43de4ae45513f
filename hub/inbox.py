"""The event inbox: each kiosk event id is recorded once, in the transaction of its effect."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel

from hub.clock import utcnow


class InboxEvent(SQLModel, table=True):
    event_id: str = Field(primary_key=True, max_length=36)
    kiosk_id: str = Field(max_length=32, index=True)
    seq: int
    kind: str = Field(max_length=32)
    kiosk_time: datetime
    received_at: datetime = Field(default_factory=utcnow)
    outcome: str = Field(default="applied", max_length=16)
    reason: str | None = Field(default=None, max_length=500)


def already_processed(session: Session, event_id: str) -> InboxEvent | None:
    """Return the inbox row of ``event_id`` if that event was processed before."""
    return session.get(InboxEvent, event_id)


def record_event(session: Session, event: InboxEvent) -> bool:
    """Insert the event's inbox row in the current transaction; False if it was already there."""
    if already_processed(session, event.event_id) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(event)
            session.flush()
    except IntegrityError:
        # A concurrent worker recorded the same event first: it owns the effect.
        return False
    return True
