"""The booking tablet through Flask's test client, on SQLite and PostgreSQL."""

import re
from datetime import UTC, datetime

from icalendar import Calendar
from sqlalchemy import func
from sqlmodel import select

from hub.bookings import Booking, BookingStatus, pause_booking_rights, update_rules
from hub.infra.db import reading, transaction
from hub.members.ranks import OPERATOR
from hub.members.standing import suspend_member
from tests.dashboard import tablet_fixtures as fixtures
from tests.dashboard.tablet_fixtures import csrf_token, identify_by_pin, post

database_content, tablet_world, tablet_clock, tablet_app = (
    fixtures.database_content,
    fixtures.tablet_world,
    fixtures.tablet_clock,
    fixtures.tablet_app,
)
tablet, other_tablet = fixtures.tablet, fixtures.other_tablet

TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC).isoformat()
TUESDAY = "2026-11-24"


def text(response) -> str:
    return response.get_data(as_text=True)


def bookings_in(engine) -> list[Booking]:
    with reading(engine) as session:
        return list(session.exec(select(Booking).order_by(Booking.id)))


def book_tuesday_10(client, minutes: int = 30, **extra):
    return post(
        client,
        "/tablet/bookings",
        {"resource": "laser", "start": TUESDAY_10, "minutes": str(minutes)} | extra,
    )


def test_identify_screen_waits_for_a_card_or_a_pin(tablet):
    page = text(tablet.get("/tablet/"))
    assert 'id="card-uid"' in page and "autofocus" in page
    assert 'name="pin"' in page and 'inputmode="numeric"' in page


def test_a_pin_identifies_and_a_wrong_one_does_not(tablet):
    wrong = identify_by_pin(tablet, "1001", "0000")
    assert wrong.status_code == 401 and "not recognised" in text(wrong)
    assert "Pick a machine" not in text(tablet.get("/tablet/"))
    right = identify_by_pin(tablet, "1001", "2468", follow_redirects=True)
    assert "Pick a machine" in text(right) and "Laser cutter" in text(right)
    assert "Ada Lovelace" in text(right)  # her own name, so she knows it is her session


def test_a_card_from_the_usb_reader_identifies(tablet):
    unknown = post(tablet, "/tablet/identify/card", {"uid": "01020304"})
    assert unknown.status_code == 404 and "not known" in text(unknown)
    known = post(tablet, "/tablet/identify/card", {"uid": "deadbeef"}, follow_redirects=True)
    assert "Pick a machine" in text(known)


def test_a_suspended_member_cannot_identify(tablet, tablet_world, engine):
    with transaction(engine) as session:
        suspend_member(session, OPERATOR, tablet_world.ada_id, "unreturned sander")
    refused = identify_by_pin(tablet, "1001", "2468")
    assert refused.status_code == 403 and "unreturned sander" in text(refused)


def test_two_taps_book_a_slot_that_others_see_only_as_taken(tablet, other_tablet, engine):
    identify_by_pin(tablet, "1001", "2468")
    day = text(tablet.get(f"/tablet/machines/laser?day={TUESDAY}"))
    first_tap = re.search(r'href="(/tablet/machines/laser/confirm\?start=[^"]+)"', day).group(1)
    confirm = text(tablet.get(first_tap.replace("&amp;", "&")))
    assert "Confirm booking" in confirm and "09:00" in confirm
    second_tap = post(
        tablet,
        "/tablet/bookings",
        {
            "resource": "laser",
            "start": re.search(r'name="start" value="([^"]+)"', confirm)[1],
            "minutes": "30",
        },
        follow_redirects=True,
    )
    assert "Booked: Laser cutter, Tuesday 24 November 09:00-09:30." in text(second_tap)
    assert 'class="slot mine"' in text(second_tap)
    identify_by_pin(other_tablet, "1002", "1357")
    seen = text(other_tablet.get(f"/tablet/machines/laser?day={TUESDAY}"))
    assert re.search(r'class="slot taken"[^>]*><span class="time">09:00', seen)
    assert "Ada" not in seen and "Lovelace" not in seen and "1001" not in seen
    assert [b.member_id for b in bookings_in(engine)] == [1]


