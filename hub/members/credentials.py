"""Sign-in for stewards and admins (argon2 password hashes), and credential resets.

Members borrow with their cards and book with a PIN; only those who act for the commons (stewards
and admins) have a password. Sign-in failures are throttled by ``hub.members.throttling``
(growing delays by address and account, never a lock of the account itself). Setting a
password and resetting a PIN are acts on a member: rank-checked and audited here.
"""

from __future__ import annotations

from datetime import datetime

from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Field, Session, SQLModel

from hub.bookings import pins
from hub.bookings.models import MemberPin
from hub.errors import DomainError, InvalidInput, NotFound
from hub.infra import audit
from hub.infra.clock import utcnow
from hub.infra.hashing import hasher
from hub.members.ranks import Actor, actor_id, require_may_act_on, require_role
from hub.members.roster import (
    NOTE_MAX,
    Member,
    Role,
    clean_text,
    get_member,
    member_by_number,
)
from hub.members.sessions import end_sessions_of

PASSWORD_MIN = 10
PASSWORD_MAX = 200


class SignInRefused(DomainError, PermissionError):
    """Wrong credentials, a locked account, or a member without steward rights."""


class StewardLogin(SQLModel, table=True):
    member_id: int = Field(primary_key=True, foreign_key="member.id")
    password_hash: str = Field(max_length=200)
    failed_count: int = 0
    locked_until: datetime | None = None
    last_sign_in_at: datetime | None = None
    changed_at: datetime = Field(default_factory=utcnow)


def set_password(session: Session, actor: Actor, member_id: int, password: str) -> StewardLogin:
    """Give a steward or admin a password (stored only as an argon2 hash); audited.

    A new password ends every session signed in with the old one.
    """
    member = get_member(session, member_id)
    require_may_act_on(actor, member, "set the password of")
    if not member.has_role(Role.STEWARD):
        raise InvalidInput(
            f"Member {member.number} is not a steward; only stewards sign in.", field="member"
        )
    if not PASSWORD_MIN <= len(password or "") <= PASSWORD_MAX:
        raise InvalidInput(
            f"A password needs {PASSWORD_MIN} to {PASSWORD_MAX} characters.", field="password"
        )
    login = session.get(StewardLogin, member.id) or StewardLogin(
        member_id=member.id, password_hash=""
    )
    login.password_hash, login.changed_at = hasher().hash(password), utcnow()
    login.failed_count, login.locked_until = 0, None
    session.add(login)
    session.flush()
    ended = end_sessions_of(session, member.id, "password changed")
    audit.record(
        session,
        actor_member_id=actor_id(actor),
        action="password.set",
        target=f"member:{member.number}",
        after={"sessions_ended": ended},
    )
    return login


def authenticate(
    session: Session, number: str, password: str, *, now: datetime | None = None
) -> Member:
    """Return the steward whose member number and password match, or refuse.

    The message never says which half was wrong; ``hub.members.throttling`` counts failures.
    """
    now = now or utcnow()
    try:
        member = member_by_number(session, number)
    except (NotFound, InvalidInput):
        raise SignInRefused("Wrong member number or password.", field="password") from None
    login = session.get(StewardLogin, member.id)
    if login is None:
        raise SignInRefused("Wrong member number or password.", field="password")
    if not _verify(login, password):
        raise SignInRefused("Wrong member number or password.", field="password")
    if not member.is_active or not member.has_role(Role.STEWARD):
        raise SignInRefused(f"Member {member.number} may not sign in to the steward dashboard.")
    login.failed_count, login.locked_until, login.last_sign_in_at = 0, None, now
    session.add(login)
    return member


def _verify(login: StewardLogin, password: str) -> bool:
    try:
        return hasher().verify(login.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return False


# --- PIN resets ---------------------------------------------------------------------------


def reset_pin(
    session: Session,
    actor: Actor,
    member_id: int,
    *,
    new_pin: str | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> Member:
    """Reset a member's tablet PIN: to ``new_pin``, or cleared so they set one after a card tap.

    Resetting is an act on the member (rank-checked) and is audited (with ``reason`` if given),
    never with the PIN.
    """
    require_role(actor, Role.STEWARD, "reset a PIN")
    member = get_member(session, member_id)
    require_may_act_on(actor, member, "reset the PIN of")
    why = clean_text(reason, "reason", limit=NOTE_MAX, required=False)
    if new_pin is None:
        held = session.get(MemberPin, member.id)
        if held is not None:
            session.delete(held)
            session.flush()
    else:
        pins.set_pin(session, member.id, new_pin, now=now)
    audit.record(
        session,
        actor_member_id=actor_id(actor),
        action="pin.reset",
        target=f"member:{member.number}",
        after={"pin": "cleared" if new_pin is None else "set"} | ({"reason": why} if why else {}),
    )
    return member
