"""Bookable machines and their bookings; a steward may cancel a booking with a reason."""

from __future__ import annotations

from datetime import timedelta

from dashboard.auditing import audited
from dashboard.auth import current_member
from dashboard.database import reading, transaction
from hub import bookings
from hub.bookings.hours import at_local
from hub.queries import bookings as booking_rows

from .blueprint import api
from .schemas import BookingList, BookingOut, BookingRange, Cancellation, ResourceList, ResourceOut

RESOURCE = "<int(min=1, max=2147483647):resource_id>"
BOOKING = "<int(min=1, max=2147483647):booking_id>"
STATE_FIELDS = ("status", "cancelled_at", "cancelled_by", "cancel_reason")


@api.operation("GET", "/resources", response=ResourceList, tag="bookings")
def list_resources() -> ResourceList:
    """List the bookable machines and benches, by name.

    Stewards only, like the bookings they lead to.
    """
    with reading() as db:
        found = bookings.list_resources(db)
    return ResourceList(
        resources=[
            ResourceOut(id=r.id, code=r.code, name=r.name, timezone=r.timezone, paused=r.paused)
            for r in found
        ]
    )


@api.operation(
    "GET",
    f"/resources/{RESOURCE}/bookings",
    query=BookingRange,
    response=BookingList,
    tag="bookings",
)
def list_bookings(resource_id: int, query: BookingRange) -> BookingList:
    """List a resource's bookings of every status that start on local days ``from`` to ``to``.

    Days are the resource's own (its site's time zone). Stewards only: bookings name members.
    """
    with reading() as db:
        resource = bookings.get_resource(db, resource_id)
        starts = at_local(resource, query.first, 0)
        ends = at_local(resource, query.last + timedelta(days=1), 0)
        rows = booking_rows.bookings_between(db, resource.id, starts, ends)
    return BookingList(bookings=[booking_out(row) for row in rows])


@api.operation(
    "POST",
    f"/bookings/{BOOKING}/cancel",
    body=Cancellation,
    response=BookingOut,
    tag="bookings",
)
def cancel_booking(booking_id: int, body: Cancellation) -> BookingOut:
    """Cancel a member's booking with a reason; the slot is free again.

    A booking already over, cancelled or released is refused (422). Stewards only; audited.
    """
    with transaction() as db:
        booking = bookings.get_booking(db, booking_id)
        with audited(
            db,
            action="booking.cancel",
            target=f"booking:{booking.id}",
            row=booking,
            fields=STATE_FIELDS,
        ):
            bookings.cancel_booking(
                db, booking.id, by_member_id=current_member().id, reason=body.reason
            )
        row = booking_rows.booking_row(db, booking)
    return booking_out(row)


def booking_out(row: booking_rows.BookingRow) -> BookingOut:
    """Return a booking with its holder's member number."""
    booking = row.booking
    return BookingOut(
        id=booking.id,
        resource_id=booking.resource_id,
        member_id=booking.member_id,
        member_number=row.member_number,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        status=booking.status,
        cancelled_at=booking.cancelled_at,
        cancel_reason=booking.cancel_reason,
    )
