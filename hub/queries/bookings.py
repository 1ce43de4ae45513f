"""Bookings of the makerspace machines as people read them: today's, a machine's, a range."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select
from sqlmodel.sql.expression import Select

from hub.bookings.hours import local, local_day
from hub.bookings.models import Booking, Resource
from hub.infra.clock import utcnow
from hub.members.roster import Member


@dataclass(frozen=True)
class BookingRow:
    """A booking with its machine and member spelled out."""

    booking: Booking
    resource_code: str
    resource_name: str
    member_number: str
    member_name: str
    when: str  # in the machine's local time, "Tue 14 May 18:00-19:30"


def bookings_of_day(session: Session, *, now: datetime | None = None) -> list[BookingRow]:
    """Return bookings starting on today's local date at each machine, by start time."""
    now = now or utcnow()
    query = _joined().where(
        Booking.starts_at >= now - timedelta(days=1),
        Booking.starts_at < now + timedelta(days=1),
    )
    return [
        _row(*row)
        for row in session.exec(query.order_by(Booking.starts_at, Booking.id))
        if local_day(row[1], row[0].starts_at) == local_day(row[1], now)
    ]


def upcoming_bookings(
    session: Session, resource_id: int, *, now: datetime | None = None, limit: int = 50
) -> list[BookingRow]:
    """Return a machine's bookings from the start of yesterday on, soonest first."""
    since = (now or utcnow()) - timedelta(days=1)
    query = (
        _joined()
        .where(Booking.resource_id == resource_id, Booking.ends_at >= since)
        .order_by(Booking.starts_at)
        .limit(limit)
    )
    return [_row(*row) for row in session.exec(query)]


def bookings_between(
    session: Session, resource_id: int, starts_at: datetime, ends_at: datetime
) -> list[BookingRow]:
    """Return a machine's bookings of any status starting in ``[starts_at, ends_at)``."""
    query = _joined().where(
        Booking.resource_id == resource_id,
        Booking.starts_at >= starts_at,
        Booking.starts_at < ends_at,
    )
    return [_row(*row) for row in session.exec(query.order_by(Booking.starts_at, Booking.id))]


def booking_row(session: Session, booking: Booking) -> BookingRow:
    """Return ``booking`` with its machine and holder."""
    member = session.get(Member, booking.member_id)
    return _row(booking, session.get(Resource, booking.resource_id), member.number, member.name)


def _joined() -> Select[Booking, Resource, str, str]:
    return (
        select(Booking, Resource, Member.number, Member.name)
        .join(Resource, Resource.id == Booking.resource_id)
        .join(Member, Member.id == Booking.member_id)
    )


def _row(booking: Booking, resource: Resource, number: str, name: str) -> BookingRow:
    starts, ends = local(resource, booking.starts_at), local(resource, booking.ends_at)
    when = f"{starts:%a %d %b %H:%M}-{ends:%H:%M}"
    return BookingRow(booking, resource.code, resource.name, number, name, when)
