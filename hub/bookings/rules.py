"""The rules a booking must keep; each refusal names its rule and when the request would pass."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select
from sqlmodel.sql.expression import SelectOfScalar

from hub.bookings.hours import (
    Interval,
    describe_day,
    describe_minutes,
    describe_moment,
    describe_span,
    local,
    local_day,
    opening_intervals,
    slot_starts,
    week_start,
)
from hub.bookings.models import ACTIVE_STATUSES, Booking, BookingPause, Resource
from hub.bookings.refusals import BookingRefused, BookingRightsPaused, SlotTaken
from hub.bookings.resources import (
    LONGEST_BOOKING_MINUTES,
    closure_of,
    closures_between,
    require_available,
)
from hub.errors import InvalidInput
from hub.infra.clock import as_utc
from hub.members.roster import Member, require_active, require_training

# How far ahead "next possible" looks before giving up and saying nothing.
LOOKAHEAD_DAYS = 28


@dataclass(frozen=True)
class Request:
    """A booking asked of a resource by a member, at ``now``; ``replacing`` is a moved booking."""

    resource: Resource
    member: Member
    starts_at: datetime
    ends_at: datetime
    now: datetime
    replacing: int | None = None

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


def checked_times(starts_at: datetime, ends_at: datetime) -> tuple[datetime, datetime]:
    """Return the times in UTC, refusing a booking of zero or negative length."""
    starts_at, ends_at = as_utc(starts_at), as_utc(ends_at)
    if ends_at <= starts_at:
        raise InvalidInput(
            f"A booking must end after it starts; {ends_at:%H:%M} is not after {starts_at:%H:%M}.",
            field="ends_at",
        )
    return starts_at, ends_at


def check_every_rule(session: Session, request: Request) -> None:
    """Refuse the request at the first rule it breaks, cheapest checks first."""
    require_not_past(request)
    require_available(session, request.resource)
    require_length(request)
    interval = require_open(session, request)
    require_aligned(request, interval)
    require_member_may_book(session, request)
    require_weekly_allowance(session, request)
    require_future_allowance(session, request)
    require_free(session, request)


def require_not_past(request: Request) -> None:
    """Refuse a start before the slot that is under way now."""
    slot = timedelta(minutes=request.resource.slot_minutes)
    if request.starts_at <= request.now - slot:
        raise BookingRefused(
            f"{describe_moment(request.resource, request.starts_at)} is in the past; "
            f"bookings can start from the slot under way now "
            f"({describe_moment(request.resource, request.now)}).",
            rule="not_in_past",
            possible_from=request.now,
            field="starts_at",
        )


def require_length(request: Request) -> None:
    """Refuse a booking longer than the resource's longest single booking."""
    longest = request.resource.max_booking_minutes
    if request.minutes > longest:
        raise BookingRefused(
            f"{request.resource.name} allows at most {describe_minutes(longest)} per booking; "
            f"you asked for {describe_minutes(request.minutes)}. Book a shorter time.",
            rule="max_booking_length",
            field="ends_at",
        )


def require_open(session: Session, request: Request) -> Interval:
    """Return the opening interval holding the whole booking, or refuse and name the next one."""
    resource, day = request.resource, local_day(request.resource, request.starts_at)
    closure = closure_of(session, resource.id, day)
    if closure is None:
        for opens, closes in opening_intervals(resource, day):
            if opens <= request.starts_at and request.ends_at <= closes:
                return opens, closes
    after = next_opening(session, resource, request.starts_at, request.minutes)
    when = f"; next opening from {describe_moment(resource, after)}" if after else ""
    if closure is not None:
        why = f": {closure.reason}" if closure.reason else ""
        message = f"{resource.name} is closed on {describe_day(resource, request.starts_at)}{why}"
    else:
        message = (
            f"{resource.name} is open {_hours_of(resource, request.starts_at)}; "
            f"{describe_span(resource, request.starts_at, request.ends_at)} is outside them"
        )
    raise BookingRefused(
        message + when + ".", rule="opening_hours", possible_from=after, field="starts_at"
    )


