"""The event inbox: each kiosk event id is recorded once, in the transaction of its effect
(``hub.worker.events.apply_events`` writes the rows), and the dead letters beside it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, LargeBinary
from sqlmodel import Field, Session, SQLModel, select

from hub.infra.clock import utcnow


class InboxEvent(SQLModel, table=True):
    """A kiosk event the hub has taken: when the kiosk says it happened (``kiosk_time``) and
    when the hub received it (``received_at``), where it stands in its kiosk's sequence
    (``epoch``, ``seq``), and its outcome. A ``held`` event keeps its ``payload`` until it is
    paired (``hub.worker.sequence``)."""

    __table_args__ = (Index("ix_inboxevent_kiosk_epoch_seq", "kiosk_id", "epoch", "seq"),)

    event_id: str = Field(primary_key=True, max_length=36)
    kiosk_id: str = Field(max_length=32, index=True)
    seq: int
    epoch: int = 0
    kind: str = Field(max_length=32)
    kiosk_time: datetime
    received_at: datetime = Field(default_factory=utcnow)
    outcome: str = Field(default="applied", max_length=16)
    reason: str | None = Field(default=None, max_length=500)
    payload: bytes | None = Field(default=None, sa_type=LargeBinary)


class DeadLetter(SQLModel, table=True):
    """A message that could not be understood: kept with its raw bytes and the reason."""

    id: int | None = Field(default=None, primary_key=True)
    received_at: datetime = Field(default_factory=utcnow, index=True)
    topic: str = Field(max_length=300)
    kiosk_id: str | None = Field(default=None, max_length=32, index=True)
    reason: str = Field(max_length=1000)
    payload: bytes = Field(sa_type=LargeBinary)


def record_dead_letter(
    session: Session, *, topic: str, payload: bytes, reason: str, kiosk_id: str | None = None
) -> DeadLetter:
    """Keep a malformed message for a person to look at; nothing else is changed."""
    letter = DeadLetter(
        topic=topic[:300], payload=bytes(payload), reason=reason[:1000], kiosk_id=kiosk_id
    )
    session.add(letter)
    return letter


def dead_letters(session: Session, *, limit: int = 100) -> list[DeadLetter]:
    """Return the newest dead letters."""
    return list(session.exec(select(DeadLetter).order_by(DeadLetter.id.desc()).limit(limit)))
