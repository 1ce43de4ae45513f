"""Book, move and cancel; show a resource's slots and a member's bookings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from hub.bookings.hours import Interval, describe_span, opening_intervals, slot_starts
from hub.bookings.models import BOOKING_CANCEL, Booking, BookingStatus, Resource
from hub.bookings.refusals import BookingRefused, SlotTaken
from hub.bookings.resources import closures_between, get_resource
from hub.bookings.rules import (
    Holdings,
    Request,
    check_every_rule,
    checked_times,
    overlapping,
)
from hub.errors import NotFound
from hub.infra import audit
from hub.infra.clock import as_utc, utcnow
from hub.members.ranks import Actor, require_role
from hub.members.roster import NOTE_MAX, Member, Role, clean_text

EXCLUSION_VIOLATION = "23P01"  # PostgreSQL's SQLSTATE for a broken EXCLUDE constraint
# A racer that loses while waiting on another's row may also see one of these instead of 23P01:
# a deadlock or a serialization failure ends only the savepoint, and still means "taken".
LOST_RACE = frozenset({EXCLUSION_VIOLATION, "40P01", "40001"})


def create_booking(
    session: Session,
    *,
    resource_id: int,
    member_id: int,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime | None = None,
) -> Booking:
    """Book ``[starts_at, ends_at)`` of a resource for a member, checking every rule first.

    Raises InvalidInput (zero or negative length), NotFound (resource or member),
    MemberSuspended, TrainingRequired, BookingRefused and its kinds (which rule, and
    ``possible_from``), or SlotTaken (a Conflict) when the time overlaps another booking.
    """
    starts_at, ends_at = checked_times(starts_at, ends_at)
    resource, member = get_resource(session, resource_id), _locked_member(session, member_id)
    now = as_utc(now or utcnow())
    check_every_rule(session, Request(resource, member, starts_at, ends_at, now))
    booking = Booking(
        resource_id=resource.id,
        member_id=member.id,
        starts_at=starts_at,
        ends_at=ends_at,
        created_at=now,
    )
    _hold_slot(session, booking, resource)
    return booking


def cancel_booking(
    session: Session,
    booking_id: int,
    *,
    by_member_id: int,
    reason: str | None = None,
    now: datetime | None = None,
) -> Booking:
    """Cancel one's own booking (the tablet's door); the slot is freed.

    A steward cancels a member's booking with :func:`cancel_member_booking`, which is audited.
    Raises NotFound, or BookingRefused (not the holder; already over or cancelled).
    """
    booking, now = _locked_booking(session, booking_id), as_utc(now or utcnow())
    resource = get_resource(session, booking.resource_id)
    _require_holder(booking, by_member_id, "cancel")
    _require_still_booked(booking, resource, now)
    _mark_cancelled(booking, by_member_id, reason, now)
    session.add(booking)
    session.flush()
    return booking


def cancel_member_booking(
    session: Session,
    actor: Actor,
    booking_id: int,
    *,
    reason: str,
    now: datetime | None = None,
) -> Booking:
    """Cancel a member's booking as a steward, with the reason the member sees; audited.

    A checked-in booking may be cancelled too (the machine must stop); one already over,
    cancelled or released may not. Raises NotSteward, NotFound, InvalidInput (no reason) or
    BookingRefused.
    """
    require_role(actor, Role.STEWARD, "cancel a member's booking")
    reason = clean_text(reason, "reason", limit=NOTE_MAX)
    booking, now = _locked_booking(session, booking_id), as_utc(now or utcnow())
    resource = get_resource(session, booking.resource_id)
    if booking.status != BookingStatus.CHECKED_IN or booking.ends_at <= now:
        _require_still_booked(booking, resource, now)
    with audit.audited(session, actor, BOOKING_CANCEL, booking, f"booking:{booking.id}"):
        _mark_cancelled(booking, actor.id, reason, now)
        session.add(booking)
    return booking


def _mark_cancelled(
    booking: Booking, by_member_id: int | None, reason: str | None, now: datetime
) -> None:
    booking.status, booking.cancelled_at = BookingStatus.CANCELLED, now
    booking.cancelled_by = by_member_id
    booking.cancel_reason = clean_text(reason, "reason", limit=NOTE_MAX, required=False)


def get_booking(session: Session, booking_id: int) -> Booking:
    """Return booking ``booking_id`` or refuse."""
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise NotFound(f"Booking {booking_id} does not exist.", field="booking_id")
    return booking


def _locked_booking(session: Session, booking_id: int) -> Booking:
    """Return a booking read afresh after locking its holder, so changes to it queue up."""
    booking = get_booking(session, booking_id)
    _locked_member(session, booking.member_id)
    session.refresh(booking, with_for_update=True)
    return booking


def _locked_member(session: Session, member_id: int) -> Member:
    """Return the member, row-locked on PostgreSQL so one member's bookings queue up.

    The weekly and upcoming limits count a member's bookings; without the lock two concurrent
    bookings by one member could each see room for themselves. SQLite's BEGIN IMMEDIATE already
    serialises writers, and ignores FOR UPDATE.
    """
    member = session.exec(select(Member).where(Member.id == member_id).with_for_update()).first()
    if member is None:
        raise NotFound(f"Member {member_id} does not exist.", field="member_id")
    return member


def _require_holder(booking: Booking, by_member_id: int, doing: str) -> None:
    """Refuse anyone but the booking's holder (a steward acts through the audited doors)."""
    if by_member_id != booking.member_id:
        raise BookingRefused(
            f"Booking {booking.id} belongs to another member; only they, or a steward from the "
            f"steward pages, may {doing} it.",
            rule="holder_only",
            field="member_id",
        )


