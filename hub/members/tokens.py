"""API tokens for scripts: named, scoped, expiring, listed and revocable; issue and revoke audited.

A token is shown once, when issued; the hub keeps only its SHA-256. Scopes:

- ``steward``  what its holder could do signed in (a steward's or admin's scripts)
- ``read``     the same data, but no change at all (GET only): reports, dashboards
- ``member``   only what any member may see (a member's own scripts; no steward data)
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import Field, Session, SQLModel, col, select

from hub.errors import InvalidInput, NotFound
from hub.infra import audit
from hub.infra.clock import as_utc, utcnow
from hub.members.credentials import SignInRefused
from hub.members.ranks import Actor, actor_id, require_may_act_on
from hub.members.roster import NAME_MAX, Member, Role, clean_text, get_member

DEFAULT_DAYS = 90
MAX_DAYS = 366
# How stale a token's "last used" may get before a request writes it again (a write per
# API call would queue every call behind any writer on SQLite).
USE_NOTED_EVERY = timedelta(minutes=5)


class TokenScope(StrEnum):
    STEWARD = "steward"
    READ = "read"
    MEMBER = "member"


class ApiToken(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    name: str = Field(max_length=NAME_MAX)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    scope: str = Field(default=TokenScope.STEWARD, max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    def is_live(self, now: datetime) -> bool:
        """Tell whether the token still opens the API at ``now``."""
        return self.revoked_at is None and as_utc(self.expires_at) > now


@dataclass(frozen=True)
class TokenUse:
    """Who a presented token speaks for, and how far."""

    member: Member
    scope: TokenScope
    token_id: int
    # Whether the token's last use is older than USE_NOTED_EVERY: only then is it written.
    use_stale: bool = False


def parse_scope(value: str | None) -> TokenScope:
    """Return the token scope named ``value`` (steward when empty) or refuse it."""
    try:
        return TokenScope((value or TokenScope.STEWARD).strip().lower())
    except ValueError:
        known = ", ".join(s.value for s in TokenScope)
        raise InvalidInput(f"Unknown scope {value!r}; scopes are {known}.", field="scope") from None


def issue_token(
    session: Session,
    actor: Actor,
    member_id: int,
    name: str,
    *,
    scope: str | None = None,
    days: int = DEFAULT_DAYS,
    now: datetime | None = None,
) -> str:
    """Create a token for ``member_id``; return it (shown only this once). Audited."""
    member, now = get_member(session, member_id), now or utcnow()
    require_may_act_on(actor, member, "issue a token for")
    token_scope = parse_scope(scope)
    _require_scope_fits(member, token_scope)
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"A token lives 1 to {MAX_DAYS} days, not {days}.", field="days")
    token = "cs_" + secrets.token_urlsafe(32)
    row = ApiToken(
        member_id=member.id,
        name=clean_text(name, "name", limit=NAME_MAX),
        token_hash=_token_hash(token),
        scope=token_scope,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(row)
    session.flush()
    _audit(session, actor, "token.issue", member, None, row)
    return token


def member_for_token(session: Session, token: str, *, now: datetime | None = None) -> TokenUse:
    """Return who the live ``token`` speaks for, and its scope, or refuse; write nothing.

    ``use_stale`` says the use is worth noting (``note_use``): a read must not take SQLite's
    write lock on every API call, so the last use is kept to within USE_NOTED_EVERY.
    """
    now = now or utcnow()
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == _token_hash(token))).first()
    if row is None or row.revoked_at is not None:
        raise SignInRefused("The API token is unknown or revoked.", field="Authorization")
    if not row.is_live(now):
        raise SignInRefused(
            f"The API token expired on {as_utc(row.expires_at):%Y-%m-%d}.", field="Authorization"
        )
    member, scope = get_member(session, row.member_id), TokenScope(row.scope)
    if not member.is_active or (scope != TokenScope.MEMBER and not member.has_role(Role.STEWARD)):
        raise SignInRefused(f"Member {member.number} may no longer use the API.")
    last = as_utc(row.last_used_at) if row.last_used_at else None
    stale = last is None or now - last >= USE_NOTED_EVERY
    return TokenUse(member=member, scope=scope, token_id=row.id or 0, use_stale=stale)


def note_use(session: Session, token_id: int, *, now: datetime | None = None) -> None:
    """Record that token ``token_id`` was used now (shown to stewards as its last use)."""
    row = session.get(ApiToken, token_id)
    if row is not None:
        row.last_used_at = now or utcnow()
        session.add(row)


def list_tokens(session: Session, member_id: int | None = None) -> list[ApiToken]:
    """Return tokens, newest first: one member's, or everyone's when ``member_id`` is None."""
    query = select(ApiToken).order_by(col(ApiToken.id).desc())
    if member_id is not None:
        query = query.where(ApiToken.member_id == member_id)
    return list(session.exec(query))


def get_token(session: Session, token_id: int) -> ApiToken:
    """Return token ``token_id`` or refuse."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"API token {token_id} does not exist.", field="token_id")
    return row


def revoke_token(
    session: Session,
    actor: Actor,
    token_id: int,
    *,
    reason: str | None = None,
    now: datetime | None = None,
) -> ApiToken:
    """Revoke a token (yours, or one of a member ranked below you); audited, with ``reason``."""
    row = get_token(session, token_id)
    holder = get_member(session, row.member_id)
    require_may_act_on(actor, holder, "revoke the tokens of")
    before = audit.snapshot(row, "revoked_at")
    row.revoked_at = row.revoked_at or now or utcnow()
    session.add(row)
    _audit(session, actor, "token.revoke", holder, before, row, reason)
    return row


def _require_scope_fits(member: Member, scope: TokenScope) -> None:
    if scope != TokenScope.MEMBER and not member.has_role(Role.STEWARD):
        raise InvalidInput(
            f"Member {member.number} is not a steward: only a member-scoped token fits.",
            field="scope",
        )


def _audit(
    session: Session,
    actor: Actor,
    action: str,
    holder: Member,
    before: dict[str, object] | None,
    row: ApiToken,
    reason: str | None = None,
) -> None:
    after = audit.snapshot(row, "id", "name", "scope", "expires_at", "revoked_at")
    audit.record(
        session,
        actor_member_id=actor_id(actor),
        action=action,
        target=f"member:{holder.number}",
        before=before,
        after=after | ({"reason": reason} if reason else {}),
    )


def _token_hash(token: str) -> str:
    # Tokens are 256 random bits: a fast hash is enough, and it allows an indexed lookup.
    return hashlib.sha256((token or "").encode()).hexdigest()
