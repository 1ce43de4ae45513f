"""Booking tablets: enrolled by a steward, known by a device token, throttled per tablet.

A card UID is a number printed inside a card, not a secret: the tablet by the door may name a
member by card only because a steward enrolled that tablet. Enrolment makes a 256-bit device
token that the tablet's browser keeps (a long-lived cookie); the hub keeps only its SHA-256 and
can revoke it. Every door that identifies a member on a tablet is throttled:

- a card tap, per tablet (``tablet.card``): unknown cards slow that tablet down;
- a member number and PIN, per address (``pin.address``) and per tablet (``pin.tablet``) on
  top of the per-member lock-out in ``pins``: one wrong PIN against many members (a spray)
  is stopped as surely as many wrong PINs against one.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Field, Session, SQLModel, col, select

from hub.bookings.attendance import check_in_all_by_card
from hub.bookings.models import Booking
from hub.bookings.pins import verify_pin
from hub.errors import DomainError, InvalidInput, NotFound, Throttled
from hub.infra import audit, security_log, throttles
from hub.infra.clock import as_utc, utcnow
from hub.infra.throttles import Policy
from hub.members.roster import NAME_MAX, Member, clean_text, member_for_card

CARD_FAILURES = Policy(10, timedelta(seconds=2), timedelta(minutes=15), timedelta(hours=1))
PIN_FAILURES = Policy(10, timedelta(seconds=2), timedelta(minutes=15), timedelta(hours=1))
TOKEN_PREFIX = "tab_"


class Tablet(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=NAME_MAX)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    enrolled_by: int = Field(foreign_key="member.id")
    enrolled_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None
    last_seen_at: datetime | None = None


@dataclass(frozen=True)
class Identified:
    """Who a tablet identified (and the bookings a card tap checked in), or the refusal."""

    member: Member | None = None
    checked_in: tuple[Booking, ...] = ()
    refusal: DomainError | None = None


def enrol_tablet(
    session: Session, name: str, *, by_member_id: int, now: datetime | None = None
) -> tuple[Tablet, str]:
    """Enrol a tablet; return it and its device token (shown to the browser only this once)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    tablet = Tablet(
        name=clean_text(name, "name", limit=NAME_MAX),
        token_hash=_hash(token),
        enrolled_by=by_member_id,
        enrolled_at=as_utc(now or utcnow()),
    )
    session.add(tablet)
    session.flush()
    audit.record(
        session,
        actor_member_id=by_member_id,
        action="tablet.enrol",
        target=f"tablet:{tablet.id}",
        after=audit.snapshot(tablet, "name", "enrolled_at"),
    )
    return tablet, token


def revoke_tablet(
    session: Session, tablet_id: int, *, by_member_id: int | None, now: datetime | None = None
) -> Tablet:
    """Revoke a tablet's device token: its card reader no longer identifies anyone."""
    tablet = session.get(Tablet, tablet_id)
    if tablet is None:
        raise NotFound(f"Tablet {tablet_id} does not exist.", field="tablet_id")
    before = audit.snapshot(tablet, "revoked_at")
    tablet.revoked_at = tablet.revoked_at or as_utc(now or utcnow())
    session.add(tablet)
    audit.record(
        session,
        actor_member_id=by_member_id,
        action="tablet.revoke",
        target=f"tablet:{tablet.id}",
        before=before,
        after=audit.snapshot(tablet, "revoked_at"),
    )
    return tablet


def list_tablets(session: Session) -> list[Tablet]:
    """Return every enrolled tablet, revoked ones included, oldest first."""
    return list(session.exec(select(Tablet).order_by(col(Tablet.id))))


