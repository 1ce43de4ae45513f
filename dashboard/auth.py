"""Sign-in for stewards and admins; the role check every steward page and API call passes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import ParamSpec

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue

from dashboard.database import transaction
from dashboard.errors import status_of, with_retry_after
from hub.members import credentials, throttling
from hub.members.roster import Member, Role, get_member

bp = Blueprint("auth", __name__)
IDLE_SECONDS = 30 * 60
# Requests a page makes by itself; they must not keep an unattended session alive.
PASSIVE_ENDPOINTS = frozenset({"steward_front.live"})
P = ParamSpec("P")


def init_app(app: Flask) -> None:
    """Nothing to attach: sign-in throttles live in the database (hub.members.throttling)."""


@bp.route("/signin", methods=["GET", "POST"])
def signin() -> ResponseReturnValue:
    """Show the sign-in form; sign a steward in with member number and password."""
    if request.method == "GET":
        return render_template("auth/signin.html", next=request.args.get("next", ""))
    number = request.form.get("number", "").strip()
    with transaction() as db:  # commits the count of a failure too
        attempt = throttling.sign_in(
            db, number, request.form.get("password", ""), address=request.remote_addr or "?"
        )
    if attempt.refusal is not None or attempt.member is None:
        refused = attempt.refusal or credentials.SignInRefused("Sign-in refused.")
        page = _refuse_signin(refused.message, number, status_of(type(refused)))
        return with_retry_after(page, refused)
    _start_session(attempt.member)
    return redirect(_safe_next(request.form.get("next")) or url_for("steward_front.front"))


@bp.post("/signout")
def signout() -> ResponseReturnValue:
    """Sign out and forget the session."""
    session.clear()
    flash("Signed out.")
    return redirect(url_for("auth.signin"))


def _refuse_signin(message: str, number: str, status: int) -> tuple[str, int]:
    page = render_template(
        "auth/signin.html", error=message, number=number, next=request.form.get("next", "")
    )
    return page, status


def _start_session(member: Member) -> None:
    session.clear()
    session.permanent = True
    session.update(member_id=member.id, seen_at=_now())


def _safe_next(target: str | None) -> str | None:
    """Accept only a local path as the place to go after sign-in."""
    return target if target and target.startswith("/") and not target.startswith("//") else None


def _now() -> float:
    return datetime.now(UTC).timestamp()


# --- who is asking ------------------------------------------------------------------------


def current_member() -> Member | None:
    """Return the signed-in member (session or API token), or None; cached per request."""
    if "member" not in g:
        g.member = _member_from_token() if _bearer_token() else _member_from_session()
    member: Member | None = g.member  # flask.g is untyped; only this function sets it
    return member


def _member_from_session() -> Member | None:
    member_id, seen_at = session.get("member_id"), session.get("seen_at", 0)
    if member_id is None:
        return None
    if _now() - seen_at > current_app.config.get("IDLE_SECONDS", IDLE_SECONDS):
        session.clear()
        return None
    if request.endpoint not in PASSIVE_ENDPOINTS:  # a page polling by itself is not a person
        session["seen_at"] = _now()
    with transaction() as db:
        return get_member(db, member_id)


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def _member_from_token() -> Member | None:
    with transaction() as db:
        return credentials.member_for_token(db, _bearer_token() or "")


def steward_required(
    view: Callable[P, ResponseReturnValue],
) -> Callable[P, ResponseReturnValue]:
    """Let only signed-in, active stewards and admins through; everyone else is refused."""

    @functools.wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        member = current_member()
        if member is None:
            if request.path.startswith("/api/"):
                abort(401, "Sign in or send 'Authorization: Bearer <token>'.")
            return redirect(url_for("auth.signin", next=request.full_path.rstrip("?")))
        if not member.is_active or not member.has_role(Role.STEWARD):
            abort(403, f"Member {member.number} is not a steward; this page is for stewards.")
        return view(*args, **kwargs)

    return guarded


def admin_required(
    view: Callable[P, ResponseReturnValue],
) -> Callable[P, ResponseReturnValue]:
    """Let only admins through (on top of the steward check)."""

    @functools.wraps(view)
    @steward_required
    def guarded(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        if Role.ADMIN not in current_member().role_set:
            abort(403, "Only an admin may do this.")
        return view(*args, **kwargs)

    return guarded
