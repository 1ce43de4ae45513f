"""Sign-in for stewards and admins (argon2 password hashes) and API tokens for scripts.

Members borrow with their cards and book with a PIN; only those who act for the commons (stewards
and admins) have a password. Sign-in failures are throttled by ``hub.members.throttling`` (growing
delays by address and account, never a lock of the account itself). A steward can reset a
member's tablet PIN here (audited).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Field, Session, SQLModel, select

from hub.errors import DomainError, InvalidInput, NotFound
from hub.infra import audit
from hub.infra.clock import utcnow
from hub.infra.hashing import hasher
from hub.members.roster import NAME_MAX, Member, Role, clean_text, get_member, member_by_number

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


class ApiToken(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    name: str = Field(max_length=NAME_MAX)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


def set_password(session: Session, member_id: int, password: str) -> StewardLogin:
    """Give a steward or admin a password (stored only as an argon2 hash)."""
    member = get_member(session, member_id)
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


# --- tablet PINs --------------------------------------------------------------------------


def reset_pin(session: Session, member_id: int, *, by_member_id: int | None) -> Member:
    """Forget a member's tablet PIN (audited; ``by_member_id`` None: the hub's operator at the
    command line); the member sets a new one after a card tap."""
    from hub.bookings.models import MemberPin  # NOTE: bookings builds on members, not back

    member = get_member(session, member_id)
    record = session.get(MemberPin, member.id)
    if record is None:
        raise InvalidInput(f"Member {member.number} has no PIN to reset.", field="member")
    session.delete(record)
    audit.record(
        session,
        actor_member_id=by_member_id,
        action="member.pin_reset",
        target=f"member:{member.number}",
        before={"pin_set_at": record.set_at},
        after={"pin_set_at": None},
    )
    session.flush()
    return member


# --- API tokens ---------------------------------------------------------------------------


def issue_token(session: Session, member_id: int, name: str) -> str:
    """Create an API token for a steward's scripts; return it (it is shown only this once)."""
    member = get_member(session, member_id)
    if not member.has_role(Role.STEWARD):
        raise InvalidInput(f"Member {member.number} is not a steward.", field="member")
    token = "cs_" + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            member_id=member.id,
            name=clean_text(name, "name", limit=NAME_MAX),
            token_hash=_token_hash(token),
        )
    )
    session.flush()
    return token


def member_for_token(session: Session, token: str, *, now: datetime | None = None) -> Member:
    """Return the active steward holding a live ``token``, or refuse."""
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == _token_hash(token))).first()
    if row is None or row.revoked_at is not None:
        raise SignInRefused("The API token is unknown or revoked.", field="Authorization")
    member = get_member(session, row.member_id)
    if not member.is_active or not member.has_role(Role.STEWARD):
        raise SignInRefused(f"Member {member.number} may no longer use the API.")
    row.last_used_at = now or utcnow()
    session.add(row)
    return member


def revoke_token(session: Session, token_id: int) -> ApiToken:
    """Revoke an API token."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"API token {token_id} does not exist.", field="token_id")
    row.revoked_at = row.revoked_at or utcnow()
    session.add(row)
    return row


def _token_hash(token: str) -> str:
    # Tokens are 256 random bits: a fast hash is enough, and it allows an indexed lookup.
    return hashlib.sha256((token or "").encode()).hexdigest()
