"""The durable mail outbox: a mail is queued in the caller's transaction, sent later, retried.

``queue_mail`` is the one way in: it honours the member's choices (nothing is queued for a
kind they turned off, or when they have no address) and adds the footer saying how to stop
such mail. A ``key`` makes queueing idempotent: the same key is queued at most once, so a job
that looks for what is due may look again and again. Sending (``reminders.send_queued_mail``)
records every attempt: how many, the last error, when to try next (backing off), when sent.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Column, Field, Session, SQLModel, col, select

from hub.infra import settings
from hub.infra.clock import as_utc, utcnow
from hub.mail.choices import MailKind, wants
from hub.members.roster import Member

KEY_MAX = 120
SUBJECT_MAX = 200
ERROR_MAX = 300
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=6)
MAX_ATTEMPTS = 12  # about a day and a half of trying, then a steward must look


class MailStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    GAVE_UP = "gave_up"


class OutboxMail(SQLModel, table=True):
    """One mail to one member: queued, then sent (or given up after ``MAX_ATTEMPTS``)."""

    __tablename__ = "mail_outbox"

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    kind: str = Field(max_length=32)
    # What the mail is about, so it is queued once ("overdue:loan:7:week:2").
    key: str = Field(max_length=KEY_MAX, unique=True)
    to_address: str = Field(max_length=200)
    subject: str = Field(max_length=SUBJECT_MAX)
    text: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=MailStatus.QUEUED, max_length=16, index=True)
    queued_at: datetime = Field(default_factory=utcnow)
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = Field(default=None, index=True)
    sent_at: datetime | None = None
    last_error: str | None = Field(default=None, max_length=ERROR_MAX)


def queue_mail(
    session: Session,
    member: Member,
    kind: MailKind | str,
    subject: str,
    text: str,
    *,
    key: str | None = None,
    now: datetime | None = None,
) -> OutboxMail | None:
    """Queue a plain-text mail of ``kind`` to ``member``; return it, or None when the member
    has no address or turned ``kind`` off. With ``key``, a mail already queued under it is
    returned instead of a second one."""
    kind, now = MailKind(kind), as_utc(now or utcnow())
    if not wants(session, member, kind):
        return None
    key = (key or f"{kind.value}:member:{member.id}:{now.isoformat()}")[:KEY_MAX]
    existing = mail_by_key(session, key)
    if existing is not None:
        return existing
    mail = OutboxMail(
        member_id=member.id or 0,
        kind=kind.value,
        key=key,
        to_address=member.email or "",
        subject=subject.strip()[:SUBJECT_MAX],
        text=text.rstrip() + "\n\n" + how_to_stop(),
        queued_at=now,
        next_attempt_at=now,
    )
    try:
        with session.begin_nested():
            session.add(mail)
    except IntegrityError:  # a concurrent pass queued the same key first
        return mail_by_key(session, key)
    return mail


def how_to_stop() -> str:
    """Return the footer every mail carries: why it came, and how to stop it."""
    return (
        "-- \n"
        "You get this because you are a member of the Commonshed tool library.\n"
        f"To stop these emails, or choose which you get: {settings.public_url()}/me/reminders"
    )


def mail_by_key(session: Session, key: str) -> OutboxMail | None:
    """Return the mail queued under ``key``, if any."""
    return session.exec(select(OutboxMail).where(OutboxMail.key == key)).first()


def due_mail(session: Session, *, now: datetime, limit: int = 20) -> list[OutboxMail]:
    """Return queued mail whose next attempt is due, oldest first."""
    query = (
        select(OutboxMail)
        .where(OutboxMail.status == MailStatus.QUEUED, col(OutboxMail.next_attempt_at) <= now)
        .order_by(col(OutboxMail.next_attempt_at), col(OutboxMail.id))
        .limit(limit)
    )
    return list(session.exec(query))


def mark_sent(session: Session, mail: OutboxMail, *, now: datetime) -> None:
    """Record that ``mail`` was handed to the SMTP server."""
    mail.attempts += 1
    mail.status, mail.sent_at, mail.next_attempt_at = MailStatus.SENT, now, None
    session.add(mail)


def mark_failed(session: Session, mail: OutboxMail, error: str, *, now: datetime) -> None:
    """Record a failed attempt and when to try again (doubling waits), or give up."""
    mail.attempts += 1
    mail.last_error = error[:ERROR_MAX]
    if mail.attempts >= MAX_ATTEMPTS:
        mail.status, mail.next_attempt_at = MailStatus.GAVE_UP, None
    else:
        mail.next_attempt_at = now + retry_wait(mail.attempts)
    session.add(mail)


def retry_wait(attempts: int) -> timedelta:
    """Return how long to wait after ``attempts`` failed attempts: 1, 2, 4 ... minutes, at most
    six hours."""
    wait: timedelta = FIRST_RETRY * 2 ** max(attempts - 1, 0)
    return min(wait, LONGEST_WAIT)
