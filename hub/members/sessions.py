"""Dashboard sign-in sessions, kept on the hub so that any of them can be ended at once.

The browser's (signed) cookie holds only a random session key; the hub keeps its hash with the
member, when it started and was last seen, and when and why it ended. Signing out ends that
session; a password change, a suspension and "sign out everywhere" end all of a member's
sessions, so a copied cookie stops working the moment its session ends.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Field, Session, SQLModel, col, select

from hub.infra import audit
from hub.infra.clock import as_utc, utcnow
from hub.members.ranks import Actor, actor_id, require_may_act_on
from hub.members.roster import Member, get_member

# Seen-at is written at most this often: a page load should not always be a database write.
TOUCH_EVERY = timedelta(minutes=5)


class SignInSession(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    key_hash: str = Field(max_length=64, unique=True, index=True)
    started_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None
    ended_why: str | None = Field(default=None, max_length=40)
    address: str | None = Field(default=None, max_length=64)
    agent: str | None = Field(default=None, max_length=200)


def start_session(
    session: Session,
    member_id: int,
    *,
    address: str | None = None,
    agent: str | None = None,
    now: datetime | None = None,
) -> str:
    """Start a sign-in session for ``member_id``; return its key (for the cookie only)."""
    key, now = secrets.token_urlsafe(32), now or utcnow()
    session.add(
        SignInSession(
            member_id=member_id,
            key_hash=_key_hash(key),
            started_at=now,
            last_seen_at=now,
            address=(address or "")[:64] or None,
            agent=(agent or "")[:200] or None,
        )
    )
    session.flush()
    return key


@dataclass(frozen=True)
class Lookup:
    """What a session key opens, and what (if anything) must be written down about it."""

    member: Member | None
    write: str = ""  # "": nothing; "touch": note it was seen; else why it ends now


def look_up(
    session: Session,
    key: str,
    *,
    idle: timedelta,
    lifetime: timedelta,
    now: datetime | None = None,
) -> Lookup:
    """Say whose live session ``key`` is, reading only (``record`` writes what it asks for).

    A session idle for longer than ``idle`` (give or take ``TOUCH_EVERY``) or older than
    ``lifetime`` has ended, whatever any copy of the cookie says about itself.
    """
    row = _row(session, key)
    if row is None or row.ended_at is not None:
        return Lookup(None)
    now = now or utcnow()
    expired = _expiry(row, now, idle=idle, lifetime=lifetime)
    if expired:
        return Lookup(None, expired)
    touch = "touch" if now - as_utc(row.last_seen_at) >= TOUCH_EVERY else ""
    return Lookup(get_member(session, row.member_id), touch)


def record(session: Session, key: str, lookup: Lookup, *, now: datetime | None = None) -> None:
    """Write what ``lookup`` asked for: the session was seen, or it has ended and why."""
    row = _row(session, key)
    if row is None or row.ended_at is not None or not lookup.write:
        return
    if lookup.write == "touch":
        row.last_seen_at = now or utcnow()
    else:
        row.ended_at, row.ended_why = now or utcnow(), lookup.write
    session.add(row)


def _expiry(row: SignInSession, now: datetime, *, idle: timedelta, lifetime: timedelta) -> str:
    """Say why the session has run out ("" while it has not)."""
    if now - as_utc(row.started_at) > lifetime:
        return "lifetime over"
    if now - as_utc(row.last_seen_at) > idle + TOUCH_EVERY:
        return "idle"
    return ""


def end_session(session: Session, key: str, *, now: datetime | None = None) -> None:
    """End the session ``key`` (signing out); an unknown or ended key changes nothing."""
    row = _row(session, key)
    if row is not None and row.ended_at is None:
        row.ended_at, row.ended_why = now or utcnow(), "signed out"
        session.add(row)


def end_sessions_of(
    session: Session, member_id: int, why: str, *, now: datetime | None = None
) -> int:
    """End every live session of ``member_id``; return how many (the caller audits why)."""
    rows = live_sessions(session, member_id)
    for row in rows:
        row.ended_at, row.ended_why = now or utcnow(), why[:40]
        session.add(row)
    return len(rows)


def sign_out_everywhere(
    session: Session, actor: Actor, member_id: int, *, now: datetime | None = None
) -> int:
    """End all of ``member_id``'s sessions (yours, or those of someone below you); audited."""
    member = get_member(session, member_id)
    require_may_act_on(actor, member, "sign out")
    ended = end_sessions_of(session, member.id, "signed out everywhere", now=now)
    audit.record(
        session,
        actor_member_id=actor_id(actor),
        action="sessions.end_all",
        target=f"member:{member.number}",
        after={"sessions_ended": ended},
    )
    return ended


def live_sessions(session: Session, member_id: int) -> list[SignInSession]:
    """Return ``member_id``'s sessions that have not ended, newest first."""
    query = select(SignInSession).where(
        SignInSession.member_id == member_id, col(SignInSession.ended_at).is_(None)
    )
    return list(session.exec(query.order_by(col(SignInSession.id).desc())))


def session_id_of(session: Session, key: str) -> int | None:
    """Return the id of the session ``key`` (to mark "this one" in a list), or None."""
    row = _row(session, key)
    return row.id if row else None


def _row(session: Session, key: str) -> SignInSession | None:
    query = select(SignInSession).where(SignInSession.key_hash == _key_hash(key))
    return session.exec(query).first()


def _key_hash(key: str) -> str:
    # Keys are 256 random bits: a fast hash is enough, and it allows an indexed lookup.
    return hashlib.sha256((key or "").encode()).hexdigest()
