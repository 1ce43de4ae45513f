"""Bookable machines and their bookings: add and change machines, close and reopen days, pause
and resume them, issue their calendar links; a steward may cancel a booking with a reason and
lift a member's booking pause.

The hub's services check the role and write the audit entries; these views only translate.
"""

from __future__ import annotations

from datetime import timedelta

from flask import url_for
from sqlmodel import Session

from dashboard.auth import acting_member
from dashboard.database import reading, transaction
from hub import bookings
from hub.bookings.attendance import PausedMember
from hub.bookings.hours import at_local, local_day
from hub.bookings.models import Booking, HolderChoice, Resource
from hub.infra.clock import utcnow
from hub.members.roster import get_member
from hub.queries import bookings as booking_rows

from .blueprint import api
from .bookings_schemas import (
    CalendarLink,
    ClosedDayOut,
    ClosedDayQuery,
    ClosingDay,
    HoldersOutcome,
    NewCalendarLink,
    PausedList,
    PausedMemberOut,
    PauseLifting,
    Pausing,
    ResourceChange,
    ResourceCreate,
    ResourceDetail,
    Resuming,
    paused_member_out,
    resource_detail,
)
from .schemas import BookingList, BookingOut, BookingRange, Cancellation, ResourceList, ResourceOut

RESOURCE = "<int(min=1, max=2147483647):resource_id>"
BOOKING = "<int(min=1, max=2147483647):booking_id>"
MEMBER = "<int(min=1, max=2147483647):member_id>"