def test_week_view_shows_seven_day_tabs_and_the_chosen_day(tablet):
    identify_by_pin(tablet, "1001", "2468")
    week = text(tablet.get(f"/tablet/machines/laser?day={TUESDAY}&view=week"))
    assert week.count('<a class="weekday') == 7 and 'data-day="2026-11-23"' in week  # from Monday
    assert week.count('<section class="day"') == 1 and "Tuesday 24 November" in week


def test_a_forged_member_id_is_refused_and_nothing_is_written(tablet, tablet_world, engine):
    identify_by_pin(tablet, "1001", "2468")
    forged = book_tuesday_10(tablet, member_id=str(tablet_world.grace_id))
    assert forged.status_code == 403 and "never from the form" in text(forged)
    assert bookings_in(engine) == []


def test_a_post_without_csrf_token_is_refused_and_nothing_is_written(tablet, engine):
    identify_by_pin(tablet, "1001", "2468")
    bare = tablet.post(
        "/tablet/bookings", data={"resource": "laser", "start": TUESDAY_10, "minutes": "30"}
    )
    assert bare.status_code == 400 and "CSRF" in text(bare)
    assert bookings_in(engine) == []


def test_refusals_say_which_rule_and_when_it_would_be_possible(tablet, engine):
    identify_by_pin(tablet, "1001", "2468")
    assert book_tuesday_10(tablet, minutes=120).status_code == 302
    over = post(
        tablet,
        "/tablet/bookings",
        {"resource": "laser", "start": "2026-11-25T10:00:00+00:00", "minutes": "90"},
    )
    assert over.status_code == 422
    assert "allows 3 hours per member per week; you have 2 hours booked" in text(over)
    assert "next possible from Monday 2026-11-30" in text(over)
    assert "Show Monday 30 November" in text(over)
    taken = book_tuesday_10(tablet)
    assert taken.status_code == 409 and "already taken" in text(taken)
    past = post(
        tablet,
        "/tablet/bookings",
        {"resource": "laser", "start": "2026-11-20T10:00:00+00:00", "minutes": "30"},
    )
    assert past.status_code == 422 and "in the past" in text(past)
    assert len(bookings_in(engine)) == 1


def test_my_bookings_cancel_frees_the_slot(tablet, other_tablet, engine):
    identify_by_pin(tablet, "1001", "2468")
    book_tuesday_10(tablet)
    mine = text(tablet.get("/tablet/mine"))
    booking_id = bookings_in(engine)[0].id
    assert "Laser cutter" in mine and f"/tablet/bookings/{booking_id}/cancel" in mine
    identify_by_pin(other_tablet, "1002", "1357")
    refused = post(other_tablet, f"/tablet/bookings/{booking_id}/cancel", follow_redirects=True)
    assert "belongs to another member" in text(refused)
    assert bookings_in(engine)[0].status == BookingStatus.BOOKED
    done = post(tablet, f"/tablet/bookings/{booking_id}/cancel", follow_redirects=True)
    assert "Cancelled: Laser cutter, Tuesday 24 November 10:00-10:30." in text(done)
    assert bookings_in(engine)[0].status == BookingStatus.CANCELLED
    assert book_tuesday_10(other_tablet).status_code == 302


def test_the_tablet_forgets_an_idle_member_on_the_server_too(tablet, tablet_clock):
    identify_by_pin(tablet, "1001", "2468")
    tablet_clock.advance(seconds=89)
    assert "My bookings" in text(tablet.get("/tablet/mine"))
    tablet_clock.advance(seconds=91)
    gone = tablet.get("/tablet/mine", follow_redirects=True)
    assert "Tap your card" in text(gone) and "Signed out after 90 seconds" in text(gone)


def test_done_signs_out_at_once(tablet):
    identify_by_pin(tablet, "1001", "2468")
    left = post(tablet, "/tablet/leave", follow_redirects=True)
    assert "Tap your card" in text(left)
    assert tablet.get("/tablet/mine").status_code == 302


def test_paused_booking_rights_are_shown_with_their_reason(tablet, tablet_world, engine):
    with transaction(engine) as session:
        pause_booking_rights(
            session,
            tablet_world.ada_id,
            until=datetime(2026, 12, 7, 9, 0, tzinfo=UTC),
            reason="3 no-shows in 30 days without checking in.",
            now=fixtures.MONDAY_MORNING,
        )
    identify_by_pin(tablet, "1001", "2468")
    page = text(tablet.get("/tablet/"))
    assert "paused until Monday 07 December 09:00: 3 no-shows" in page
    refused = book_tuesday_10(tablet)
    assert refused.status_code == 403 and "booking rights are paused" in text(refused)