def tablet_for_token(session: Session, token: str | None) -> Tablet | None:
    """Return the live tablet holding ``token``, or None for no, an unknown or a revoked token."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    tablet = session.exec(select(Tablet).where(Tablet.token_hash == _hash(token))).first()
    return tablet if tablet is not None and tablet.revoked_at is None else None


def identify_by_card(
    session: Session, tablet: Tablet | None, uid: str, *, address: str, now: datetime
) -> Identified:
    """Identify a card's holder on an enrolled tablet, checking in their open bookings.

    Refused from a browser that is not an enrolled tablet, and while the tablet waits after
    too many unknown cards. Commit whatever the outcome: failures are counted.
    """
    if tablet is None:
        _log(session, "tablet.card.refused", address, uid, now, "not an enrolled tablet")
        refusal = NotEnrolled(
            "Cards are read only on a tablet a steward has enrolled; type your number and PIN.",
            field="uid",
        )
        return Identified(refusal=refusal)
    key = str(tablet.id)
    wait = throttles.wait_seconds(session, "tablet.card", key, now=now)
    if wait:
        _log(session, "tablet.card.throttled", address, f"tablet:{tablet.id}", now, f"{wait}s")
        return Identified(refusal=_throttled("unknown cards on this tablet", wait, "uid"))
    tablet.last_seen_at = now
    session.add(tablet)
    try:
        member = member_for_card(session, uid)
    except (NotFound, InvalidInput) as refused:
        throttles.fail(session, "tablet.card", key, CARD_FAILURES, now=now)
        _log(session, "tablet.card.failed", address, f"tablet:{tablet.id}", now, refused.message)
        return Identified(refusal=refused)
    checked_in = tuple(check_in_all_by_card(session, uid, now=now))
    _log(session, "tablet.card.ok", address, f"member:{member.number}", now)
    return Identified(member=member, checked_in=checked_in)


def identify_by_pin(
    session: Session,
    number: str,
    pin: str,
    *,
    tablet: Tablet | None,
    address: str,
    now: datetime,
) -> Identified:
    """Identify a member by number and PIN, throttled per address and per tablet as well as
    per member (``pins``). Commit whatever the outcome: failures are counted."""
    subject = f"number:{str(number).strip()[:20]}"
    wait = max(
        throttles.wait_seconds(session, "pin.address", address, now=now),
        throttles.wait_seconds(session, "pin.tablet", _tablet_key(tablet), now=now)
        if tablet is not None
        else 0,
    )
    if wait:
        _log(session, "tablet.pin.throttled", address, subject, now, f"wait {wait}s")
        return Identified(refusal=_throttled("wrong PINs from here", wait, "pin"))
    try:
        member = verify_pin(session, number, pin, now=now)
    except DomainError as refused:  # the member's own PIN is locked after wrong tries
        _count_pin_failure(session, tablet, address, now)
        _log(session, "tablet.pin.locked", address, subject, now, refused.message)
        return Identified(refusal=refused)
    if member is None:
        _count_pin_failure(session, tablet, address, now)
        _log(session, "tablet.pin.failed", address, subject, now, _tablet_key(tablet))
        refusal = PinNotRecognised("Member number or PIN not recognised.", field="pin")
        return Identified(refusal=refusal)
    _log(session, "tablet.pin.ok", address, f"member:{member.number}", now)
    return Identified(member=member)


def _count_pin_failure(
    session: Session, tablet: Tablet | None, address: str, now: datetime
) -> None:
    """Count a refused PIN against the address and the tablet (a spray moves across members)."""
    throttles.fail(session, "pin.address", address, PIN_FAILURES, now=now)
    if tablet is not None:
        throttles.fail(session, "pin.tablet", _tablet_key(tablet), PIN_FAILURES, now=now)


class NotEnrolled(DomainError, PermissionError):
    """A card was posted from a browser that is not an enrolled tablet."""


class PinNotRecognised(DomainError, PermissionError):
    """The member number and PIN do not match (which of the two is never said): 401, like a
    wrong password (dashboard.errors pins it; this module imports nothing of credentials, which
    builds on bookings)."""


def _throttled(what: str, wait: int, field: str) -> Throttled:
    return Throttled(
        f"Too many {what}: try again in {wait} second(s), or ask a steward.",
        retry_after=wait,
        field=field,
    )


def _tablet_key(tablet: Tablet | None) -> str:
    return f"tablet:{tablet.id}" if tablet is not None else "no enrolled tablet"


def _log(
    session: Session, event: str, address: str, subject: str, now: datetime, detail: str = ""
) -> None:
    security_log.record(session, event, address=address, subject=subject, detail=detail, now=now)


def _hash(token: str) -> str:
    # A device token is 256 random bits: a fast hash is enough and allows an indexed lookup.
    return hashlib.sha256(token.encode()).hexdigest()