def _hours_of(resource: Resource, moment: datetime) -> str:
    """Return e.g. "Sunday 10:00-16:00" or "never on Sunday" for the day of ``moment``."""
    day_name = describe_day(resource, moment).split()[0]
    hours = resource.opening_hours.get(day_name[:3].lower(), [])
    return f"{day_name} {', '.join(hours)}" if hours else f"never on {day_name}"


def require_aligned(request: Request, interval: Interval) -> None:
    """Refuse a booking that does not start and end on the resource's slot boundaries."""
    resource, opens = request.resource, interval[0]
    slot = timedelta(minutes=resource.slot_minutes)
    if (request.starts_at - opens) % slot or (request.ends_at - request.starts_at) % slot:
        later = opens + slot * -(-(request.starts_at - opens) // slot)
        raise BookingRefused(
            f"{resource.name} is booked in {resource.slot_minutes}-minute slots from "
            f"{local(resource, opens):%H:%M}; "
            f"{describe_span(resource, request.starts_at, request.ends_at)} does not fit them. "
            f"The next slot starts at {local(resource, later):%H:%M}.",
            rule="slot_alignment",
            possible_from=later,
            field="starts_at",
        )


def require_member_may_book(session: Session, request: Request) -> None:
    """Refuse a suspended member, paused booking rights, or a missing training."""
    require_active(request.member)
    pause = active_pause(session, request.member.id, request.now)
    if pause is not None:
        until = describe_moment(request.resource, pause.ends_at)
        raise BookingRightsPaused(
            f"Your booking rights are paused until {until}: {pause.reason}",
            rule="booking_rights",
            possible_from=pause.ends_at,
            field="member",
        )
    require_training(session, request.member, request.resource.training_id, now=request.now)


def active_pause(session: Session, member_id: int, now: datetime) -> BookingPause | None:
    """Return the member's booking pause in force at ``now``, if any."""
    return session.exec(
        select(BookingPause)
        .where(
            BookingPause.member_id == member_id,
            BookingPause.starts_at <= now,
            BookingPause.ends_at > now,
        )
        .order_by(BookingPause.ends_at.desc())
    ).first()


def require_weekly_allowance(session: Session, request: Request) -> None:
    """Refuse a booking that would take the member past the resource's hours per week."""
    resource = request.resource
    week = week_start(resource, request.starts_at)
    next_week = week_start(resource, week + timedelta(days=7, hours=12))
    used = _minutes_booked(session, request, week, next_week)
    allowed = resource.max_minutes_per_week
    if used + request.minutes > allowed:
        raise BookingRefused(
            f"{resource.name} allows {describe_minutes(allowed)} per member per week; "
            f"you have {describe_minutes(used) if used else 'nothing'} booked in the week of "
            f"{describe_day(resource, week)}; "
            f"next possible from {describe_day(resource, next_week)}.",
            rule="max_per_week",
            possible_from=next_week,
            field="starts_at",
        )


def _minutes_booked(session: Session, request: Request, since: datetime, until: datetime) -> int:
    """Return the minutes the member holds on the resource for bookings starting in a window."""
    bookings = session.exec(
        _members_active_bookings(request).where(
            Booking.starts_at >= since, Booking.starts_at < until
        )
    )
    return sum(booking.minutes for booking in bookings)


def require_future_allowance(session: Session, request: Request) -> None:
    """Refuse a booking past the resource's limit of upcoming bookings per member."""
    resource = request.resource
    upcoming = list(
        session.exec(
            _members_active_bookings(request)
            .where(Booking.ends_at > request.now)
            .order_by(Booking.ends_at)
        )
    )
    if len(upcoming) >= resource.max_future_bookings:
        first = upcoming[0]
        raise BookingRefused(
            f"{resource.name} allows {resource.max_future_bookings} upcoming bookings per member; "
            f"you have {len(upcoming)}; next possible once your booking "
            f"{describe_span(resource, first.starts_at, first.ends_at)} is over.",
            rule="max_future_bookings",
            possible_from=first.ends_at,
            field="starts_at",
        )


def _members_active_bookings(request: Request) -> SelectOfScalar[Booking]:
    """Return a query of the member's active bookings of the resource, less the one moved."""
    query = select(Booking).where(
        Booking.member_id == request.member.id,
        Booking.resource_id == request.resource.id,
        Booking.status.in_(ACTIVE_STATUSES),
    )
    if request.replacing is not None:
        query = query.where(Booking.id != request.replacing)
    return query


def require_free(session: Session, request: Request) -> None:
    """Refuse a time that overlaps another active booking, naming the next free start."""
    clash = overlapping(
        session,
        request.resource.id,
        request.starts_at,
        request.ends_at,
        replacing=request.replacing,
    )
    if clash:
        resource = request.resource
        after = next_free_start(
            session, resource, request.starts_at, request.minutes, replacing=request.replacing
        )
        when = f"; next free from {describe_moment(resource, after)}" if after else ""
        raise SlotTaken(
            f"{resource.name} is already taken "
            f"{describe_span(resource, clash[0].starts_at, clash[0].ends_at)}{when}.",
            possible_from=after,
        )


def overlapping(
    session: Session,
    resource_id: int,
    starts_at: datetime,
    ends_at: datetime,
    *,
    replacing: int | None = None,
) -> list[Booking]:
    """Return the active bookings of a resource that overlap ``[starts_at, ends_at)``."""
    query = select(Booking).where(
        Booking.resource_id == resource_id,
        Booking.status.in_(ACTIVE_STATUSES),
        # The lower bound lets the (resource_id, starts_at) index skip old bookings.
        Booking.starts_at > starts_at - timedelta(minutes=LONGEST_BOOKING_MINUTES),
        Booking.starts_at < ends_at,
        Booking.ends_at > starts_at,
    )
    if replacing is not None:
        query = query.where(Booking.id != replacing)
    return list(session.exec(query.order_by(Booking.starts_at)))


class Holdings:
    """Active bookings of one resource, sorted, answering "who holds this span?" by bisection.

    Active bookings of a resource never overlap, so sorted by start they are sorted by end too.
    """

    def __init__(self, bookings: list[Booking]) -> None:
        self.bookings = sorted(bookings, key=lambda booking: booking.starts_at)
        self.starts = [booking.starts_at for booking in self.bookings]
        self.ends = [booking.ends_at for booking in self.bookings]

    def holder(self, starts_at: datetime, ends_at: datetime) -> Booking | None:
        """Return the first booking overlapping ``[starts_at, ends_at)``, or None."""
        index = bisect_right(self.ends, starts_at)
        if index < len(self.bookings) and self.starts[index] < ends_at:
            return self.bookings[index]
        return None


def next_opening(
    session: Session, resource: Resource, after: datetime, minutes: int
) -> datetime | None:
    """Return the first slot start at or after ``after`` where the resource is open long enough."""
    return _first_start(session, resource, after, minutes, Holdings([]))


def next_free_start(
    session: Session,
    resource: Resource,
    after: datetime,
    minutes: int,
    *,
    replacing: int | None = None,
) -> datetime | None:
    """Return the first start at or after ``after`` that is open and free for ``minutes``."""
    horizon = after + timedelta(days=LOOKAHEAD_DAYS + 1)
    held = overlapping(session, resource.id, after, horizon, replacing=replacing)
    return _first_start(session, resource, after, minutes, Holdings(held))


def _first_start(
    session: Session, resource: Resource, after: datetime, minutes: int, held: Holdings
) -> datetime | None:
    """Return the first open slot start from ``after`` whose span no booking in ``held`` holds."""
    length, first_day = timedelta(minutes=minutes), local_day(resource, after)
    last_day = first_day + timedelta(days=LOOKAHEAD_DAYS - 1)
    closed = closures_between(session, resource.id, first_day, last_day)
    for offset in range(LOOKAHEAD_DAYS):
        day = first_day + timedelta(days=offset)
        for opens, closes in [] if day in closed else opening_intervals(resource, day):
            for start in slot_starts(resource, (opens, closes)):
                end = start + length
                if start >= after and end <= closes and held.holder(start, end) is None:
                    return start
    return None
