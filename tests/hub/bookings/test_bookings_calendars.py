"""Private iCalendar feeds: parse with icalendar, match the bookings, hide members, replace."""

import pytest
from icalendar import Calendar
from sqlmodel import select

from hub.bookings import (
    cancel_booking,
    feed_for_token,
    issue_member_feed,
    issue_resource_feed,
)
from hub.errors import NotFound
from hub.infra.audit import AuditEntry
from hub.infra.db import reading, transaction
from hub.members.ranks import OPERATOR
from tests.hub.bookings import test_bookings as world
from tests.hub.bookings.test_bookings import NOW, at, book, day

space = world.space  # the same fixture: a laser cutter and three members


def read_feed(engine, token) -> Calendar:
    with reading(engine) as session:
        return Calendar.from_ical(feed_for_token(session, token, now=NOW))


def test_member_feed_holds_exactly_their_active_bookings(space):
    engine, laser, ada, grace, _ = space
    first = book(engine, laser, ada, at(day(1), "10:00"), at(day(1), "11:00"))
    second = book(engine, laser, ada, at(day(2), "14:00"), at(day(2), "14:30"))
    dropped = book(engine, laser, ada, at(day(3), "09:00"), at(day(3), "09:30"))
    book(engine, laser, grace, at(day(1), "12:00"), at(day(1), "13:00"))
    with transaction(engine) as session:
        cancel_booking(session, dropped.id, by_member_id=ada, now=NOW)
        token = issue_member_feed(session, ada, now=NOW)
    events = read_feed(engine, token).events
    assert [(e.uid, e.start, e.end) for e in events] == [
        (f"booking-{b.id}@commonshed", b.starts_at, b.ends_at) for b in (first, second)
    ]
    assert {str(e["SUMMARY"]) for e in events} == {"Laser cutter booking"}


def test_resource_feed_shows_busy_time_without_who(space):
    engine, laser, ada, grace, _ = space
    book(engine, laser, ada, at(day(1), "10:00"), at(day(1), "11:00"))
    book(engine, laser, grace, at(day(1), "12:00"), at(day(1), "13:00"))
    with transaction(engine) as session:
        token = issue_resource_feed(session, OPERATOR, laser, now=NOW)
        entry = session.exec(select(AuditEntry).where(AuditEntry.action != "")).all()[-1]
        assert (entry.action, entry.target) == ("resource.feed_link", "resource:laser")
        assert token not in (entry.after or "")
        feed = feed_for_token(session, token, now=NOW)
    events = Calendar.from_ical(feed).events
    assert [(e.start, e.end) for e in events] == [
        (at(day(1), "10:00"), at(day(1), "11:00")),
        (at(day(1), "12:00"), at(day(1), "13:00")),
    ]
    for private in (b"Ada", b"Grace", b"Lovelace", b"1001", b"1002", b"DEADBEEF"):
        assert private not in feed


def test_a_replaced_or_unknown_token_opens_nothing(space):
    engine, laser, ada, _, _ = space
    with transaction(engine) as session:
        old = issue_member_feed(session, ada, now=NOW)
        new = issue_member_feed(session, ada, now=NOW)  # a new link revokes the old one
    assert len(read_feed(engine, new).events) == 0
    with pytest.raises(NotFound, match="No calendar feed has that link"):
        read_feed(engine, old)
    with pytest.raises(NotFound):
        read_feed(engine, "not-a-token")