@api.operation("GET", "/resources", response=ResourceList, tag="bookings")
def list_resources() -> ResourceList:
    """List the bookable machines and benches, by name.

    Stewards only, like the bookings they lead to.
    """
    with reading() as db:
        found = bookings.list_resources(db)
    return ResourceList(
        resources=[
            ResourceOut(
                id=r.id,
                code=r.code,
                name=r.name,
                timezone=r.timezone,
                paused=r.paused,
                site=r.site,
            )
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
        booking = bookings.cancel_member_booking(
            db, acting_member(), booking_id, reason=body.reason
        )
        row = booking_rows.booking_row(db, booking)
    return booking_out(row)


@api.operation(
    "POST",
    "/resources",
    body=ResourceCreate,
    response=ResourceDetail,
    status=201,
    refusals=(409,),
    tag="bookings",
)
def add_resource(body: ResourceCreate) -> ResourceDetail:
    """Add a bookable machine with its rules and opening hours.

    A code in use is refused (409), so a repeated request adds nothing. Opening intervals must
    end after they start (422 naming `opening_hours.<day>`); the longest booking must be a whole
    number of slots. Stewards only; audited.
    """
    fields = body.model_dump(exclude_none=True)
    opening = fields.pop("opening_hours", None)
    with transaction() as db:
        added = bookings.register_resource(db, acting_member(), opening_hours=opening, **fields)
        return detail_of(db, added)


@api.operation(
    "PATCH",
    f"/resources/{RESOURCE}",
    body=ResourceChange,
    response=ResourceDetail,
    tag="bookings",
)
def change_resource(resource_id: int, body: ResourceChange) -> ResourceDetail:
    """Change a machine: only the fields sent change; existing bookings stay as they are.

    Opening hours sent replace the whole week (days left out are closed). Stewards only; audited.
    """
    changes = body.model_dump(exclude_unset=True)
    opening = changes.pop("opening_hours", None)
    for nullable in ("training", "tool_code", "site"):
        if nullable in changes and changes[nullable] is None:
            changes[nullable] = ""
    changes = {k: v for k, v in changes.items() if v is not None}
    with transaction() as db:
        changed = bookings.update_rules(
            db, acting_member(), resource_id, opening_hours=opening, **changes
        )
        return detail_of(db, changed)


@api.operation(
    "POST",
    f"/resources/{RESOURCE}/closed-days",
    body=ClosingDay,
    response=HoldersOutcome,
    tag="bookings",
)
def close_day(resource_id: int, body: ClosingDay) -> HoldersOutcome:
    """Close a machine for a whole local day, keeping or cancelling the bookings that day.

    `bookings` says which, and `outcome` says what was done; each holder sees it on their
    bookings. Closing a closed day again changes nothing. Stewards only; audited.
    """
    choice = HolderChoice(body.bookings)
    with transaction() as db:
        touched = bookings.close_day(
            db, acting_member(), resource_id, body.day, holders=choice, reason=body.reason
        )
        return outcome_of(db, resource_id, choice, touched)


@api.operation(
    "DELETE",
    f"/resources/{RESOURCE}/closed-days",
    query=ClosedDayQuery,
    response=HoldersOutcome,
    tag="bookings",
)
def reopen_day(resource_id: int, query: ClosedDayQuery) -> HoldersOutcome:
    """Open a closed day again; bookings kept through the closing are told they go ahead.

    Bookings the closing cancelled stay cancelled. A day that is not closed changes nothing.
    Stewards only; audited.
    """
    with transaction() as db:
        bookings.reopen_day(db, acting_member(), resource_id, query.day)
        return outcome_of(db, resource_id, None, [], done="Open again on that day.")


@api.operation(
    "POST",
    f"/resources/{RESOURCE}/pause",
    body=Pausing,
    response=HoldersOutcome,
    tag="bookings",
)
def pause_resource(resource_id: int, body: Pausing) -> HoldersOutcome:
    """Stop new bookings of a machine, keeping or cancelling its future bookings.

    `bookings` says which, and `outcome` says what was done; each holder sees it on their
    bookings. Pausing again with the same reason changes nothing. Stewards only; audited.
    """
    choice = HolderChoice(body.bookings)
    with transaction() as db:
        touched = bookings.pause_resource(
            db, acting_member(), resource_id, body.reason, holders=choice
        )
        return outcome_of(db, resource_id, choice, touched)


@api.operation(
    "POST",
    f"/resources/{RESOURCE}/resume",
    body=Resuming,
    response=HoldersOutcome,
    tag="bookings",
)
def resume_resource(resource_id: int, body: Resuming) -> HoldersOutcome:
    """Let a paused machine be booked again; holders of kept bookings are told they go ahead.

    Resuming a machine that is not paused changes nothing. Stewards only; audited.
    """
    with transaction() as db:
        told = bookings.resume_resource(db, acting_member(), resource_id, reason=body.reason)
        done = f"Bookable again; {len(told)} holder(s) told their booking goes ahead."
        return outcome_of(db, resource_id, None, told, done=done)


@api.operation(
    "POST",
    f"/resources/{RESOURCE}/calendar-link",
    body=NewCalendarLink,
    response=CalendarLink,
    status=201,
    tag="bookings",
)
def issue_calendar_link(resource_id: int, body: NewCalendarLink) -> CalendarLink:
    """Make a new private link to the machine's busy-time calendar (no names in it).

    The link is shown only in this answer (the hub keeps its hash); the earlier link stops
    working. Stewards only; audited.
    """
    with transaction() as db:
        token = bookings.issue_resource_feed(db, acting_member(), resource_id)
    link = url_for("tablet.calendar_feed", token=token, _external=True)
    return CalendarLink(resource_id=resource_id, url=link)


@api.operation("GET", "/booking-pauses", response=PausedList, tag="bookings")
def list_booking_pauses() -> PausedList:
    """List the members whose booking rights are paused now (after no-shows), soonest end first.

    Stewards only.
    """
    with reading() as db:
        rows = bookings.paused_members(db)
    return PausedList(paused=[paused_member_out(row) for row in rows])


@api.operation(
    "POST",
    f"/members/{MEMBER}/booking-pause/lift",
    body=PauseLifting,
    response=PausedMemberOut,
    tag="bookings",
)
def lift_booking_pause(member_id: int, body: PauseLifting) -> PausedMemberOut:
    """End a member's booking pause now, so they may book again; answers the lifted pause.

    A member whose booking rights are not paused is refused (422). Stewards only; audited.
    """
    with transaction() as db:
        pause = bookings.lift_booking_pause(db, acting_member(), member_id, reason=body.reason)
        member = get_member(db, member_id)
        return paused_member_out(PausedMember(pause, member))


def detail_of(db: Session, resource: Resource) -> ResourceDetail:
    """Return the resource as the API shows it, with its closed days from today on."""
    today = local_day(resource, utcnow())
    closed = [
        ClosedDayOut(day=c.day, reason=c.reason)
        for c in bookings.closed_days(db, resource.id, today)
    ]
    return resource_detail(resource, closed)


def outcome_of(
    db: Session,
    resource_id: int,
    choice: HolderChoice | None,
    touched: list[Booking],
    *,
    done: str | None = None,
) -> HoldersOutcome:
    """Return what a closing, pause or resume did to the machine and its bookings."""
    resource = bookings.get_resource(db, resource_id)
    said = done or bookings.describe_choice(choice or HolderChoice.KEEP, len(touched))
    return HoldersOutcome(
        resource=detail_of(db, resource),
        bookings=choice.value if choice else None,
        booking_ids=[b.id for b in touched if b.id is not None],
        outcome=said,
    )


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
