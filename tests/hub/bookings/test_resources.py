"""The steward's doors on bookable resources, on SQLite and PostgreSQL: each checks the role,
refuses by field, says what happens to the bookings it touches, and leaves its audit entry."""

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from hub.bookings import (
    Booking,
    BookingStatus,
    HolderChoice,
    Resource,
    ResourceClosure,
    bookings_of_member,
    close_day,
    create_booking,
    pause_resource,
    register_resource,
    reopen_day,
    resume_resource,
    update_rules,
)
from hub.errors import Conflict, InvalidInput
from hub.infra import audit
from hub.infra.db import reading, transaction
from hub.members.ranks import OPERATOR, NotSteward
from hub.members.roster import Member
from tests.hub.builders import a_member

LONDON = ZoneInfo("Europe/London")
MONDAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def at(day: date, clock: str) -> datetime:
    hours, minutes = map(int, clock.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=LONDON).astimezone(UTC)


@pytest.fixture
def shed(engine):
    """A laser cutter, a steward, a volunteer, and a member holding two Tuesday bookings."""
    with transaction(engine) as session:
        steward = a_member(session, "Sam Steward", roles="steward")
        volunteer = a_member(session, "Val Volunteer", roles="volunteer")
        ada = a_member(session, "Ada Lovelace")
        laser = register_resource(session, steward, code="laser", name="Laser cutter")
        tuesday = MONDAY + timedelta(days=1)
        held = [
            create_booking(
                session,
                resource_id=laser.id,
                member_id=ada.id,
                starts_at=at(tuesday, start),
                ends_at=at(tuesday, end),
                now=NOW,
            ).id
            for start, end in (("10:00", "11:00"), ("12:00", "13:00"))
        ]
    return engine, laser.id, steward.id, volunteer.id, ada.id, held


def member(session, member_id: int) -> Member:
    return session.get(Member, member_id)


def entries(engine, action: str) -> list[audit.AuditEntry]:
    with reading(engine) as session:
        return [e for e in audit.recent(session, target="resource:laser") if e.action == action]


def test_adding_a_machine_is_audited_as_created_by_the_steward(shed):
    engine, laser, steward, *_ = shed
    (entry,) = entries(engine, "resource.add")
    assert entry.actor_member_id == steward and entry.before is None
    after = json.loads(entry.after)
    assert after["code"] == "laser" and after["slot_minutes"] == 30
    assert after["opening_hours"]["mon"] == ["09:00-21:00"]


def test_a_volunteer_may_not_add_change_close_or_pause_a_machine(shed):
    engine, laser, _, volunteer, *_ = shed
    doors = [
        lambda s, v: register_resource(s, v, code="cnc", name="CNC"),
        lambda s, v: update_rules(s, v, laser, slot_minutes=60),
        lambda s, v: close_day(s, v, laser, MONDAY, holders=HolderChoice.KEEP, now=NOW),
        lambda s, v: pause_resource(s, v, laser, "mine", holders=HolderChoice.KEEP, now=NOW),
        lambda s, v: resume_resource(s, v, laser, now=NOW),
        lambda s, v: reopen_day(s, v, laser, MONDAY, now=NOW),
    ]
    for door in doors:
        with pytest.raises(NotSteward, match="needs an active steward"):
            with transaction(engine) as session:
                door(session, member(session, volunteer))
    assert len(entries(engine, "resource.add")) == 1 and not entries(engine, "resource.edit")


def test_editing_names_the_wrong_field_and_keeps_the_machine_as_it_was(shed):
    engine, laser, steward, *_ = shed
    bad = [
        ({"slot_minutes": 0}, "slot_minutes"),
        ({"opening_hours": {"wed": ["17:00-09:00"]}}, "opening_hours.wed"),
        ({"name": "   "}, "name"),
        ({"checkin_grace_minutes": 241}, "checkin_grace_minutes"),
    ]
    for changes, field in bad:
        with pytest.raises(InvalidInput) as refusal:
            with transaction(engine) as session:
                update_rules(session, member(session, steward), laser, **changes)
        assert refusal.value.field == field
    with reading(engine) as session:
        assert session.get(Resource, laser).slot_minutes == 30
    assert not entries(engine, "resource.edit")


def test_editing_changes_only_what_is_named_and_audits_before_and_after(shed):
    engine, laser, steward, *_ = shed
    with transaction(engine) as session:
        changed = update_rules(
            session,
            member(session, steward),
            laser,
            name="Laser cutter (big)",
            slot_minutes=60,
            opening_hours={"sat": ["10:00-12:00", "13:00-16:00"]},
        )
        assert changed.max_booking_minutes == 120 and changed.opening_hours["mon"] == []
    (entry,) = entries(engine, "resource.edit")
    before, after = json.loads(entry.before), json.loads(entry.after)
    assert (before["slot_minutes"], after["slot_minutes"]) == (30, 60)
    assert after["name"] == "Laser cutter (big)"
    assert after["opening_hours"]["sat"] == ["10:00-12:00", "13:00-16:00"]


