"""API tokens: list them (your own; an admin sees everyone's) and revoke them.

Tokens are issued from the dashboard's account page or the CLI (a token cannot mint another).
"""

from __future__ import annotations

from dashboard.auth import acting_member
from dashboard.database import reading, transaction
from hub.infra.clock import utcnow
from hub.members import tokens
from hub.members.roster import Role
from hub.queries import members as member_rows

from .blueprint import api
from .schemas import Revocation, TokenList, TokenOut

ID = "<int(min=1, max=2147483647):token_id>"


@api.operation("GET", "/tokens", response=TokenList, tag="tokens")
def list_tokens() -> TokenList:
    """List API tokens, newest first, with scope, expiry and when each was last used.

    A steward sees their own tokens; an admin sees everyone's.
    """
    actor = acting_member()
    with reading() as db:
        rows = tokens.list_tokens(db, None if Role.ADMIN in actor.role_set else actor.id)
        holders = member_rows.member_numbers(db, {row.member_id for row in rows})
    return TokenList(tokens=[token_out(row, holders[row.member_id]) for row in rows])


@api.operation("POST", f"/tokens/{ID}/revoke", body=Revocation, response=TokenOut, tag="tokens")
def revoke_token(token_id: int, body: Revocation) -> TokenOut:
    """Revoke a token: scripts using it get 401 from now on. Revoking twice changes nothing.

    Your own tokens, or those of members ranked below you (403 otherwise; an admin may revoke
    any). Audited.
    """
    with transaction() as db:
        row = tokens.revoke_token(db, acting_member(), token_id, reason=body.reason)
        holder = member_rows.member_numbers(db, {row.member_id})[row.member_id]
    return token_out(row, holder)


def token_out(row: tokens.ApiToken, holder: str) -> TokenOut:
    """Return what a steward may see of a token (never the token itself)."""
    return TokenOut(
        id=row.id or 0,
        holder=holder,
        name=row.name,
        scope=tokens.TokenScope(row.scope),
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
        live=row.is_live(utcnow()),
    )
