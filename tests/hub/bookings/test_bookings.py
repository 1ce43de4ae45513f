"""Booking rules on SQLite and PostgreSQL: every refusal names its rule and when it would pass."""

import threading
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from hub.bookings import (
    Booking,
    BookingRefused,
    BookingStatus,
    HolderChoice,
    ResourceUnavailable,
    SlotState,
    SlotTaken,
    add_resource,
    availability,
    bookings_of_member,
    cancel_booking,
    cancel_member_booking,
    close_day,
    create_booking,
    pause_resource,
    resume_resource,
    tell_holders_of_unavailable_resources,
    update_rules,
)
from hub.errors import InvalidInput, MemberSuspended, NotFound, TrainingRequired
from hub.infra import audit
from hub.infra.db import is_sqlite, reading, transaction
from hub.inventory.registry import take_out_of_service
from hub.members.ranks import OPERATOR, NotSteward
from hub.members.roster import Member, add_training, grant_training
from hub.members.standing import suspend_member
from tests.fixtures.waiting import wait_until
from tests.hub.builders import a_kiosk, a_member, a_tool

LONDON = ZoneInfo("Europe/London")
MONDAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday 08:00 in London (GMT in November)


def at(day: date, clock: str) -> datetime:
    """Return the UTC moment of ``clock`` (HH:MM) on ``day`` in London."""
    hours, minutes = map(int, clock.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=LONDON).astimezone(UTC)


def day(offset: int) -> date:
    return MONDAY + timedelta(days=offset)


