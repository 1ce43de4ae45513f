"""My repair claims, my bookings and calendar link, and which reminders I get."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from dashboard.database import reading, transaction
from dashboard.errors import status_of
from dashboard.me.access import me, me_required, now
from hub import bookings
from hub.errors import DomainError
from hub.mail import choices
from hub.queries import claims as claim_rows

bp = Blueprint("me_records", __name__, url_prefix="/me")


@bp.get("/claims")
@me_required
def claims() -> ResponseReturnValue:
    """Show my repair claims and where each stands, newest first."""
    with reading() as db:
        rows = claim_rows.claims_of_member(db, me().id or 0, limit=100)
    return render_template("me/claims.html", rows=rows)


@bp.get("/bookings")
@me_required
def my_bookings() -> ResponseReturnValue:
    """Show my machine bookings from the last week on, soonest first."""
    with reading() as db:
        rows = bookings.bookings_of_member(db, me().id or 0, now=now())
        pause = bookings.booking_pause_of(db, me().id or 0, now=now())
    return render_template("me/bookings.html", rows=rows, pause=pause, link=None)


@bp.post("/bookings/calendar-link")
@me_required
def calendar_link() -> ResponseReturnValue:
    """Make a new private calendar link (the old one stops working) and show it once."""
    with transaction() as db:
        token = bookings.issue_member_feed(db, me().id or 0, now=now())
    with reading() as db:
        rows = bookings.bookings_of_member(db, me().id or 0, now=now())
        pause = bookings.booking_pause_of(db, me().id or 0, now=now())
    link = url_for("tablet.calendar_feed", token=token, _external=True)
    return render_template("me/bookings.html", rows=rows, pause=pause, link=link)


@bp.route("/reminders", methods=["GET", "POST"])
@me_required
def reminders() -> ResponseReturnValue:
    """Show and keep which reminder emails I get (none ticked: no email at all)."""
    if request.method == "GET":
        with reading() as db:
            wanted = choices.kinds_wanted(db, me().id or 0)
        return _reminders_page(wanted)
    ticked = [] if request.form.get("all_off") else request.form.getlist("kinds")
    try:
        with transaction() as db:
            wanted = choices.choose_kinds(db, me(), ticked, now=now())
    except DomainError as refused:
        return _reminders_page(frozenset(), refused.message, status_of(type(refused)))
    flash("Saved: no reminder emails." if not wanted else "Saved your reminder choices.", "ok")
    return redirect(url_for("me_records.reminders"))


def _reminders_page(
    wanted: frozenset[choices.MailKind], error: str | None = None, status: int = 200
) -> ResponseReturnValue:
    page = render_template(
        "me/reminders.html",
        kinds=choices.KIND_LABELS,
        wanted=wanted,
        email=me().email,
        error=error,
    )
    return page, status