def _require_still_booked(booking: Booking, resource: Resource, now: datetime) -> None:
    """Refuse a change to a booking that is over, checked in, cancelled or released."""
    span = describe_span(resource, booking.starts_at, booking.ends_at)
    if booking.status != BookingStatus.BOOKED:
        state = booking.status.replace("_", " ")
        raise BookingRefused(
            f"Booking {span} is {state}; it cannot be changed.",
            rule="still_booked",
            field="booking_id",
        )
    if booking.ends_at <= now:
        raise BookingRefused(
            f"Booking {span} is over; it cannot be changed.",
            rule="still_booked",
            field="booking_id",
        )


def _hold_slot(
    session: Session,
    booking: Booking,
    resource: Resource,
    *,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> None:
    """Write the booking (moved to new times, if given) in a savepoint; a lost race on
    PostgreSQL's exclusion is a SlotTaken."""
    moving = starts_at is not None and ends_at is not None
    starts_at, ends_at = starts_at or booking.starts_at, ends_at or booking.ends_at
    # NOTE: the refusal is worded before the write: a lost race expires the booking's fields.
    taken = (
        f"{resource.name} was just booked by someone else for part of "
        f"{describe_span(resource, starts_at, ends_at)}."
    )
    try:
        # The move happens inside the savepoint, so a lost race undoes only the savepoint.
        with session.begin_nested():
            if moving:
                booking.starts_at, booking.ends_at, booking.notice = starts_at, ends_at, None
            session.add(booking)
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) not in LOST_RACE:
            raise
        raise SlotTaken(taken) from None


# --- what the tablet shows ----------------------------------------------------------------


class SlotState(StrEnum):
    FREE = "free"
    TAKEN = "taken"
    MINE = "mine"
    PAST = "past"


@dataclass(frozen=True)
class Slot:
    """One slot of a resource; ``booking_id`` only for the viewer's own booking."""

    starts_at: datetime
    ends_at: datetime
    state: SlotState
    booking_id: int | None = None


@dataclass(frozen=True)
class DayPlan:
    """One local day of a resource: its slots, or why it is closed."""

    day: date
    slots: list[Slot]
    closed_reason: str | None = None


def availability(
    session: Session,
    resource_id: int,
    first_day: date,
    days: int = 1,
    *,
    member_id: int | None = None,
    now: datetime | None = None,
) -> list[DayPlan]:
    """Return a resource's slots for ``days`` local days: free, taken, mine or past.

    Taken slots carry no booking id and no member: nobody sees who holds another's slot.
    """
    resource, now = get_resource(session, resource_id), as_utc(now or utcnow())
    dates = [first_day + timedelta(days=n) for n in range(days)]
    closed = closures_between(session, resource.id, dates[0], dates[-1])
    hours = {day: [] if day in closed else opening_intervals(resource, day) for day in dates}
    spans = [interval for day in dates for interval in hours[day]]
    held = Holdings(overlapping(session, resource.id, spans[0][0], spans[-1][1]) if spans else [])
    return [
        DayPlan(
            day,
            _slots(resource, hours[day], held, member_id, now),
            closed.get(day) or (None if hours[day] else "closed"),
        )
        for day in dates
    ]


def _slots(
    resource: Resource,
    intervals: list[Interval],
    held: Holdings,
    member_id: int | None,
    now: datetime,
) -> list[Slot]:
    """Return a slot for each slot start of the day's opening intervals."""
    step = timedelta(minutes=resource.slot_minutes)
    return [
        _slot(start, start + step, held.holder(start, start + step), member_id, now)
        for interval in intervals
        for start in slot_starts(resource, interval)
    ]


def _slot(
    starts_at: datetime,
    ends_at: datetime,
    holder: Booking | None,
    member_id: int | None,
    now: datetime,
) -> Slot:
    """Return one slot's state as the viewer may see it."""
    if holder is not None and member_id is not None and holder.member_id == member_id:
        return Slot(starts_at, ends_at, SlotState.MINE, holder.id)
    if holder is not None:
        return Slot(starts_at, ends_at, SlotState.TAKEN)
    if ends_at <= now:
        return Slot(starts_at, ends_at, SlotState.PAST)
    return Slot(starts_at, ends_at, SlotState.FREE)


@dataclass(frozen=True)
class MemberBooking:
    booking: Booking
    resource: Resource


def bookings_of_member(
    session: Session, member_id: int, *, now: datetime | None = None, recent_days: int = 7
) -> list[MemberBooking]:
    """Return a member's bookings that end after ``recent_days`` ago, soonest first."""
    since = as_utc(now or utcnow()) - timedelta(days=recent_days)
    rows = session.exec(
        select(Booking, Resource)
        .join(Resource, Resource.id == Booking.resource_id)
        .where(Booking.member_id == member_id, Booking.ends_at > since)
        .order_by(Booking.starts_at)
    )
    return [MemberBooking(booking, resource) for booking, resource in rows]