@pytest.fixture
def space(engine):
    """A laser cutter (30-min slots, 2 h per booking, 2 h a week, 3 upcoming) and two members."""
    with transaction(engine) as session:
        laser = add_resource(
            session,
            code="laser",
            name="Laser cutter",
            opening_hours={d: ["09:00-21:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
            | {"sat": ["10:00-16:00"]},
            slot_minutes=30,
            max_booking_minutes=120,
            max_minutes_per_week=120,
            max_future_bookings=3,
            checkin_grace_minutes=15,
        )
        ada = a_member(session, "Ada Lovelace", uid="DEADBEEF")
        grace = a_member(session, "Grace Hopper", uid="CAFEF00D")
        steward = a_member(session, "Sam Steward", roles="steward")
    return engine, laser.id, ada.id, grace.id, steward.id


def book(engine, resource_id, member_id, starts, ends, now=NOW) -> Booking:
    with transaction(engine) as session:
        return create_booking(
            session,
            resource_id=resource_id,
            member_id=member_id,
            starts_at=starts,
            ends_at=ends,
            now=now,
        )


def count_bookings(engine) -> int:
    with reading(engine) as session:
        return session.exec(select(func.count()).select_from(Booking)).one()


def test_booking_a_free_slot_shows_it_mine_to_me_and_taken_to_others(space):
    engine, laser, ada, grace, _ = space
    booking = book(engine, laser, ada, at(day(1), "10:00"), at(day(1), "11:00"))
    assert booking.status == BookingStatus.BOOKED
    with reading(engine) as session:
        mine = availability(session, laser, day(1), member_id=ada, now=NOW)[0].slots
        theirs = availability(session, laser, day(1), member_id=grace, now=NOW)[0].slots
    by_start = {slot.starts_at: slot for slot in mine}
    assert by_start[at(day(1), "10:00")].state == SlotState.MINE
    assert by_start[at(day(1), "10:30")].booking_id == booking.id
    assert by_start[at(day(1), "11:00")].state == SlotState.FREE
    taken = [slot for slot in theirs if slot.state == SlotState.TAKEN]
    assert [slot.starts_at for slot in taken] == [at(day(1), "10:00"), at(day(1), "10:30")]
    assert all(slot.booking_id is None for slot in taken)  # nothing about the holder
    assert len(mine) == 24  # 09:00 to 21:00 in half hours


def test_overlap_is_refused_naming_the_next_free_time_and_nothing_is_written(space):
    engine, laser, ada, grace, _ = space
    book(engine, laser, ada, at(day(1), "10:00"), at(day(1), "11:00"))
    with pytest.raises(SlotTaken, match="already taken Tuesday 2026-11-24 10:00-11:00") as refusal:
        book(engine, laser, grace, at(day(1), "10:30"), at(day(1), "11:30"))
    assert "next free from Tuesday 2026-11-24 11:00" in refusal.value.message
    assert refusal.value.possible_from == at(day(1), "11:00")
    assert count_bookings(engine) == 1


def test_back_to_back_bookings_do_not_overlap(space):
    engine, laser, ada, grace, _ = space
    book(engine, laser, ada, at(day(1), "10:00"), at(day(1), "11:00"))
    assert book(engine, laser, grace, at(day(1), "11:00"), at(day(1), "12:00")).id is not None


@pytest.mark.parametrize(
    ("starts", "ends", "error", "rule", "words"),
    [
        (at(day(0), "06:00"), at(day(0), "06:30"), BookingRefused, "not_in_past", "in the past"),
        (at(day(1), "10:00"), at(day(1), "10:00"), InvalidInput, None, "must end after"),
        (at(day(1), "10:00"), at(day(1), "09:30"), InvalidInput, None, "must end after"),
        (
            at(day(1), "07:00"),
            at(day(1), "08:00"),
            BookingRefused,
            "opening_hours",
            "next opening from Tuesday 2026-11-24 09:00",
        ),
        (
            at(day(6), "10:00"),
            at(day(6), "11:00"),
            BookingRefused,
            "opening_hours",
            "open never on Sunday",
        ),
        (
            at(day(5), "15:30"),
            at(day(5), "16:30"),
            BookingRefused,
            "opening_hours",
            "Saturday 10:00-16:00",
        ),
        (
            at(day(1), "10:10"),
            at(day(1), "10:40"),
            BookingRefused,
            "slot_alignment",
            "next slot starts at 10:30",
        ),
        (
            at(day(1), "10:00"),
            at(day(1), "10:45"),
            BookingRefused,
            "slot_alignment",
            "30-minute slots",
        ),
        (
            at(day(1), "10:00"),
            at(day(1), "12:30"),
            BookingRefused,
            "max_booking_length",
            "at most 2 hours per booking",
        ),
    ],
    ids=[
        "past",
        "zero-length",
        "negative",
        "too-early",
        "closed-sunday",
        "after-closing",
        "misaligned-start",
        "misaligned-length",
        "too-long",
    ],
)
def test_bad_times_are_refused_by_rule_and_nothing_is_written(
    space, starts, ends, error, rule, words
):
    engine, laser, ada, _, _ = space
    with pytest.raises(error, match=words) as refusal:
        book(engine, laser, ada, starts, ends)
    assert getattr(refusal.value, "rule", None) == rule
    assert refusal.value.field in ("starts_at", "ends_at")
    assert count_bookings(engine) == 0


def test_closed_day_is_refused_with_its_reason_and_shown_closed(space):
    engine, laser, ada, _, _ = space
    with transaction(engine) as session:
        close_day(
            session,
            OPERATOR,
            laser,
            day(2),
            holders=HolderChoice.KEEP,
            reason="Open day workshop",
            now=NOW,
        )
    with pytest.raises(BookingRefused, match="closed on Wednesday 2026-11-25: Open day") as no:
        book(engine, laser, ada, at(day(2), "10:00"), at(day(2), "11:00"))
    assert no.value.possible_from == at(day(3), "09:00")
    with reading(engine) as session:
        plan = availability(session, laser, day(2), now=NOW)[0]
    assert plan.slots == [] and plan.closed_reason == "Open day workshop"


def test_weekly_hours_say_what_is_booked_and_when_it_is_possible(space):
    engine, laser, ada, _, _ = space
    book(engine, laser, ada, at(day(1), "10:00"), at(day(1), "11:30"))
    with pytest.raises(BookingRefused) as refusal:
        book(engine, laser, ada, at(day(2), "10:00"), at(day(2), "11:00"))
    assert refusal.value.message == (
        "Laser cutter allows 2 hours per member per week; you have 1.5 hours booked in the week "
        "of Monday 2026-11-23; next possible from Monday 2026-11-30."
    )
    assert refusal.value.rule == "max_per_week"
    assert refusal.value.possible_from == at(day(7), "00:00")
    # The half hour left this week, and next week, are still bookable.
    book(engine, laser, ada, at(day(2), "10:00"), at(day(2), "10:30"))
    book(engine, laser, ada, at(day(7), "10:00"), at(day(7), "11:00"))


def test_upcoming_bookings_are_limited_until_the_first_is_over(space):
    engine, laser, ada, _, _ = space
    for offset in (0, 7, 14):
        book(engine, laser, ada, at(day(1 + offset), "10:00"), at(day(1 + offset), "10:30"))
    with pytest.raises(BookingRefused, match="3 upcoming bookings per member") as refusal:
        book(engine, laser, ada, at(day(22), "10:00"), at(day(22), "10:30"))
    assert refusal.value.possible_from == at(day(1), "10:30")
    later = at(day(1), "10:30")  # once the first booking is over, another may be made
    book(engine, laser, ada, at(day(22), "10:00"), at(day(22), "10:30"), now=later)


def test_training_is_required_and_suspended_members_cannot_book(space):
    engine, _, ada, grace, _ = space
    with transaction(engine) as session:
        add_training(session, code="laser", name="Laser induction")
        router = add_resource(session, code="cnc", name="CNC router", training="laser")
        suspend_member(session, OPERATOR, grace, "unpaid repairs")
        grant_training(session, grace, "laser", now=NOW)
    with pytest.raises(TrainingRequired, match="has not done the laser training"):
        book(engine, router.id, ada, at(day(1), "10:00"), at(day(1), "10:30"))
    with pytest.raises(MemberSuspended, match="suspended: unpaid repairs"):
        book(engine, router.id, grace, at(day(1), "10:00"), at(day(1), "10:30"))
    with transaction(engine) as session:
        grant_training(session, ada, "laser", now=NOW)
    assert book(engine, router.id, ada, at(day(1), "10:00"), at(day(1), "10:30")).id
    assert count_bookings(engine) == 1


def test_pausing_a_resource_blocks_new_bookings_and_tells_holders(space):
    engine, laser, ada, grace, _ = space
    booking = book(engine, laser, ada, at(day(1), "10:00"), at(day(1), "11:00"))
    with transaction(engine) as session:
        told = pause_resource(
            session, OPERATOR, laser, "lens cracked", holders=HolderChoice.KEEP, now=NOW
        )
    assert [b.id for b in told] == [booking.id]
    with pytest.raises(ResourceUnavailable, match="Laser cutter is paused: lens cracked"):
        book(engine, laser, grace, at(day(1), "12:00"), at(day(1), "13:00"))
    with reading(engine) as session:
        shown = bookings_of_member(session, ada, now=NOW)
    assert "paused: lens cracked" in shown[0].booking.notice
    assert "Tuesday 2026-11-24 10:00-11:00 may not go ahead" in shown[0].booking.notice
    with transaction(engine) as session:
        resume_resource(session, OPERATOR, laser, now=NOW)
    assert book(engine, laser, grace, at(day(1), "12:00"), at(day(1), "13:00")).id


def test_a_linked_tool_out_of_service_blocks_bookings_and_the_sweep_tells_holders(space):
    engine, _, ada, grace, _ = space
    with transaction(engine) as session:
        a_kiosk(session)
        drill = a_tool(session, "PRESS-1")
        press = add_resource(session, code="press", name="Drill press", tool_code="PRESS-1")
    booking = book(engine, press.id, ada, at(day(1), "10:00"), at(day(1), "11:00"))
    with transaction(engine) as session:
        take_out_of_service(session, drill.id, "belt snapped")
    with pytest.raises(ResourceUnavailable, match="Drill press is out of service: belt snapped"):
        book(engine, press.id, grace, at(day(2), "10:00"), at(day(2), "11:00"))
    with transaction(engine) as session:
        told = tell_holders_of_unavailable_resources(session, now=NOW)
        again = tell_holders_of_unavailable_resources(session, now=NOW)
    assert [b.id for b in told] == [booking.id] and again == []
    assert "out of service: belt snapped" in told[0].notice


def test_cancelling_frees_the_slot_only_for_the_holder_or_a_steward_with_reason(space):
    engine, laser, ada, grace, steward = space
    first = book(engine, laser, ada, at(day(1), "10:00"), at(day(1), "11:00"))
    with pytest.raises(BookingRefused, match="belongs to another member"):
        with transaction(engine) as session:
            cancel_booking(session, first.id, by_member_id=grace, now=NOW)
    with transaction(engine) as session:
        cancelled = cancel_booking(session, first.id, by_member_id=ada, now=NOW)
    assert cancelled.status == BookingStatus.CANCELLED and cancelled.cancelled_by == ada
    second = book(engine, laser, grace, at(day(1), "10:00"), at(day(1), "11:00"))
    with pytest.raises(BookingRefused, match="a steward from the steward pages"):
        with transaction(engine) as session:
            cancel_booking(session, second.id, by_member_id=steward, reason="x", now=NOW)
    with transaction(engine) as session:
        sam = session.get(Member, steward)
        with pytest.raises(InvalidInput, match="reason") as no_reason:
            cancel_member_booking(session, sam, second.id, reason="  ", now=NOW)
    assert no_reason.value.field == "reason"
    with transaction(engine) as session:
        sam = session.get(Member, steward)
        cancel_member_booking(session, sam, second.id, reason="Machine service", now=NOW)
    with reading(engine) as session:
        shown = bookings_of_member(session, grace, now=NOW)[0].booking
        entry = audit.recent(session, target=f"booking:{second.id}")[0]
    assert shown.cancel_reason == "Machine service" and shown.cancelled_by == steward
    assert (entry.action, entry.actor_member_id) == ("booking.cancel", steward)
    assert '"status": "booked"' in entry.before and '"status": "cancelled"' in entry.after
    with pytest.raises(BookingRefused, match="is cancelled"):
        with transaction(engine) as session:
            cancel_booking(session, second.id, by_member_id=grace, now=NOW)


def test_a_member_who_is_not_a_steward_may_not_cancel_anothers_booking(space):
    engine, laser, ada, grace, _ = space
    booking = book(engine, laser, ada, at(day(1), "10:00"), at(day(1), "11:00"))
    with pytest.raises(NotSteward, match="needs an active steward"):
        with transaction(engine) as session:
            cancel_member_booking(
                session, session.get(Member, grace), booking.id, reason="mine now", now=NOW
            )
    with reading(engine) as session:
        assert session.get(Booking, booking.id).status == BookingStatus.BOOKED


def test_unknown_resource_and_member_are_not_found(space):
    engine, laser, ada, _, _ = space
    with pytest.raises(NotFound, match="Resource 999"):
        book(engine, 999, ada, at(day(1), "10:00"), at(day(1), "11:00"))
    with pytest.raises(NotFound, match="Member 999"):
        book(engine, laser, 999, at(day(1), "10:00"), at(day(1), "11:00"))


def test_the_database_itself_refuses_overlap_on_postgresql(space, monkeypatch):
    """Even if every service check were skipped, PostgreSQL's exclusion constraint holds."""
    engine, laser, ada, grace, _ = space
    if is_sqlite(engine):
        pytest.skip("SQLite relies on BEGIN IMMEDIATE; test_bookings_races covers it")
    book(engine, laser, ada, at(day(1), "10:00"), at(day(1), "11:00"))
    monkeypatch.setattr("hub.bookings.schedule.check_every_rule", lambda session, request: None)
    with pytest.raises(SlotTaken, match="just booked by someone else"):
        book(engine, laser, grace, at(day(1), "10:30"), at(day(1), "11:30"))
    with pytest.raises(IntegrityError, match="booking_no_overlap"):
        with Session(engine) as session, session.begin():
            session.add(
                Booking(
                    resource_id=laser,
                    member_id=grace,
                    starts_at=at(day(1), "10:00"),
                    ends_at=at(day(1), "10:30"),
                )
            )
    assert count_bookings(engine) == 1


def test_a_booking_that_loses_a_deadlock_on_postgresql_is_slot_taken(space):
    """A racer chosen as a deadlock's victim is told the slot was taken, not a database error.

    Grace's booking locks her member row, then waits on Ada's uncommitted overlapping booking;
    Ada's transaction then asks for Grace's row: PostgreSQL ends one of the two. Ada's side waits
    30 s before looking for deadlocks, so Grace's (1 s, the default) is the one chosen.
    """
    engine, laser, ada, grace, _ = space
    if is_sqlite(engine):
        pytest.skip("SQLite has one writer at a time: no deadlock to lose")
    waiting, outcome = threading.Event(), {}

    def grace_books() -> None:
        waiting.set()
        try:
            book(engine, laser, grace, at(day(1), "10:30"), at(day(1), "11:30"))
            outcome["grace"] = "booked"
        except SlotTaken as refusal:
            outcome["grace"] = refusal

    with engine.connect() as adas:
        adas.exec_driver_sql("SET deadlock_timeout = '30s'")
        adas.execute(
            Booking.__table__.insert().values(
                resource_id=laser,
                member_id=ada,
                starts_at=at(day(1), "10:00"),
                ends_at=at(day(1), "11:00"),
                status=BookingStatus.BOOKED,
                created_at=NOW,
            )
        )
        racer = threading.Thread(target=grace_books)
        racer.start()
        waiting.wait(10)
        wait_until(lambda: blocked_backends(engine) >= 1, 30, "Grace's booking waiting on Ada's")
        adas.exec_driver_sql(f"SELECT id FROM member WHERE id = {grace} FOR UPDATE")
        adas.commit()
    racer.join(30)
    assert isinstance(outcome.get("grace"), SlotTaken), outcome
    assert count_bookings(engine) == 1


def blocked_backends(engine) -> int:
    """Count the other connections waiting on a lock."""
    with engine.connect() as connection:
        return connection.exec_driver_sql(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE wait_event_type = 'Lock' AND datname = current_database()"
        ).scalar_one()


def test_the_database_refuses_a_booking_that_ends_before_it_starts(space):
    engine, laser, ada, _, _ = space
    with pytest.raises(IntegrityError):
        with Session(engine) as session, session.begin():
            session.add(
                Booking(
                    resource_id=laser,
                    member_id=ada,
                    starts_at=at(day(1), "11:00"),
                    ends_at=at(day(1), "10:00"),
                )
            )


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"slot_minutes": 0}, "slot_minutes"),
        ({"max_booking_minutes": 45}, "max_booking_minutes"),  # not whole 30-minute slots
        ({"max_future_bookings": True}, "max_future_bookings"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"opening_hours": {"mon": ["21:00-09:00"]}}, "opening_hours.mon"),
        ({"opening_hours": {"tue": ["09:00-13:00", "12:00-17:00"]}}, "opening_hours.tue"),
        ({"opening_hours": {"funday": ["09:00-17:00"]}}, "opening_hours"),
        ({"code": "Laser Cutter!"}, "code"),
        ({"colour": 3}, "colour"),
    ],
)
def test_a_resource_with_bad_rules_is_refused_by_field(engine, options, field):
    with pytest.raises(InvalidInput) as refusal:
        with transaction(engine) as session:
            add_resource(session, **({"code": "laser", "name": "Laser cutter"} | options))
    assert refusal.value.field == field


def test_rules_can_change_and_apply_to_new_bookings(space):
    engine, laser, ada, _, _ = space
    with transaction(engine) as session:
        update_rules(
            session, OPERATOR, laser, max_booking_minutes=60, opening_hours={"tue": ["12:00-14:00"]}
        )
    with pytest.raises(BookingRefused, match="at most 1 hour per booking"):
        book(engine, laser, ada, at(day(1), "12:00"), at(day(1), "13:30"))
    with pytest.raises(BookingRefused, match="open Tuesday 12:00-14:00"):
        book(engine, laser, ada, at(day(1), "10:00"), at(day(1), "10:30"))
    assert book(engine, laser, ada, at(day(1), "12:00"), at(day(1), "13:00")).id
