"""Sign in to /me with member number and PIN, through the booking tablet's throttles.

The PIN is the one the member uses on the tablet; identifying goes through
``hub.bookings.tablets.identify_by_pin`` (its per-address throttle and the per-member lockout
of ``hub.bookings.pins``), so a wrong PIN here counts exactly as one at the tablet. A success
starts the same hub-kept session the steward sign-in does.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from dashboard.auth import current_member, session_key, start_signed_in_session
from dashboard.database import transaction
from dashboard.errors import status_of, with_retry_after
from dashboard.me.access import now
from hub.bookings import tablets
from hub.errors import DomainError, InvalidInput
from hub.members import sessions

bp = Blueprint("me_signin", __name__, url_prefix="/me")


@bp.route("/signin", methods=["GET", "POST"])
def signin() -> ResponseReturnValue:
    """Show the sign-in form; sign a member in with their number and PIN."""
    if request.method == "GET":
        if current_member() is not None:
            return redirect(url_for("me_loans.home"))
        return render_template("me/signin.html", next=request.args.get("next", ""))
    number = request.form.get("number", "").strip()
    refused = _missing(number, request.form.get("pin", ""))
    if refused is None:
        with transaction() as db:  # commits the count of a wrong PIN too
            outcome = tablets.identify_by_pin(
                db,
                number,
                request.form.get("pin", ""),
                tablet=None,
                address=request.remote_addr or "?",
                now=now(),
            )
        refused = outcome.refusal
        if refused is None and outcome.member is not None:
            start_signed_in_session(outcome.member)
            return redirect(_local_path(request.form.get("next")) or url_for("me_loans.home"))
    assert refused is not None
    page = render_template(
        "me/signin.html",
        error=refused.message,
        field=refused.field or "pin",
        number=number,
        next=request.form.get("next", ""),
    )
    return with_retry_after((page, status_of(type(refused))), refused)


@bp.post("/signout")
def signout() -> ResponseReturnValue:
    """Sign out: end the session on the hub and forget it here."""
    key = session_key()
    if key:
        with transaction() as db:
            sessions.end_session(db, key)
    session.clear()
    return redirect(url_for("me_signin.signin"))


def _missing(number: str, pin: str) -> DomainError | None:
    """Refuse an empty number or PIN before anything is counted."""
    if not number:
        return InvalidInput("Type your member number (it is on your card).", field="number")
    if not pin:
        return InvalidInput("Type your PIN (the one you use on the booking tablet).", field="pin")
    return None


def _local_path(target: str | None) -> str | None:
    """Accept only a path on this site as where to go after signing in."""
    return target if target and target.startswith("/me") and not target.startswith("//") else None
