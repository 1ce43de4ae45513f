"""Machine bookings as people read them: today's, a machine's upcoming, a range of days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from hub.bookings import Booking, BookingStatus, add_resource
from hub.bookings.hours import at_local
from hub.infra.db import reading, transaction
from hub.queries.bookings import (
    booking_row,
    bookings_between,
    bookings_of_day,
    upcoming_bookings,
)
from tests.hub.builders import a_member

NOON = datetime(2026, 5, 12, 11, 0, tzinfo=UTC)  # a Tuesday, 12:00 in London (BST)


@pytest.fixture
def booked(engine):
    """A laser cutter in London with bookings yesterday evening, today (one a no-show) and
    tomorrow."""
    with transaction(engine) as session:
        member = a_member(session, "Ada Lovelace")
        laser = add_resource(session, code="laser", name="Laser cutter")
        for days, hour, status in (
            (-1, 18, "booked"),
            (0, 9, "no_show"),
            (0, 18, "booked"),
            (1, 9, "booked"),
        ):
            starts = at_local(laser, NOON.date() + timedelta(days=days), hour * 60)
            session.add(
                Booking(
                    resource_id=laser.id,
                    member_id=member.id,
                    starts_at=starts,
                    ends_at=starts + timedelta(minutes=90),
                    status=status,
                )
            )
        return engine, laser.id


def test_one_booking_row_serves_the_api_and_the_steward_pages(booked):
    """The API's rows (the member number) and the pages' (machine, member name, local time)
    were two shapes of one query; one row now carries both."""
    engine, laser = booked
    with reading(engine) as session:
        day = bookings_between(session, laser, *_day(NOON.date()))
        again = booking_row(session, day[0].booking)
    assert [(r.when, r.booking.status) for r in day] == [
        ("Tue 12 May 09:00-10:30", BookingStatus.NO_SHOW),
        ("Tue 12 May 18:00-19:30", BookingStatus.BOOKED),
    ]
    assert again == day[0]
    assert (again.resource_code, again.resource_name) == ("laser", "Laser cutter")
    assert (again.member_number, again.member_name) == ("1001", "Ada Lovelace")


def test_todays_bookings_are_the_machines_local_day(booked):
    engine, _ = booked
    with reading(engine) as session:
        today = bookings_of_day(session, now=NOON)
    assert [r.when for r in today] == ["Tue 12 May 09:00-10:30", "Tue 12 May 18:00-19:30"]


def test_upcoming_bookings_from_yesterday_on(booked):
    engine, laser = booked
    with reading(engine) as session:
        rows = upcoming_bookings(session, laser, now=NOON)
        first = upcoming_bookings(session, laser, now=NOON, limit=1)
    assert [r.when[:10] for r in rows] == ["Mon 11 May", "Tue 12 May", "Tue 12 May", "Wed 13 May"]
    assert first == rows[:1]


def _day(day: date):
    start = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=1)  # BST
    return start, start + timedelta(days=1)