@pytest.mark.parametrize("holders", list(HolderChoice))
def test_closing_a_day_with_bookings_keeps_or_cancels_them_as_chosen(shed, holders):
    engine, laser, steward, _, ada, held = shed
    tuesday = MONDAY + timedelta(days=1)
    with transaction(engine) as session:
        touched = close_day(
            session,
            member(session, steward),
            laser,
            tuesday,
            holders=holders,
            reason="Open day",
            now=NOW,
        )
    assert sorted(b.id for b in touched) == sorted(held)
    with reading(engine) as session:
        shown = [row.booking for row in bookings_of_member(session, ada, now=NOW)]
    if holders is HolderChoice.CANCEL:
        assert {b.status for b in shown} == {BookingStatus.CANCELLED}
        assert shown[0].cancel_reason == "Laser cutter is closed on Tuesday 2026-11-24: Open day."
        assert {b.cancelled_by for b in shown} == {steward}
    else:
        assert {b.status for b in shown} == {BookingStatus.BOOKED}
        assert "closed on Tuesday 2026-11-24: Open day. Your booking" in shown[0].notice
    (entry,) = entries(engine, "resource.close_day")
    after = json.loads(entry.after)
    assert after["bookings"] == holders.value and sorted(after["booking_ids"]) == sorted(held)
    assert after["day"] == "2026-11-24" and entry.before is None


def test_closing_a_closed_day_again_changes_nothing_and_reopening_tells_kept_holders(shed):
    engine, laser, steward, _, ada, _ = shed
    tuesday = MONDAY + timedelta(days=1)
    for _ in range(2):  # a double submit
        with transaction(engine) as session:
            close_day(
                session,
                member(session, steward),
                laser,
                tuesday,
                holders=HolderChoice.KEEP,
                now=NOW,
            )
    assert len(entries(engine, "resource.close_day")) == 1
    with transaction(engine) as session:
        assert reopen_day(session, member(session, steward), laser, tuesday, now=NOW)
        assert reopen_day(session, member(session, steward), laser, tuesday, now=NOW) is None
    with reading(engine) as session:
        assert not session.exec(select(ResourceClosure)).all()
        notice = bookings_of_member(session, ada, now=NOW)[0].booking.notice
    assert notice.startswith("Laser cutter is open again: your booking Tuesday 2026-11-24 10:00")
    (entry,) = entries(engine, "resource.reopen_day")
    assert json.loads(entry.before)["day"] == "2026-11-24"


def test_a_past_day_cannot_be_closed(shed):
    engine, laser, steward, *_ = shed
    with pytest.raises(InvalidInput, match="in the past") as refusal:
        with transaction(engine) as session:
            close_day(
                session,
                member(session, steward),
                laser,
                MONDAY - timedelta(days=1),
                holders=HolderChoice.KEEP,
                now=NOW,
            )
    assert refusal.value.field == "day"


def test_pausing_and_cancelling_tells_holders_and_resuming_lets_booking_again(shed):
    engine, laser, steward, _, ada, held = shed
    with transaction(engine) as session:
        touched = pause_resource(
            session,
            member(session, steward),
            laser,
            "lens cracked",
            holders=HolderChoice.CANCEL,
            now=NOW,
        )
    assert sorted(b.id for b in touched) == sorted(held)
    with reading(engine) as session:
        shown = [row.booking for row in bookings_of_member(session, ada, now=NOW)]
    assert [b.cancel_reason for b in shown] == ["Laser cutter is paused: lens cracked."] * 2
    with transaction(engine) as session:
        told = resume_resource(session, member(session, steward), laser, now=NOW)
        assert told == []  # cancelled bookings are not told they go ahead
    (paused,) = entries(engine, "resource.pause")
    assert json.loads(paused.after) == {
        "paused": True,
        "paused_reason": "lens cracked",
        "bookings": "cancel",
        "booking_ids": held,
    }
    (resumed,) = entries(engine, "resource.resume")
    assert json.loads(resumed.after)["paused"] is False


def test_pausing_and_keeping_then_resuming_says_the_bookings_go_ahead(shed):
    engine, laser, steward, _, ada, held = shed
    for _ in range(2):  # a double submit pauses once
        with transaction(engine) as session:
            pause_resource(
                session,
                member(session, steward),
                laser,
                "fan service",
                holders=HolderChoice.KEEP,
                now=NOW,
            )
    assert len(entries(engine, "resource.pause")) == 1
    with transaction(engine) as session:
        told = resume_resource(session, member(session, steward), laser, now=NOW)
    assert sorted(b.id for b in told) == sorted(held)
    with reading(engine) as session:
        booking = session.get(Booking, held[0])
    assert booking.status == BookingStatus.BOOKED
    assert booking.notice.startswith("Laser cutter is back in service: your booking")


def test_a_code_in_use_is_a_conflict(shed):
    engine, *_ = shed
    with pytest.raises(Conflict, match="already exists") as refusal:
        with transaction(engine) as session:
            register_resource(session, OPERATOR, code="LASER", name="Another laser")
    assert refusal.value.field == "code"


def test_a_machine_says_its_site_audited_and_spelt_as_kiosks_sites_are(shed):
    engine, laser, steward, *_ = shed
    with transaction(engine) as session:
        lathe = register_resource(
            session, member(session, steward), code="lathe", name="Lathe", site=" south "
        )
        assert (lathe.site, lathe.label) == ("south", "Lathe · south")
        moved = update_rules(session, member(session, steward), laser, site="north")
        assert moved.label == "Laser cutter · north"
    with pytest.raises(InvalidInput) as refusal:
        with transaction(engine) as session:
            update_rules(session, member(session, steward), laser, site="no such/site")
    assert refusal.value.field == "site"
    with transaction(engine) as session:
        cleared = update_rules(session, member(session, steward), laser, site="")
        assert (cleared.site, cleared.label) == (None, "Laser cutter")
    first, second = entries(engine, "resource.edit")[::-1]
    assert (json.loads(first.before)["site"], json.loads(first.after)["site"]) == (None, "north")
    assert (json.loads(second.before)["site"], json.loads(second.after)["site"]) == ("north", None)
    with reading(engine) as session:
        (added,) = [e for e in audit.recent(session, target="resource:lathe")]
    assert json.loads(added.after)["site"] == "south"
