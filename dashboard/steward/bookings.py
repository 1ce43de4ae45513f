"""Bookings of the makerspace machines, per machine; a steward may cancel one with a reason."""

from __future__ import annotations

from flask import Blueprint, flash, render_template
from flask.typing import ResponseReturnValue

from dashboard.auditing import record_change
from dashboard.auth import current_member, steward_required
from dashboard.database import reading, transaction
from dashboard.steward.common import NavLink, back, form_text, snapshot
from hub import bookings
from hub.infra.clock import utcnow
from hub.queries import bookings as booking_rows

bp = Blueprint("steward_bookings", __name__, url_prefix="/steward")
NAV = (NavLink("steward_bookings.schedule", "Bookings"),)

BOOKING_FIELDS = ("status", "cancelled_by", "cancel_reason")


@bp.get("/bookings")
@steward_required
def schedule() -> str:
    """Show each machine's bookings from yesterday on, with today's no-shows."""
    now = utcnow()
    with reading() as db:
        machines = [
            (resource, booking_rows.upcoming_bookings(db, resource.id, now=now))
            for resource in bookings.list_resources(db)
        ]
    return render_template("steward/bookings.html", machines=machines, now=now)


@bp.post("/bookings/<int:booking_id>/cancel")
@steward_required
def cancel(booking_id: int) -> ResponseReturnValue:
    """Cancel a member's booking, giving the reason they will be told."""
    with transaction() as db:
        booking = bookings.get_booking(db, booking_id)
        before = snapshot(booking, *BOOKING_FIELDS)
        bookings.cancel_booking(
            db, booking_id, by_member_id=current_member().id, reason=form_text("reason")
        )
        record_change(
            db,
            "booking.cancel",
            f"booking:{booking_id}",
            before,
            snapshot(booking, *BOOKING_FIELDS),
        )
    flash(f"Booking {booking_id} cancelled.")
    return back("steward_bookings.schedule")
