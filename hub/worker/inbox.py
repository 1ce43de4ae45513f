"""The event inbox: each kiosk event id is recorded once, in the transaction of its effect
(``hub.worker.events.apply_events`` writes the rows), and the dead letters beside it: kept
until a steward settles each one (``hub.worker.letters``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, LargeBinary
from sqlmodel import Field, Session, SQLModel, select

from hub.infra import audit
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
    """A message the hub could not take: kept with its raw bytes and the reason until a
    steward settles it (applied again once the hub can, or set aside with a note)."""

    id: int | None = Field(default=None, primary_key=True)
    received_at: datetime = Field(default_factory=utcnow, index=True)
    topic: str = Field(max_length=300)
    kiosk_id: str | None = Field(default=None, max_length=32, index=True)
    reason: str = Field(max_length=1000)
    payload: bytes = Field(sa_type=LargeBinary)
    settled_at: datetime | None = Field(default=None, index=True)
    settled_by: int | None = Field(default=None, foreign_key="member.id")
    settlement: str | None = Field(default=None, max_length=600)


DEAD_LETTER_APPLY = audit.Action("dead_letter.apply_again", ("topic", "settled_at", "settlement"))
DEAD_LETTER_SET_ASIDE = audit.Action("dead_letter.set_aside", ("topic", "settled_at", "settlement"))


def record_dead_letter(
    session: Session, *, topic: str, payload: bytes, reason: str, kiosk_id: str | None = None
) -> DeadLetter:
    """Keep a malformed message for a person to look at; nothing else is changed."""
    letter = DeadLetter(
        topic=topic[:300], payload=bytes(payload), reason=reason[:1000], kiosk_id=kiosk_id
    )
    session.add(letter)
    return letter


def dead_letters(
    session: Session, *, limit: int = 100, unsettled: bool = False
) -> list[DeadLetter]:
    """Return the newest dead letters (only those waiting for a steward if ``unsettled``)."""
    query = select(DeadLetter).order_by(DeadLetter.id.desc()).limit(limit)
    if unsettled:
        query = query.where(DeadLetter.settled_at.is_(None))
    return list(session.exec(query))
