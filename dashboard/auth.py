"""Sign-in for stewards and admins; the role check every steward page and API call passes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
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

from dashboard.database import reading, transaction
from dashboard.errors import status_of, with_retry_after
from hub.members import credentials, sessions, throttling, tokens
from hub.members.roster import Member, Role

bp = Blueprint("auth", __name__)
IDLE_SECONDS = 30 * 60
# Requests a page makes by itself; they must not keep an unattended session alive.
PASSIVE_ENDPOINTS = frozenset({"steward_front.live"})
P = ParamSpec("P")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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
    start_signed_in_session(attempt.member)
    return redirect(_safe_next(request.form.get("next")) or url_for("steward_front.front"))


@bp.post("/signout")
def signout() -> ResponseReturnValue:
    """Sign out: end the session on the hub (a copy of the cookie stops working) and forget it."""
    if session.get("key"):
        with transaction() as db:
            sessions.end_session(db, session["key"])
    session.clear()
    flash("Signed out.")
    return redirect(url_for("auth.signin"))


def _refuse_signin(message: str, number: str, status: int) -> tuple[str, int]:
    page = render_template(
        "auth/signin.html", error=message, number=number, next=request.form.get("next", "")
    )
    return page, status


def start_signed_in_session(member: Member) -> None:
    """Start a session on the hub; the cookie carries only its key and the idle clock (the
    steward sign-in and the member's /me sign-in alike)."""
    agent = request.headers.get("User-Agent")
    with transaction() as db:
        key = sessions.start_session(db, member.id or 0, address=request.remote_addr, agent=agent)
    session.clear()
    session.permanent = True
    session.update(key=key, seen_at=_now())


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


def acting_member() -> Member:
    """Return the signed-in member inside a view a guard has let through (never None there)."""
    member = current_member()
    if member is None:  # a view without a guard: a programming error, not a refusal
        raise RuntimeError("acting_member() needs a view behind steward_required.")
    return member


def token_scope() -> tokens.TokenScope | None:
    """Return the scope of the API token this request came with (None for a browser session)."""
    current_member()
    scope: tokens.TokenScope | None = g.get("token_scope")
    return scope


def session_key() -> str | None:
    """Return the key of this browser's session on the hub, or None."""
    key: str | None = session.get("key")
    return key


def _member_from_session() -> Member | None:
    key, seen_at = session.get("key"), session.get("seen_at", 0)
    if key is None:
        session.pop("member_id", None)  # a cookie from before sessions lived on the hub
        return None
    if _now() - seen_at > _idle().total_seconds():
        session.clear()
        return None
    # NOTE: read first; write only every few minutes (seen) or when the session runs out, so a
    # page view does not take SQLite's write lock.
    with reading() as db:
        found = sessions.look_up(db, key, idle=_idle(), lifetime=_lifetime())
    if found.write:
        with transaction() as db:
            sessions.record(db, key, found)
    member = found.member
    if member is None:  # ended: signed out, password changed, suspended, signed out everywhere
        session.clear()
        return None
    if request.endpoint not in PASSIVE_ENDPOINTS:  # a page polling by itself is not a person
        session["seen_at"] = _now()
    return member


def _idle() -> timedelta:
    return timedelta(seconds=current_app.config.get("IDLE_SECONDS", IDLE_SECONDS))


def _lifetime() -> timedelta:
    lifetime = current_app.permanent_session_lifetime  # the cookie's own lifetime
    return lifetime


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def _member_from_token() -> Member | None:
    with reading() as db:  # NOTE: a read; the last use is written only every few minutes
        use = tokens.member_for_token(db, _bearer_token() or "")
    if use.use_stale:
        with transaction() as db:
            tokens.note_use(db, use.token_id)
    g.token_scope = use.scope
    return use.member


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
        _require_token_scope()
        return view(*args, **kwargs)

    return guarded


def _require_token_scope() -> None:
    """Refuse what the request's API token is not scoped for (a browser session has no scope)."""
    scope = token_scope()
    if scope == tokens.TokenScope.MEMBER:
        abort(403, "This API token is member-scoped: it reaches no steward data.")
    if scope == tokens.TokenScope.READ and request.method not in SAFE_METHODS:
        abort(403, "This API token is read-only: it may not change anything.")


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
