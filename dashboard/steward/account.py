"""Your account: where you are signed in, signing out everywhere, and your API tokens.

Ending sessions and issuing or revoking tokens are the hub's acts (``hub.members.sessions``,
``hub.members.tokens``): rank-checked and audited there. An admin also sees, and may revoke,
everyone's tokens.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from dashboard.auth import acting_member, session_key, steward_required
from dashboard.database import reading, transaction
from dashboard.steward.common import NavLink, back, form_text
from hub.errors import InvalidInput
from hub.members import sessions, tokens
from hub.members.roster import Role
from hub.queries import members as member_rows

bp = Blueprint("steward_account", __name__, url_prefix="/steward")
NAV = (NavLink("steward_account.account", "Account"),)


@bp.get("/account")
@steward_required
def account(new_token: str | None = None) -> str:
    """Show your live sessions and tokens (everyone's tokens, for an admin)."""
    me = acting_member()
    with reading() as db:
        mine = sessions.live_sessions(db, me.id or 0)
        this_one = sessions.session_id_of(db, session_key() or "")
        rows = tokens.list_tokens(db, None if Role.ADMIN in me.role_set else me.id)
        holders = member_rows.member_numbers(db, {row.member_id for row in rows})
    return render_template(
        "steward/account.html",
        sessions=mine,
        this_session=this_one,
        tokens=rows,
        holders=holders,
        scopes=list(tokens.TokenScope),
        default_days=tokens.DEFAULT_DAYS,
        new_token=new_token,
    )


@bp.post("/account/tokens")
@steward_required
def issue_token() -> ResponseReturnValue:
    """Issue yourself a token and show it, this once (it is not kept anywhere readable)."""
    me = acting_member()
    with transaction() as db:
        token = tokens.issue_token(
            db, me, me.id or 0, form_text("name"), scope=form_text("scope"), days=_days()
        )
    return account(new_token=token)


@bp.post("/account/tokens/<int:token_id>/revoke")
@steward_required
def revoke_token(token_id: int) -> ResponseReturnValue:
    """Revoke a token (yours, or, for an admin, anyone's); its scripts get 401 from now on."""
    with transaction() as db:
        row = tokens.revoke_token(db, acting_member(), token_id)
    flash(f"Token {row.id} ({row.name}) revoked.")
    return back("steward_account.account")


@bp.post("/account/sign-out-everywhere")
@steward_required
def sign_out_everywhere() -> ResponseReturnValue:
    """End every session you have, this one included; copies of any cookie stop working."""
    me = acting_member()
    with transaction() as db:
        ended = sessions.sign_out_everywhere(db, me, me.id or 0)
    session.clear()
    flash(f"Signed out everywhere ({ended} session(s) ended).")
    return redirect(url_for("auth.signin"))


def _days() -> int:
    """Return the token's lifetime in days from the form (the default when left empty)."""
    text = request.form.get("days", "").strip() or str(tokens.DEFAULT_DAYS)
    if not text.isdigit():
        raise InvalidInput(f"Days must be a whole number, not {text!r}.", field="days")
    return int(text)
