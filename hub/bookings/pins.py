"""Tablet PINs: argon2-hashed, never stored plain, locked for a while after repeated wrong tries."""

from __future__ import annotations

import functools
import re
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from hub.bookings.models import MemberPin
from hub.bookings.refusals import PinLockedOut
from hub.errors import InvalidInput
from hub.infra import settings
from hub.infra.clock import as_utc, utcnow
from hub.infra.hashing import hasher
from hub.members.roster import Member, get_member

PIN_PATTERN = re.compile(r"^[0-9]{4,8}$")
WRONG_TRIES_ALLOWED = 5
LOCKOUT = timedelta(minutes=5)


@functools.cache
def _decoy_hash(pin_hasher: PasswordHasher) -> str:
    """Return a hash to verify against when the number is unknown, so a wrong number takes as
    long as a wrong PIN (made on first use, per hasher: hashing at import cost every process
    ~0.5 s)."""
    return pin_hasher.hash("00000000")


def set_pin(session: Session, member_id: int, pin: str, *, now: datetime | None = None) -> None:
    """Give a member a tablet PIN of 4 to 8 digits (replacing any old one and its lockout)."""
    member = get_member(session, member_id)
    if not PIN_PATTERN.fullmatch(pin or ""):
        raise InvalidInput("A PIN must be 4 to 8 digits.", field="pin")
    record = session.get(MemberPin, member.id) or MemberPin(member_id=member.id, pin_hash="")
    record.pin_hash, record.failed_tries, record.locked_until = hasher().hash(pin), 0, None
    record.set_at = as_utc(now or utcnow())
    session.add(record)
    session.flush()


def verify_pin(
    session: Session, number: str, pin: str, *, now: datetime | None = None
) -> Member | None:
    """Return the member whose number and PIN match, or None (the wrong try is counted: commit).

    Raises PinLockedOut while the PIN is locked after too many wrong tries. An unknown number,
    a member without a PIN and a wrong PIN all give None, so the tablet cannot tell them apart.
    """
    now = as_utc(now or utcnow())
    member = session.exec(select(Member).where(Member.number == str(number).strip())).first()
    record = session.get(MemberPin, member.id) if member else None
    if record is None:
        _matches(_decoy_hash(hasher()), pin)
        return None
    _require_not_locked(record, now)
    if _matches(record.pin_hash, pin):
        record.failed_tries, record.locked_until = 0, None
        if hasher().check_needs_rehash(record.pin_hash):  # the hashing parameters were raised
            record.pin_hash = hasher().hash(pin)
        session.add(record)
        return member
    _count_wrong_try(session, record, now)
    return None


def _matches(pin_hash: str, pin: str) -> bool:
    """Tell whether ``pin`` matches the argon2 hash."""
    try:
        return hasher().verify(pin_hash, pin or "")
    except (VerificationError, InvalidHashError):
        return False


def _require_not_locked(record: MemberPin, now: datetime) -> None:
    """Refuse while a lockout is running."""
    if record.locked_until is not None and record.locked_until > now:
        until = record.locked_until.astimezone(settings.site_timezone())
        raise PinLockedOut(
            f"Too many wrong PINs; try again after {until:%H:%M}, or tap your card.",
            until=record.locked_until,
        )


def _count_wrong_try(session: Session, record: MemberPin, now: datetime) -> None:
    """Count a wrong try; the fifth in a row locks the PIN for a while."""
    record.failed_tries += 1
    if record.failed_tries >= WRONG_TRIES_ALLOWED:
        record.failed_tries, record.locked_until = 0, now + LOCKOUT
    session.add(record)
    session.flush()


def change_pin(
    session: Session, member_id: int, old_pin: str, new_pin: str, *, now: datetime | None = None
) -> None:
    """Replace a member's PIN, proving the old one first (a wrong old PIN counts as a wrong
    try: commit even on refusal). A member without a PIN sets one after a card tap instead."""
    now = as_utc(now or utcnow())
    record = session.get(MemberPin, member_id)
    if record is None:
        raise InvalidInput("No PIN is set yet: tap your card to set one.", field="old_pin")
    _require_not_locked(record, now)
    if not _matches(record.pin_hash, old_pin):
        _count_wrong_try(session, record, now)
        raise WrongPin("The old PIN is not right.", field="old_pin")
    set_pin(session, member_id, new_pin, now=now)


class WrongPin(InvalidInput):
    """The old PIN given to change a PIN does not match."""


def has_pin(session: Session, member_id: int) -> bool:
    """Tell whether a member has set a tablet PIN."""
    return session.get(MemberPin, member_id) is not None