def test_calendar_link_serves_my_bookings_and_a_new_link_revokes_the_old(tablet, engine):
    identify_by_pin(tablet, "1001", "2468")
    book_tuesday_10(tablet)
    first = re.search(
        r"http://localhost(/tablet/calendars/[^<]+\.ics)",
        text(post(tablet, "/tablet/calendar-link")),
    )[1]
    feed = tablet.get(first)
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    events = Calendar.from_ical(feed.data).events
    assert [e.start.isoformat() for e in events] == [TUESDAY_10]
    second = re.search(
        r"http://localhost(/tablet/calendars/[^<]+\.ics)",
        text(post(tablet, "/tablet/calendar-link")),
    )[1]
    assert tablet.get(first).status_code == 404
    assert tablet.get(second).status_code == 200


def test_csrf_token_is_on_every_tablet_form(tablet):
    identify_by_pin(tablet, "1001", "2468")
    book_tuesday_10(tablet)
    for path in ("/tablet/", "/tablet/mine", f"/tablet/machines/laser/confirm?start={TUESDAY_10}"):
        page = text(tablet.get(path.replace("+", "%2B")))
        assert page.count('method="post"') == page.count('name="csrf_token"'), path
    assert csrf_token(tablet)


def test_nothing_is_counted_twice(engine, tablet):
    identify_by_pin(tablet, "1001", "2468")
    book_tuesday_10(tablet)
    book_tuesday_10(tablet)
    with reading(engine) as session:
        assert session.exec(select(func.count()).select_from(Booking)).one() == 1


def test_a_card_tap_at_booking_time_checks_the_booking_in(tablet, tablet_clock, engine):
    identify_by_pin(tablet, "1001", "2468")
    assert book_tuesday_10(tablet).status_code == 302
    post(tablet, "/tablet/leave")
    early = post(tablet, "/tablet/identify/card", {"uid": "DEADBEEF"}, follow_redirects=True)
    assert "Checked in" not in text(early)  # Monday: nothing due yet
    assert [b.status for b in bookings_in(engine)] == [BookingStatus.BOOKED]
    post(tablet, "/tablet/leave")
    tablet_clock.moment = datetime(2026, 11, 24, 9, 55, tzinfo=UTC)
    tap = post(tablet, "/tablet/identify/card", {"uid": "DEADBEEF"}, follow_redirects=True)
    assert "Checked in: Laser cutter" in text(tap)
    assert [b.status for b in bookings_in(engine)] == [BookingStatus.CHECKED_IN]


def test_a_machine_s_site_shows_with_its_name_on_the_tablet_and_in_the_feed(
    tablet, tablet_world, engine
):
    with transaction(engine) as session:
        update_rules(session, OPERATOR, tablet_world.laser_id, site="south")
    identify_by_pin(tablet, "1001", "2468")
    every = text(tablet.get("/tablet/"))
    assert "Laser cutter · south" in every and "Sewing machine" in every
    assert "Sewing machine ·" not in every  # no site, no dot
    south = text(tablet.get("/tablet/?site=south"))  # the optional filter
    assert "Laser cutter · south" in south and "Sewing machine" not in south
    assert re.search(r'aria-current="page">south</a>', south)
    day = text(tablet.get(f"/tablet/machines/laser?day={TUESDAY}"))
    assert "<h1>Laser cutter · south</h1>" in day
    booked = book_tuesday_10(tablet)
    assert "Booked: Laser cutter · south, Tuesday 24 November 10:00-10:30." in text(
        tablet.get(booked.headers["Location"])
    )
    assert "Laser cutter · south" in text(tablet.get("/tablet/mine"))
    link = re.search(
        r"http://localhost(/tablet/calendars/[^<]+\.ics)",
        text(post(tablet, "/tablet/calendar-link")),
    )[1]
    (event,) = Calendar.from_ical(tablet.get(link).data).events
    assert str(event.get("summary")) == "Laser cutter · south booking"
